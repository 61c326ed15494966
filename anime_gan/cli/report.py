"""``anime-gan report``: regenerate the paper's figures and tables for a checkpoint (index.md)."""

from pathlib import Path

from omegaconf import DictConfig

from anime_gan.cli._hydra import stage


def run(cfg: DictConfig) -> Path:
    """Build the report the config describes; returns the index.md path."""
    from anime_gan.data.tags import tag_index
    from anime_gan.reports.checkpoint import ReportOptions, build_report

    options = {k: cfg[k] for k in ReportOptions.__dataclass_fields__ if k in cfg and k != "data"}
    opts = ReportOptions(
        data=str(cfg.data.path),
        val_fraction=cfg.data.val_fraction,
        split_seed=cfg.data.split_seed,
        **options,
    )
    opts.sweep_tags = tuple(opts.sweep_tags)
    for tag in opts.sweep_tags:
        tag_index(tag)  # unknown tag names fail before any work
    return build_report(opts)


@stage("report")
def main(cfg: DictConfig) -> None:
    print(f"report written: {run(cfg)}")
