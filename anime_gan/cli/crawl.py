"""``anime-gan crawl``: download character images from Getchu (paper Appendix 8.1); config conf/crawl.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hydra.utils import instantiate
from omegaconf import DictConfig

from anime_gan.cli._hydra import stage
from anime_gan.crawl.pipeline import CrawlSettings, run_crawl


def settings_from_config(cfg: DictConfig) -> CrawlSettings:
    """The typed settings of a composed crawl config."""
    return CrawlSettings(
        out=Path(cfg.out),
        max_games=cfg.max_games,
        year_min=cfg.year_min,
        year_max=cfg.year_max,
        refresh_games=cfg.refresh_games,
        progress=cfg.progress,
        erogamescape=instantiate(cfg.erogamescape),
        getchu=instantiate(cfg.getchu),
        http=instantiate(cfg.http),
        images=instantiate(cfg.images),
    )


@stage("crawl")
def main(cfg: DictConfig) -> dict[str, Any]:
    """Run or resume the crawl; the summary is printed and saved as <out>/summary.json."""
    return run_crawl(settings_from_config(cfg))


if __name__ == "__main__":
    main()
