"""Example images of a dataset per tag: what a tag looks like in the data a model learns from."""

from collections.abc import Sequence

import numpy as np
from PIL import Image

from anime_gan.data.dataset import FaceDataset
from anime_gan.data.tags import TAG_NAMES, tag_index
from anime_gan.viz import labelled_grid


def tag_examples(ds: FaceDataset, tag: str, n: int, seed: int = 0) -> np.ndarray:
    """Indices of up to ``n`` images labelled with ``tag`` (known and true), drawn at random
    without replacement, in dataset order."""
    i = tag_index(tag)
    positive = np.flatnonzero((ds.labels[:, i] > 0) & (ds.known[:, i] > 0))
    if len(positive) <= n:
        return positive
    return np.sort(np.random.default_rng(seed).choice(positive, n, replace=False))


def tag_examples_grid(
    ds: FaceDataset,
    tags: Sequence[str] | None = None,
    per_tag: int = 8,
    seed: int = 0,
    min_size: int = 48,
) -> Image.Image:
    """One row per tag (default: all 34), labelled with the tag, of up to ``per_tag`` random
    images that show it; a row with fewer images (a rare tag) ends in blank tiles.

    Small images are scaled up (nearest) to at least ``min_size`` px so that 32 px faces stay
    readable."""
    names = [TAG_NAMES[tag_index(t)] for t in (tags if tags is not None else TAG_NAMES)]
    r = ds.resolution
    tiles = np.full((len(names) * per_tag, r, r, 3), 255, dtype=np.uint8)
    for row, name in enumerate(names):
        idx = tag_examples(ds, name, per_tag, seed + row)
        tiles[row * per_tag : row * per_tag + len(idx)] = ds.images[idx]
    return labelled_grid(tiles, per_tag, names, scale=max(1, -(-min_size // r)))
