"""``anime-gan bench``: training/generation speed, FLOPs and sizes -> a JSON file and a table."""

import shlex
import sys
from functools import partial

import torch
from omegaconf import DictConfig, OmegaConf

from anime_gan.cli._hydra import stage


@stage("bench")
def main(cfg: DictConfig) -> None:
    from anime_gan.bench.suite import format_table, run_suite, write_json

    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    if cfg.matmul_precision:
        torch.set_float32_matmul_precision(cfg.matmul_precision)
    plain = OmegaConf.to_container(cfg, resolve=True)
    plain["command"] = shlex.join(["anime-gan", "bench", *sys.argv[1:]])
    result = run_suite(plain, say=partial(print, flush=True))
    result["config"] = {k: plain[k] for k in ("mode", "device", "threads", "models")}
    out = write_json(result, cfg.out)
    print(f"\n{format_table(result)}\n\nwrote {out}")
