"""The paper's generation figures from a :class:`~anime_gan.generate.sampling.Sampler`.

- :func:`random_tags_grid` (Fig. 8): each row one noise vector, each column random tags;
- :func:`fixed_tags_grid` (Fig. 9): each row one fixed condition, each column fresh noise;
- :func:`interpolation` (Fig. 15): linear paths between two (z, c), a PNG strip and a GIF;
- :func:`tag_sweep`: one tag's value from 0 to 1 at fixed noise and fixed other tags.

Each returns a Pillow image (and the GIF frames where there are some); the CLI saves them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import IO

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from anime_gan.data.tags import (
    EXCLUSIVE_GROUPS,
    INDEPENDENT,
    TAG_NAMES,
    fixed_tags,
    group_of,
    tag_index,
)
from anime_gan.generate.sampling import Sampler, TagSpec, describe
from anime_gan.viz import contact_sheet, image_grid, labelled_grid

#: Rows of the fixed-tag grid when none are given (combinations in the spirit of Fig. 9).
FIG9_ROWS: tuple[tuple[str, ...], ...] = (
    ("blonde hair", "twintails", "blush", "smile", "ribbon", "red eyes"),
    ("silver hair", "long hair", "blush", "smile", "open mouth", "blue eyes"),
    ("aqua hair", "long hair", "drill hair", "open mouth", "glasses", "aqua eyes"),
    ("pink hair", "short hair", "hat", "smile", "green eyes"),
    ("black hair", "ponytail", "open mouth", "purple eyes"),
)


def _scale(images: np.ndarray) -> int:
    """The nearest-neighbour upscaling that shows faces at 64 px or more."""
    return max(1, 64 // images.shape[1])


def scaled_grid(images: np.ndarray, ncol: int, scale: int) -> Image.Image:
    """Images tiled ``ncol`` to a row, scaled up ``scale`` times (nearest neighbour)."""
    grid = Image.fromarray(image_grid(images, ncol=ncol))
    return grid.resize((grid.width * scale, grid.height * scale), Image.NEAREST)


def _path(start: torch.Tensor, end: torch.Tensor, steps: int) -> torch.Tensor:
    """Rows of ``(1 - t) start + t end`` for ``steps`` values t from 0 to 1: [N * steps, D]."""
    t = torch.linspace(0, 1, steps)
    return torch.stack([(1 - a) * start + a * end for a in t], dim=1).reshape(-1, start.shape[1])


def samples_sheet(
    sampler: Sampler, n: int, tags: TagSpec, seed: int
) -> tuple[np.ndarray, Image.Image]:
    """``n`` samples with ``tags`` fixed (others from the prior) and a captioned sheet."""
    c = sampler.conditions(n, tags, seed)
    images = sampler.images(sampler.noise(n, seed), c)
    sheet = contact_sheet(images, describe(c), ncol=min(8, n), cell=96, caption_lines=4)
    return images, sheet


def random_tags_grid(sampler: Sampler, rows: int = 6, cols: int = 8, seed: int = 0) -> Image.Image:
    """Fig. 8: noise fixed per row, tags drawn from the prior per column (same tags per column)."""
    z = sampler.noise(rows, seed).repeat_interleave(cols, dim=0)
    c = sampler.conditions(cols, None, seed).repeat(rows, 1)
    images = sampler.images(z, c)
    return labelled_grid(images, cols, [f"noise {r}" for r in range(rows)], _scale(images))


def fixed_condition(sampler: Sampler, tags: TagSpec, seed: int) -> torch.Tensor:
    """One label vector: the named tags true, every other independent tag false, an exclusive
    group that is not named drawn once from the prior."""
    named = fixed_tags(tags)
    spec = {TAG_NAMES[i]: v for i, v in named.items()}
    spec.update({TAG_NAMES[i]: False for i in INDEPENDENT if int(i) not in named})
    return sampler.prior.sample(1, fixed=spec, generator=torch.Generator().manual_seed(seed))[0]


def fixed_tags_grid(
    sampler: Sampler, rows: Sequence[Sequence[str]] | None = None, cols: int = 8, seed: int = 0
) -> Image.Image:
    """Fig. 9: one fixed condition per row, fresh noise per column (the same noise per column)."""
    rows = rows or FIG9_ROWS
    cs = torch.stack([fixed_condition(sampler, r, seed + k) for k, r in enumerate(rows)])
    z = sampler.noise(cols, seed).repeat(len(rows), 1)
    images = sampler.images(z, cs.repeat_interleave(cols, dim=0))
    names = [d.split(", ") for d in describe(cs)]
    labels = [", ".join(n[:3]) + ("..." if len(n) > 3 else "") for n in names]
    return labelled_grid(images, cols, labels, _scale(images))


def interpolation(
    sampler: Sampler, pairs: int = 4, steps: int = 8, tags: TagSpec = None, seed: int = 0
) -> tuple[Image.Image, list[Image.Image]]:
    """Fig. 15: ``pairs`` rows, each a linear path from (z0, c0) to (z1, c1) in ``steps``
    images; and the frames of an animation that moves every row together (there and back)."""
    z = _path(sampler.noise(pairs, seed), sampler.noise(pairs, seed + 1), steps)
    c = _path(
        sampler.conditions(pairs, tags, seed), sampler.conditions(pairs, tags, seed + 1), steps
    )
    flat = sampler.images(z, c)
    images = flat.reshape(pairs, steps, *flat.shape[1:])
    scale = _scale(flat)
    frames = [
        scaled_grid(images[:, k], pairs, scale) for k in [*range(steps), *range(steps - 2, 0, -1)]
    ]
    return scaled_grid(flat, steps, scale), frames


def tag_sweep(
    sampler: Sampler, tag: str, steps: int = 6, rows: int = 4, seed: int = 0
) -> Image.Image:
    """A tag's value from 0 to 1 (columns) at fixed noise and other tags (rows), under a title
    line and the column headings.

    For an exclusive tag the group moves from the row's drawn color to the tag's one-hot.
    """
    i = tag_index(tag)
    base = sampler.conditions(rows, {TAG_NAMES[i]: False}, seed)
    target = base.clone()
    if group_of(i).exclusive:
        target[:, torch.as_tensor(EXCLUSIVE_GROUPS[group_of(i).name])] = 0.0
    target[:, i] = 1.0
    z = sampler.noise(rows, seed).repeat_interleave(steps, dim=0)
    images = sampler.images(z, _path(base, target, steps))
    scale = _scale(images)
    grid = labelled_grid(images, steps, [f"row {r}" for r in range(rows)], scale)
    out = Image.new("RGB", (grid.width, grid.height + 30), "white")
    out.paste(grid, (0, 30))
    draw, font = ImageDraw.Draw(out), ImageFont.load_default()
    draw.text((4, 2), f"{TAG_NAMES[i]} from 0 to 1", fill="black", font=font)
    width = images.shape[2] + 2  # labelled_grid: an 80 px margin, then tiles padded by 2 px
    for k, a in enumerate(torch.linspace(0, 1, steps).tolist()):
        draw.text((80 + (2 + k * width) * scale, 16), f"{a:.2f}", fill="black", font=font)
    return out


def save_gif(
    frames: Sequence[Image.Image], target: str | Path | IO[bytes], ms_per_frame: int = 120
) -> Path | IO[bytes]:
    """An endlessly looping animated GIF of ``frames`` into a file (its folder made first) or a
    binary stream; returns the path or the stream."""
    if isinstance(target, (str, Path)):
        target = Path(target)
        target.parent.mkdir(parents=True, exist_ok=True)
    frames[0].save(
        target,
        format="GIF",
        save_all=True,
        append_images=list(frames[1:]),
        duration=ms_per_frame,
        loop=0,
    )
    return target
