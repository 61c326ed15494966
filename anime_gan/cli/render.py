"""``anime-gan render``: write the procedural demo dataset (and optionally a contact sheet)."""

from __future__ import annotations

import time

from omegaconf import DictConfig

from anime_gan.cli._hydra import stage
from anime_gan.data.dataset import check_dataset_output, save_dataset
from anime_gan.data.summary import format_summary, summarize
from anime_gan.demo.render import render_dataset, write_sheet


@stage("render")
def main(cfg: DictConfig) -> None:
    """Render ``cfg.n`` faces, save them to ``cfg.out``, print the summary, draw the sheet."""
    check_dataset_output(cfg.out)  # before the work: a folder that is not a dataset is refused
    start = time.perf_counter()
    ds = render_dataset(cfg.n, cfg.resolution, cfg.seed, workers=cfg.workers)
    seconds = time.perf_counter() - start
    ds.info["report"] = {"render_seconds": round(seconds, 2)}
    out = save_dataset(ds, cfg.out)
    print(format_summary(summarize(ds)))
    print(f"wrote {len(ds)} faces ({ds.resolution}x{ds.resolution}) to {out} in {seconds:.1f} s")
    if cfg.sheet:
        write_sheet(ds, cfg.sheet)
        print(f"contact sheet: {cfg.sheet}")
