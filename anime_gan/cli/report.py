"""``anime-gan report``: regenerate the paper's figures and tables for a checkpoint (index.md)."""

from omegaconf import DictConfig

from anime_gan.cli._hydra import stage


@stage("report")
def main(cfg: DictConfig) -> None:
    from anime_gan.reports.checkpoint import build_report

    print(f"report written: {build_report(cfg)}")
