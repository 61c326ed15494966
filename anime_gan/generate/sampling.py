"""Generation from a checkpoint: noise, conditions from tag names, batched sampling.

Unassigned tags are drawn from the checkpoint's generation prior (the training set's empirical
distribution, docs/design.md); a tag the user names overrides it (``"-smile"`` / ``"no smile"`` fixes
it false). Unknown tag names end in the schema's one-sentence error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from anime_gan.data.priors import LabelPrior
from anime_gan.data.tags import from_multi_hot
from anime_gan.data.transforms import nchw_to_nhwc, to_uint8
from anime_gan.models.checkpoint import checkpoint_prior, load_generator

TagSpec = Mapping[str, bool] | Iterable[str] | None


class Sampler:
    """A generator (in eval mode, no gradients) with its prior, device and batch size."""

    def __init__(
        self,
        generator: nn.Module,
        prior: LabelPrior,
        device: str | torch.device = "cpu",
        batch_size: int = 64,
        meta: dict | None = None,
    ) -> None:
        self.device = torch.device(device)
        self.generator = generator.eval().to(self.device)
        self.prior, self.batch_size, self.meta = prior, batch_size, meta or {}
        self.z_dim = int(generator.z_dim)

    @classmethod
    def from_checkpoint(
        cls,
        path: str | Path,
        ema: bool = True,
        device: str | torch.device = "cpu",
        batch_size: int = 64,
    ) -> Sampler:
        """The (EMA) generator of a training checkpoint and the prior saved with it."""
        generator, meta = load_generator(path, ema=ema)
        return cls(generator, checkpoint_prior(meta), device, batch_size, meta)

    @property
    def resolution(self) -> int:
        return int(self.generator.resolution)

    def noise(self, n: int, seed: int) -> Tensor:
        """``n`` noise vectors z ~ N(0, I), reproducible from ``seed``."""
        return torch.randn(n, self.z_dim, generator=torch.Generator().manual_seed(int(seed)))

    def conditions(self, n: int, tags: TagSpec = None, seed: int = 0) -> Tensor:
        """``n`` label vectors: the named tags fixed, the others drawn from the prior (an unknown
        name raises the schema's UnknownTagError before any drawing)."""
        gen = torch.Generator().manual_seed(int(seed) + 1)
        return self.prior.sample(n, fixed=tags, generator=gen)

    @torch.no_grad()
    def generate(self, z: Tensor, c: Tensor) -> Tensor:
        """Images in [-1, 1] (float NCHW on the CPU), batch by batch."""
        batches = zip(z.split(self.batch_size), c.split(self.batch_size))
        return torch.cat(
            [
                self.generator(zb.to(self.device), cb.to(self.device)).float().cpu()
                for zb, cb in batches
            ]
        )

    def images(self, z: Tensor, c: Tensor) -> np.ndarray:
        """uint8 [N, R, R, 3] images for noise ``z`` and conditions ``c``."""
        return nchw_to_nhwc(to_uint8(self.generate(z, c)))


def describe(c: Tensor) -> list[str]:
    """Comma-separated tag names of each condition row (for captions)."""
    return [", ".join(from_multi_hot(row.numpy())) for row in c.cpu()]
