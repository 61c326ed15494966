"""``anime-gan evaluate``: FID / KID / SWD and per-label precision of a checkpoint
(:mod:`anime_gan.metrics.evaluate`); config conf/evaluate.yaml."""

from pathlib import Path

from omegaconf import DictConfig

from anime_gan.cli._hydra import stage


@stage("evaluate")
def main(cfg: DictConfig) -> None:
    from anime_gan.metrics.evaluate import run

    run(cfg)
    print(f"wrote {Path(cfg.out) / 'metrics.json'}")
