"""``anime-gan detect``: character images -> 1.5x zoomed face crops; config conf/detect.yaml."""

from hydra.utils import instantiate
from omegaconf import DictConfig

from anime_gan.cli._hydra import stage
from anime_gan.faces.cascade import locate_cascade
from anime_gan.faces.detect import run_detect


@stage("detect")
def main(cfg: DictConfig) -> None:
    """Detect faces in every image of ``cfg.input`` not yet done in ``cfg.out``; say what was
    done in a few lines."""
    cascade = locate_cascade(**cfg.cascade)  # path, cache_dir, url, sha256, download
    result = run_detect(
        cfg.input,
        cfg.out,
        cascade,
        instantiate(cfg.detector),
        workers=cfg.workers,
        year_regex=cfg.year_regex,
        limit=cfg.limit,
        progress=cfg.progress,
        max_pixels=cfg.max_pixels,
    )
    print(
        f"{result.sources} images in the input, {result.already_done} already done, "
        f"{result.processed} processed now: {result.faces} faces cropped into {result.out}/crops"
    )
    if result.dropped_border or result.dropped_small:
        print(
            f"left out: {result.dropped_border} boxes leaving the image (border=skip), "
            f"{result.dropped_small} smaller than min_face"
        )
    if result.unreadable:
        shown = ", ".join(result.unreadable[:5]) + (" ..." if len(result.unreadable) > 5 else "")
        print(
            f"skipped {len(result.unreadable)} unreadable images: {shown} "
            f"(reasons in {result.out}/done.jsonl)"
        )
    if result.missing:
        print(f"{len(result.missing)} manifest entries have no file (e.g. {result.missing[0]})")
    print("next: `make review` to look for false positives, then `make tag` and `make dataset`")
