"""Image grids and contact sheets (PNG), shared by every stage that shows pictures."""

from __future__ import annotations

import math
import os
import textwrap
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont


def image_grid(
    images: np.ndarray, ncol: int | None = None, pad: int = 2, fill: int = 255
) -> np.ndarray:
    """Tile uint8 [N, H, W, 3] images into one uint8 [rows*H, ncol*W, 3] picture."""
    images = np.asarray(images)
    n, h, w, _ = images.shape
    ncol = ncol or math.ceil(math.sqrt(n))
    nrow = math.ceil(n / ncol)
    grid = np.full((nrow * (h + pad) + pad, ncol * (w + pad) + pad, 3), fill, dtype=np.uint8)
    for i, img in enumerate(images):
        r, c = divmod(i, ncol)
        y, x = pad + r * (h + pad), pad + c * (w + pad)
        grid[y : y + h, x : x + w] = img
    return grid


def labelled_grid(
    images: np.ndarray, ncol: int, row_labels: list[str], scale: int = 1
) -> Image.Image:
    """A grid with a text label at the left of each row."""
    img = Image.fromarray(image_grid(images, ncol=ncol))
    if scale > 1:
        img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
    margin = 80
    out = Image.new("RGB", (img.width + margin, img.height), "white")
    out.paste(img, (margin, 0))
    draw, font = ImageDraw.Draw(out), ImageFont.load_default()
    row_h = img.height / len(row_labels)
    for r, label in enumerate(row_labels):
        draw.text((4, int(r * row_h + row_h / 2 - 5)), label, fill="black", font=font)
    return out


def contact_sheet(
    images: np.ndarray,
    captions: Sequence[str],
    ncol: int = 8,
    cell: int = 96,
    caption_lines: int = 4,
    title: str | None = None,
) -> Image.Image:
    """A sheet of images, each scaled to ``cell`` px with a small caption under it.

    Captions wrap over up to ``caption_lines`` lines; numbering sheets this way makes a manual
    review (or a look at tags) quick.
    """
    images = np.asarray(images)
    font = ImageFont.load_default()
    line_h, cap_w = 11, cell + 40
    nrow = math.ceil(len(images) / ncol)
    top = 16 if title else 0
    cell_h = cell + caption_lines * line_h + 6
    sheet = Image.new("RGB", (ncol * cap_w + 4, top + nrow * cell_h + 4), "white")
    draw = ImageDraw.Draw(sheet)
    if title:
        draw.text((4, 2), title, fill="black", font=font)
    for i, (img, cap) in enumerate(zip(images, captions)):
        r, c = divmod(i, ncol)
        x, y = 4 + c * cap_w, top + 4 + r * cell_h
        tile = Image.fromarray(img).resize(
            (cell, cell), Image.NEAREST if img.shape[0] < cell else Image.LANCZOS
        )
        sheet.paste(tile, (x + (cap_w - cell) // 2 - 2, y))
        words = " ".join(cap.replace(",", ", ").split())  # tag lists wrap after their commas
        wrapped = textwrap.wrap(words, cap_w // 6, break_long_words=False, break_on_hyphens=False)
        for j, text in enumerate(wrapped[:caption_lines]):
            draw.text((x, y + cell + 2 + j * line_h), text, fill="black", font=font)
    return sheet


def save_png(image: Image.Image | np.ndarray, path: str | Path) -> Path:
    """Write a PNG atomically (temp file + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    img = image if isinstance(image, Image.Image) else Image.fromarray(np.asarray(image))
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    img.save(tmp, format="PNG")
    os.replace(tmp, path)
    return path
