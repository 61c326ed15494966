"""What every metric protocol needs: a generator, the generation prior, real images, a device.

The same :class:`EvalContext` is built from a checkpoint (``anime-gan evaluate``, ``report``) or
from a running Lightning module (the metric callbacks), so protocols run the same way in both.
Under DDP each process takes its own slice of the real images (``rank::world_size``) and the
torchmetrics states add up across processes in ``compute()``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor, nn

from anime_gan.data.dataset import FaceDataset
from anime_gan.data.priors import LabelPrior
from anime_gan.data.transforms import nhwc_to_nchw, to_model_range
from anime_gan.metrics.features import StatsCache

GenerateFn = Callable[[Tensor, Tensor], Tensor]  # (z, c) -> images in [-1, 1], NCHW


def dataset_images(ds: FaceDataset, index: np.ndarray | slice) -> Tensor:
    """Images of a dataset as float NCHW in [-1, 1] (the generator's range)."""
    return to_model_range(nhwc_to_nchw(np.array(ds.images[index])))  # a copy: memmaps are read-only


def real_image_source(ds: FaceDataset, seed: int = 0) -> GenerateFn:
    """A stand-in generator that ignores (z, c) and returns real images of ``ds`` in a shuffled
    order without repeats (until all were used): run against another split of the same set, a
    protocol then gives its real-vs-real reference value, the floor a generator can reach."""
    order = itertools.cycle(np.random.default_rng(seed).permutation(len(ds)))

    def generate(z: Tensor, c: Tensor) -> Tensor:
        index = np.fromiter(itertools.islice(order, len(z)), dtype=np.int64, count=len(z))
        return dataset_images(ds, np.sort(index)).to(z.device)

    return generate


@dataclass
class EvalContext:
    """Inputs of a metric protocol.

    Attributes:
        generate: ``(z, c) -> images`` in [-1, 1] (the EMA generator in eval mode, no grad).
        z_dim: noise size.
        prior: the generation prior (the training set's empirical prior, docs/design.md).
        real: the real images with their labels (held-out images in training, the dataset
            otherwise).
        extractor: FID/KID feature extractor (Illustration2Vec), or None.
        judge: a judge for per-label precision (:mod:`anime_gan.metrics.judge`), or None.
        cache: where real-set statistics are cached.
    """

    generate: GenerateFn
    z_dim: int
    prior: LabelPrior
    real: FaceDataset
    device: torch.device = torch.device("cpu")
    batch_size: int = 64
    seed: int = 0
    extractor: nn.Module | None = None
    judge: object | None = None
    cache: StatsCache = field(default_factory=lambda: StatsCache(None))
    rank: int = 0
    world_size: int = 1

    def choose_real(self, count: int, seed: int) -> np.ndarray:
        """``count`` real image indices drawn without replacement (all of them if fewer)."""
        n = len(self.real)
        if count >= n:
            return np.arange(n)
        return np.sort(np.random.default_rng(seed).choice(n, size=count, replace=False))

    def real_batches(self, index: np.ndarray) -> Iterator[Tensor]:
        """This process's part (``rank::world_size``) of the real images of ``index`` as float
        NCHW in [-1, 1] on the device, batch by batch."""
        index = index[self.rank :: self.world_size]
        for s in range(0, len(index), self.batch_size):
            yield dataset_images(self.real, index[s : s + self.batch_size]).to(self.device)

    def fake_batches(self, index: np.ndarray, seed: int) -> Iterator[Tensor]:
        """One generated image per real image of this process's part of ``index``, with fresh
        noise and that image's labels (unknown entries drawn from the prior), batch by batch."""
        index = index[self.rank :: self.world_size]
        if len(index) == 0:  # an empty shard (more processes than images)
            return
        gen = torch.Generator().manual_seed(seed)
        known = torch.from_numpy(self.real.known[index].astype(bool))
        labels = torch.from_numpy(self.real.labels[index].astype(np.float32))
        labels = torch.where(known, labels, self.prior.sample(len(index), generator=gen))
        gen = torch.Generator().manual_seed(seed * 1009 + self.rank)
        for s in range(0, len(labels), self.batch_size):
            c = labels[s : s + self.batch_size]
            z = torch.randn(len(c), self.z_dim, generator=gen)
            yield self.generate(z.to(self.device), c.to(self.device))
