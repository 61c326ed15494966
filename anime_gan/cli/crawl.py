"""``anime-gan crawl``: download character images from Getchu (paper Appendix 8.1); config conf/crawl.yaml."""

from dataclasses import fields

from hydra.utils import instantiate
from omegaconf import DictConfig

from anime_gan.cli._hydra import stage
from anime_gan.crawl.pipeline import CrawlSettings, run_crawl


@stage("crawl")
def main(cfg: DictConfig) -> None:
    """Run or resume the crawl; the summary is printed and saved as <out>/summary.json."""
    options = {f.name: cfg[f.name] for f in fields(CrawlSettings)}
    # instantiate builds each section's settings class from its _target_
    run_crawl(CrawlSettings(**instantiate(options, _convert_="object")))
