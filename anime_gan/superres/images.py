"""Reading the images a user asks to upscale: one file or a folder, each checked with one clear error.

Own reader, not :func:`anime_gan.faces.detect.read_rgb`: that one composites transparency on
white, which an upscaler must not invent.

An upscaler needs RGB pixels as they are, so nothing is cropped or resized. Greyscale and
palette images without transparency become RGB without loss; an image with an alpha channel,
CMYK or any other channel layout is refused (one sentence naming the file and its channels).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError
from torch import nn

from anime_gan.errors import UserError
from anime_gan.limits import DEFAULT_MAX_PIXELS, check_pixels

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff")


def list_inputs(path: str | Path) -> list[Path]:
    """The image files to upscale: ``path`` itself, or the image files directly inside a folder."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"input {path} does not exist: give an image file or a folder of images.")
    if path.is_file():
        return [path]
    files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise UserError(
            f"folder {path} holds no image files ({', '.join(IMAGE_SUFFIXES)}): "
            f"give a folder of images or one image file."
        )
    return files


def read_rgb(path: str | Path) -> np.ndarray:
    """uint8 ``[H, W, 3]`` pixels of an image file, or a :class:`UserError` saying why not."""
    try:
        with Image.open(path) as image:
            check_pixels(image, DEFAULT_MAX_PIXELS)  # before decoding a huge picture
            image.load()
            transparent = "transparency" in image.info
            if image.mode in ("L", "P") and not transparent:  # one channel, a palette: no loss
                return np.asarray(image.convert("RGB"))
            if image.mode == "RGB":
                return np.asarray(image)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        reason = "not an image" if isinstance(e, UnidentifiedImageError) else f"unreadable ({e})"
        raise UserError(f"{path} is {reason}: give PNG/JPEG/WebP image files to upscale.") from None
    mode, channels = image.mode, len(image.getbands())  # alpha, CMYK or another layout
    if transparent:
        mode, channels = f"{mode} with transparency", channels + 1
    raise UserError(
        f"{path} has {channels} channel(s) ({mode}) but the upscaler takes 3-channel "
        f"RGB images: convert it to RGB first (e.g. flatten its transparency)."
    )


def upscale_files(model: nn.Module, inputs: list[Path], out: str | Path) -> list[Path]:
    """Upscale each input 2x into ``out/<name>.png`` (PNG: lossless); returns the written paths.

    Every input is read (and checked) before anything is written, so a bad file in a folder
    stops the command before it has half-done its job.
    """
    from anime_gan.superres.model import upscale_images
    from anime_gan.viz import save_png

    images = [read_rgb(p) for p in inputs]
    stems = [p.stem for p in inputs]
    if len(set(stems)) != len(stems):
        raise UserError(
            f"two inputs share a name ({min(s for s in stems if stems.count(s) > 1)}): "
            f"their outputs would overwrite each other; rename one."
        )
    return [
        save_png(upscale_images(model, pixels)[0], Path(out) / f"{stem}.png")
        for stem, pixels in zip(stems, images)
    ]
