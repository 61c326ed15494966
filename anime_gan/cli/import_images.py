"""``anime-gan import``: build a dataset from a folder or zip of images (+ a tags CSV)."""

import time

from omegaconf import DictConfig

from anime_gan.cli._hydra import stage
from anime_gan.data.summary import format_summary, summarize
from anime_gan.importer.stage import import_images
from anime_gan.reports.imports import format_report


@stage("import")
def main(cfg: DictConfig) -> None:
    """Import ``cfg.source`` into ``cfg.out`` and print what came in and what did not."""
    start = time.perf_counter()
    ds, report = import_images(
        cfg.source,
        cfg.out,
        cfg.resolution,
        tags_csv_path=cfg.tags,
        year_regex=cfg.year_regex,
        min_year=cfg.min_year,
        assume_complete=cfg.assume_complete,
        crop=cfg.crop,
        workers=cfg.workers,
        progress=cfg.progress,
        max_member_bytes=cfg.max_member_bytes,
        max_pixels=cfg.max_pixels,
    )
    summary = {**summarize(ds), "extra": {}}  # the report is printed readably, not as raw dicts
    print(format_summary(summary), format_report(report), sep="\n\n")
    print(f"wrote {cfg.out} in {time.perf_counter() - start:.1f} s")
