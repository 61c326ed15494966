"""``anime-gan tag``: the 34 tags of every face crop with Illustration2Vec (conf/tag.yaml)."""

from omegaconf import DictConfig

from anime_gan.cli._hydra import log, stage
from anime_gan.tagging.stage import tag_folder


@stage("tag")
def main(cfg: DictConfig) -> None:
    """Tag ``cfg.input`` into ``cfg.out``; a rerun resumes where an interrupted one stopped."""
    run = tag_folder(
        cfg.input,
        cfg.out,
        cfg.weights,
        batch_size=cfg.batch_size,
        device=cfg.device,
        num_workers=cfg.num_workers,
        progress=cfg.progress,
        max_pixels=cfg.max_pixels,
    )
    log.info(
        "tagged %d images (%d already done, %d skipped as unreadable) into %s",
        run.tagged,
        run.already_done,
        len(run.skipped),
        run.out,
    )
