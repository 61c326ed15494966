"""The embedded demo dataset: procedurally drawn anime-style faces that show all 34 tags.

The project's offline default data (``make demo`` trains on it): every tag is visibly drawn,
hair and eye color at any resolution from 16 px, every other tag clearly from 64 px. Faces are
drawn with Pillow at 4x the output size and downscaled with LANCZOS for smooth edges.

Reproducibility: labels come from the label prior with a ``torch.Generator`` seeded by ``seed``;
the picture of face ``i`` depends only on ``(seed, i)`` and its labels (its numpy generator is
seeded with ``[seed, i]``), so any split of the work over processes gives the same dataset.
"""

from __future__ import annotations

import multiprocessing

import numpy as np
import torch
from PIL import Image

from anime_gan.data.dataset import FaceDataset
from anime_gan.data.priors import LabelPrior
from anime_gan.data.tags import EXCLUSIVE_GROUPS, TAG_NAMES, from_multi_hot
from anime_gan.demo import hair, parts
from anime_gan.demo.canvas import Canvas
from anime_gan.demo.params import EYE_COLORS, HAIR_COLORS, sample_params, shade
from anime_gan.errors import UserError
from anime_gan.viz import contact_sheet, save_png

POOL_MIN = 2000  # below this many faces a process pool costs more than it saves
_CHUNK = 250


def check_resolution(resolution: int, power_of_two: bool = True) -> int:
    """The resolution as an int, or a UserError naming the fix."""
    if not (
        isinstance(resolution, (int, np.integer))
        and resolution >= 16
        and not (power_of_two and resolution & (resolution - 1))
    ):
        kind = "a power of two >= 16 (16, 32, 64, 128)" if power_of_two else "an integer >= 16"
        raise UserError(
            f"resolution={resolution!r} is not {kind}: set resolution=32 (the demo) or 64 or 128."
        )
    return int(resolution)


def render_face(labels: np.ndarray, resolution: int, rng: np.random.Generator) -> np.ndarray:
    """One face, uint8 [R, R, 3], showing the tags of ``labels`` (34,) at any resolution >= 16.

    Hair and eye color are the argmax of their group (as the schema says), the other tags are
    on above 0.5. The non-tag variety is drawn from ``rng`` in an order that does not depend on
    the labels: the same ``rng`` state with one tag toggled changes only the part of the face
    that tag draws. Back to front: ponytail, back hair, body, long front locks, twintails,
    drills, head, face, blush, eyes, mouth, side locks, fringe, glasses, hat, ribbon.
    """
    resolution = check_resolution(resolution, power_of_two=False)
    labels, params = np.asarray(labels), sample_params(rng)
    on = set(from_multi_hot(labels))  # checks the length first
    hair_tag, eye_tag = (
        TAG_NAMES[group[np.argmax(labels[group])]]
        for group in (EXCLUSIVE_GROUPS["hair_color"], EXCLUSIVE_GROUPS["eye_color"])
    )
    paint = hair.HairPaint.of(shade(HAIR_COLORS[hair_tag], params.hair_value), params.r)
    cv = Canvas(resolution, params.background)
    if "ponytail" in on:
        hair.draw_ponytail(cv, params, paint)
    hair.draw_back_hair(cv, params, paint, "short hair" in on, "long hair" in on)
    parts.draw_body(cv, params)
    if "long hair" in on:
        hair.draw_long_front(cv, params, paint)
    if "twintails" in on:
        hair.draw_twintails(cv, params, paint)
    if "drill hair" in on:
        hair.draw_drills(cv, params, paint)
    hair.draw_head_cap(cv, params, paint)
    parts.draw_face_skin(cv, params)
    if "blush" in on:
        parts.draw_blush(cv, params)
    parts.draw_eyes(cv, params, EYE_COLORS[eye_tag])
    parts.draw_mouth(cv, params, "smile" in on, "open mouth" in on)
    hair.draw_side_locks(cv, params, paint, "short hair" in on)
    hair.draw_fringe(cv, params, paint)
    if "twintails" in on:
        hair.draw_twintail_ties(cv, params)
    if "glasses" in on:
        parts.draw_glasses(cv, params)
    if "hat" in on:
        parts.draw_hat(cv, params)
    if "ribbon" in on:
        parts.draw_ribbon(cv, params)
    return cv.result()


def face_rng(seed: int, index: int) -> np.random.Generator:
    """The generator of face ``index`` of the dataset rendered with ``seed``."""
    return np.random.default_rng([int(seed), int(index)])


def _render_range(labels: np.ndarray, resolution: int, seed: int, start: int) -> np.ndarray:
    out = np.empty((len(labels), resolution, resolution, 3), dtype=np.uint8)
    for k, row in enumerate(labels):
        out[k] = render_face(row, resolution, face_rng(seed, start + k))
    return out


def render_images(labels: np.ndarray, resolution: int, seed: int, workers: int = 2) -> np.ndarray:
    """Faces for each row of ``labels`` [N >= 1, 34]; face i uses ``face_rng(seed, i)``.

    ``workers`` > 1 spreads the work over a process pool (only when N >= ``POOL_MIN``);
    the pixels are the same whatever the split.
    """
    jobs = [(labels[a : a + _CHUNK], resolution, seed, a) for a in range(0, len(labels), _CHUNK)]
    if workers < 2 or len(labels) < POOL_MIN:
        return np.concatenate([_render_range(*job) for job in jobs])
    # fork is quick (no re-import of torch); the workers only use numpy and Pillow
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    with multiprocessing.get_context(method).Pool(workers) as pool:
        return np.concatenate(pool.starmap(_render_range, jobs))


def render_dataset(
    n: int, resolution: int = 32, seed: int = 0, prior: LabelPrior | None = None, workers: int = 2
) -> FaceDataset:
    """``n`` rendered faces with labels drawn from ``prior`` (default: the training prior).

    Every label is known (the renderer draws exactly what the labels say).
    """
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise UserError(
            f"n={n!r} is not a positive number of faces: set n=4000 (the demo) or any n >= 1."
        )
    resolution = check_resolution(resolution)
    n, seed = int(n), int(seed)
    prior = prior or LabelPrior.training()
    labels = prior.sample(n, generator=torch.Generator().manual_seed(seed)).numpy().astype(np.uint8)
    images = render_images(labels, resolution, seed, workers)
    metadata = [
        {
            "id": f"render-{i:06d}",
            "source": "render",
            "year": None,
            "width": resolution,
            "height": resolution,
            "seed": seed,
        }
        for i in range(n)
    ]
    info = {
        "source": "render",
        "seed": seed,
        "prior": prior.kind,
        "notes": "procedural demo faces (anime_gan.demo.render); all 34 labels known",
    }
    return FaceDataset(images, labels, np.ones_like(labels), metadata, info)


def write_sheet(ds: FaceDataset, path: str) -> None:
    """Contact sheet of the first 64 faces, each captioned with its tags in schema order."""
    faces, res = ds.images[:64], ds.resolution
    captions = [", ".join(from_multi_hot(row)) for row in ds.labels[:64]]
    title = (
        f"anime-gan render: {len(faces)} of {len(ds)} faces, {res}x{res}, seed {ds.info['seed']}"
    )
    sheet = contact_sheet(
        faces, captions, ncol=8, cell=max(96, 2 * res), caption_lines=5, title=title
    )
    # flat-colored drawings: a 256-color palette looks the same at a third of the file size
    save_png(sheet.quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE), path)
