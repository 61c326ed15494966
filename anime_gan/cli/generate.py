"""``anime-gan generate``: images, grids, interpolations and tag sweeps from a checkpoint
(:mod:`anime_gan.generate.stage`); config conf/generate.yaml."""

from omegaconf import DictConfig

from anime_gan.cli._hydra import stage


@stage("generate")
def main(cfg: DictConfig) -> None:
    from anime_gan.generate.stage import run

    paths = run(cfg)
    more = f" (and {len(paths) - 1} more files in {paths[-1].parent})" if len(paths) > 1 else ""
    print(f"wrote {paths[0]}{more}")
