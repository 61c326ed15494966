"""Interactive exploration of a checkpoint (notebooks/explore_model.ipynb): tags chosen from
controls, a walk through the noise at fixed tags, images as bytes for widgets, and the
per-label precision table that ``anime-gan report`` left beside the checkpoint.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image
from torch import Tensor

from anime_gan.data.tags import TAG_NAMES, group_of, tag_index
from anime_gan.errors import UserError
from anime_gan.generate.figures import fixed_condition, save_gif, scaled_grid
from anime_gan.generate.sampling import Sampler
from anime_gan.viz import labelled_grid

#: The choice of an exclusive group (hair color, eye color) that leaves it to the prior.
ANY = "any"


def chosen_tags(hair_color: str = ANY, eye_color: str = ANY, on: Iterable[str] = ()) -> list[str]:
    """Tag names from a set of controls: a hair color and an eye color (``"any"``: drawn from
    the prior) and the independent tags switched on (the others are off)."""
    names = []
    for value, group in ((hair_color, "hair_color"), (eye_color, "eye_color")):
        if value != ANY:
            if group_of(value).name != group:  # unknown names end in the schema's error
                raise UserError(
                    f"{value!r} is not among the {group.replace('_', ' ')}s: choose "
                    f"one of them or {ANY!r}."
                )
            names.append(TAG_NAMES[tag_index(value)])
    for value in on:
        if group_of(value).exclusive:
            raise UserError(f"{value!r} is a color: choose it as hair_color or eye_color.")
        names.append(TAG_NAMES[tag_index(value)])
    return names


def noise_on_circle(z0: Tensor, z1: Tensor, angle: float) -> Tensor:
    """``z0 cos(a) + z1 sin(a)`` for ``angle`` a in degrees: for independent z0, z1 ~ N(0, I)
    every point of the circle is again N(0, I) (a straight line is not: its middle is
    shorter), and 360 degrees come back to z0, so a slider can loop."""
    a = math.radians(angle)
    return z0 * math.cos(a) + z1 * math.sin(a)


def noise_walk(
    sampler: Sampler, tags: Sequence[str], angle: float, n: int = 4, seed: int = 0
) -> np.ndarray:
    """``n`` faces that share one condition (``tags`` on, the other independent tags off, an
    unnamed color drawn once from the prior), each at ``angle`` on its own noise circle."""
    c = fixed_condition(sampler, list(tags), seed).expand(n, -1)
    z = noise_on_circle(sampler.noise(n, seed), sampler.noise(n, seed + 1), angle)
    return sampler.images(z, c)


def noise_walk_grid(
    sampler: Sampler,
    tags: Sequence[str],
    angles: Sequence[float],
    n: int = 4,
    seed: int = 0,
    min_size: int = 64,
) -> Image.Image:
    """:func:`noise_walk` at several angles, one labelled row per angle (a still of the slider)."""
    images = np.concatenate([noise_walk(sampler, tags, a, n, seed) for a in angles])
    scale = max(1, -(-min_size // images.shape[1]))
    return labelled_grid(images, n, [f"{a:g} deg" for a in angles], scale)


def face_row(images: np.ndarray, min_size: int = 96) -> Image.Image:
    """Images side by side, scaled up (nearest) to at least ``min_size`` px each."""
    return scaled_grid(images, len(images), max(1, -(-min_size // images.shape[1])))


def png_bytes(image: Image.Image) -> bytes:
    """PNG-encoded image (the value of an ``ipywidgets.Image``)."""
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def gif_bytes(frames: Sequence[Image.Image], ms_per_frame: int = 120) -> bytes:
    """An endlessly looping animated GIF of ``frames``, in memory (for ``IPython.display``)."""
    return save_gif(frames, io.BytesIO(), ms_per_frame).getvalue()


def report_command(ckpt: str | Path, data: str = "<its dataset folder>") -> str:
    """The command that writes the report :func:`find_precision_report` finds for ``ckpt``."""
    ckpt = Path(ckpt)
    return f"anime-gan report ckpt={ckpt} data.path={data} out={ckpt.parent.parent / 'report'}"


def find_precision_report(ckpt: str | Path, report_dir: str | Path | None = None) -> Path | None:
    """The ``precision/`` folder of a report on this checkpoint, or None.

    Looks in ``report_dir`` when given, else where ``make report`` writes for a run
    (``runs/<run>/report`` beside ``runs/<run>/checkpoints/``) and in ``report`` beside the
    checkpoint."""
    ckpt = Path(ckpt)
    candidates = (
        [Path(report_dir)]
        if report_dir
        else [ckpt.parent.parent / "report", ckpt.parent / "report"]
    )
    found = (f / "precision" for f in candidates if (f / "precision" / "precision.md").is_file())
    return next(found, None)
