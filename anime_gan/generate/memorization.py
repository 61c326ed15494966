"""Memorization check: the training images nearest to generated samples, side by side.

Our own search (torch.cdist + topk in chunks): a library index would embed the whole set at once.

A generator that copies its training set shows near-identical neighbours at small distances.
Distances are measured on pixels (root-mean-square difference in [0, 1], the default) or in a
feature space (a judge's pooled features, or Illustration2Vec's), given as a function.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from anime_gan.data.dataset import FaceDataset
from anime_gan.data.transforms import nhwc_to_nchw, to_model_range
from anime_gan.viz import contact_sheet

FeatureFn = Callable[[torch.Tensor], torch.Tensor]  # images [-1, 1] NCHW -> [N, D]


def _embed(images: np.ndarray, resolution: int, features: FeatureFn | None) -> torch.Tensor:
    """Images as [N, D] vectors to measure distances between (called under no_grad)."""
    x = to_model_range(nhwc_to_nchw(np.array(images)))  # a copy: memmap slices are read-only
    if x.shape[-1] != resolution:
        x = F.interpolate(x, size=resolution, mode="bilinear", antialias=True, align_corners=False)
    if features is None:
        return x.flatten(1) / 2  # [0, 1] scale: distances are RMS differences per value
    return features(x).float()


@torch.no_grad()
def nearest_training(
    queries: np.ndarray,
    train: FaceDataset,
    k: int = 3,
    features: FeatureFn | None = None,
    chunk: int = 1024,
) -> tuple[np.ndarray, np.ndarray]:
    """Indices [Q, k] of the ``k`` nearest training images to each query and their distances.

    Pixel distance is the RMS difference (0 = identical, 1 = black vs white); the training set is
    scanned in chunks so a large set is never embedded all at once.
    """
    res = train.resolution
    q = _embed(queries, res, features)
    best_d = torch.full((len(q), k), float("inf"))
    best_i = torch.zeros((len(q), k), dtype=torch.long)
    for start in range(0, len(train), chunk):
        t = _embed(train.images[start : start + chunk], res, features)
        d = torch.cdist(q, t)
        if features is None:
            d = d / q.shape[1] ** 0.5
        d_all = torch.cat([best_d, d], dim=1)
        i_all = torch.cat([best_i, torch.arange(start, start + len(t)).expand(len(q), -1)], dim=1)
        best_d, pos = d_all.topk(k, dim=1, largest=False)
        best_i = i_all.gather(1, pos)
    return best_i.numpy(), best_d.numpy()


def memorization_sheet(
    queries: np.ndarray,
    train: FaceDataset,
    index: np.ndarray,
    dist: np.ndarray,
    space: str = "pixels",
) -> Image.Image:
    """One row per sample: the sample, then its nearest training images with their distances."""
    res = train.resolution
    tiles, captions = [], []
    for q, row_i, row_d in zip(queries, index, dist):
        if q.shape[0] != res:
            q = np.asarray(Image.fromarray(q).resize((res, res), Image.BILINEAR))
        tiles += [q, *(np.asarray(train.images[i]) for i in row_i)]
        captions += ["generated", *(f"#{i} d={d:.3f}" for i, d in zip(row_i, row_d))]
    return contact_sheet(
        np.stack(tiles),
        captions,
        ncol=index.shape[1] + 1,
        cell=64,
        caption_lines=1,
        title=f"nearest training images ({space} distance)",
    )
