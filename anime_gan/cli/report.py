"""``anime-gan report``: regenerate the paper's figures and tables for a checkpoint (index.md)."""

from pathlib import Path

from omegaconf import DictConfig

from anime_gan.cli._hydra import stage


def run(cfg: DictConfig) -> Path:
    """Build the report the config describes; returns the index.md path."""
    from anime_gan.data.tags import tag_index
    from anime_gan.reports.checkpoint import build_report

    for tag in cfg.sweep_tags:
        tag_index(tag)  # unknown tag names fail before any work
    return build_report(cfg)


@stage("report")
def main(cfg: DictConfig) -> None:
    print(f"report written: {run(cfg)}")
