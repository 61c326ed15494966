"""The generate stage: images, grids, interpolations and tag sweeps from a checkpoint."""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from anime_gan.data.dataset import load_dataset
from anime_gan.data.tags import fixed_tags, tag_index
from anime_gan.errors import UserError
from anime_gan.generate import figures
from anime_gan.generate.memorization import memorization_sheet, nearest_training
from anime_gan.generate.sampling import Sampler
from anime_gan.outputs import GENERATE, check_output
from anime_gan.superres.model import load_upscaler, upscale_images
from anime_gan.viz import save_png

MODES = (
    "samples",
    "grid_random_tags",
    "grid_fixed_tags",
    "interpolate",
    "tag_sweep",
    "memorization",
)


def check_tags(cfg: DictConfig) -> list[str]:
    """The fixed tags; the mode and every tag name of the config are checked before any work."""
    if cfg.mode not in MODES:
        raise UserError(
            f"mode={cfg.mode!r} is not a generate mode: choose one of {', '.join(MODES)}."
        )
    tags = list(cfg.tags or [])
    fixed_tags(tags)  # unknown tag names: the schema's one-sentence error
    for row in cfg.fixed_rows or []:
        fixed_tags(list(row))
    if cfg.mode == "tag_sweep":
        tag_index(cfg.sweep_tag)
    if cfg.upscale and cfg.mode != "samples":
        raise UserError(
            f"upscale applies to mode=samples (each face file), not mode={cfg.mode}: "
            f"drop upscale, or upscale the pictures with `anime-gan upscale`."
        )
    return tags


def run(cfg: DictConfig) -> list[Path]:
    """Write the mode's files into ``cfg.out``; returns their paths (the main picture first)."""
    tags = check_tags(cfg)
    check_output(cfg.out, GENERATE)
    upscaler = load_upscaler(cfg.upscale)[0] if cfg.upscale else None
    sampler = Sampler.from_checkpoint(
        cfg.ckpt, ema=cfg.ema, device=cfg.device, batch_size=cfg.batch_size
    )
    out, seed = Path(cfg.out), cfg.seed
    if cfg.mode == "samples":
        images, sheet = figures.samples_sheet(sampler, cfg.n, tags, seed)
        faces = {"samples": images}
        if upscaler is not None:  # each face 2x, e.g. 128 -> 256 (anime_gan.superres)
            faces["samples_2x"] = upscale_images(upscaler, images)
        files = [
            save_png(img, out / folder / f"{seed:04d}_{k:03d}.png")
            for folder, batch in faces.items()
            for k, img in enumerate(batch)
        ]
        return [save_png(sheet, out / "samples.png"), *files]
    if cfg.mode == "grid_random_tags":
        grid = figures.random_tags_grid(sampler, cfg.rows, cfg.cols, seed)
        return [save_png(grid, out / "grid_random_tags.png")]
    if cfg.mode == "grid_fixed_tags":
        rows = [tags] if tags else None
        if cfg.fixed_rows:
            rows = OmegaConf.to_container(cfg.fixed_rows)
        grid = figures.fixed_tags_grid(sampler, rows, cfg.cols, seed)  # type: ignore[arg-type]
        return [save_png(grid, out / "grid_fixed_tags.png")]
    if cfg.mode == "interpolate":
        strip, frames = figures.interpolation(sampler, cfg.rows, cfg.steps, tags, seed)
        return [
            save_png(strip, out / "interpolation.png"),
            figures.save_gif(frames, out / "interpolation.gif"),
        ]
    if cfg.mode == "tag_sweep":
        grid = figures.tag_sweep(sampler, cfg.sweep_tag, cfg.steps, cfg.rows, seed)
        return [save_png(grid, out / f"sweep_{cfg.sweep_tag.replace(' ', '_')}.png")]
    # memorization: samples beside their nearest training images (pixel distance)
    train = load_dataset(cfg.data.path)
    images = sampler.images(sampler.noise(cfg.n, seed), sampler.conditions(cfg.n, tags, seed))
    index, dist = nearest_training(images, train, cfg.neighbours)
    return [save_png(memorization_sheet(images, train, index, dist), out / "memorization.png")]
