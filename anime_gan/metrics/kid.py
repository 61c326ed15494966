"""Kernel distance (KID; Binkowski et al. 2018) on the same features as FID.

Unbiased MMD^2 with the polynomial kernel ``k(x, y) = (x.y / d + 1)^3``, averaged over random
subsets (as torchmetrics and torch-fidelity do). Unlike FID it is unbiased in the number of
samples, so small protocols (training callbacks, CI) are comparable with large ones.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn
from torchmetrics import Metric
from torchmetrics.utilities import dim_zero_cat

from anime_gan.metrics.fid import check_extractor


def polynomial_mmd(x: Tensor, y: Tensor, degree: int = 3, coef: float = 1.0) -> Tensor:
    """Unbiased MMD^2 between two equal-size sets of feature vectors (float64)."""
    x, y = x.double(), y.double()
    m, d = x.shape
    if y.shape[0] != m:
        raise ValueError("polynomial_mmd needs two sets of the same size")
    kxx = (x @ x.T / d + coef) ** degree
    kyy = (y @ y.T / d + coef) ** degree
    kxy = (x @ y.T / d + coef) ** degree
    off = (kxx.sum() - kxx.diagonal().sum() + kyy.sum() - kyy.diagonal().sum()) / (m * (m - 1))
    return off - 2 * kxy.mean()


class KernelDistance(Metric):
    """KID: ``update(images, real=...)``; ``compute()`` -> (mean, std) over ``subsets`` subsets.

    Features are kept (a cat-reduced list state), so memory grows with the number of images;
    ``subset_size`` is capped at the smaller set's size.
    """

    higher_is_better = False
    is_differentiable = False
    full_state_update = False

    def __init__(self, extractor: nn.Module | None = None, subsets: int = 100,
                 subset_size: int = 1000, seed: int = 0, reset_real: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if extractor is not None:
            check_extractor(extractor)
        self.extractor, self.subsets, self.subset_size = extractor, subsets, subset_size
        self.seed, self.reset_real = seed, reset_real
        self.add_state("real_features", [], dist_reduce_fx="cat")
        self.add_state("fake_features", [], dist_reduce_fx="cat")

    def update(self, images: Tensor, real: bool) -> None:  # type: ignore[override]
        if self.extractor is None:
            feats = images
        else:
            with torch.no_grad():
                feats = self.extractor(images)
        (self.real_features if real else self.fake_features).append(feats.double())

    def compute(self) -> tuple[Tensor, Tensor]:
        real, fake = dim_zero_cat(self.real_features), dim_zero_cat(self.fake_features)
        size = min(self.subset_size, len(real), len(fake))
        if size < 2:
            raise ValueError(f"KID needs at least 2 real and 2 fake images, got {len(real)} "
                             f"and {len(fake)}")
        gen = torch.Generator().manual_seed(self.seed)
        values = []
        for _ in range(self.subsets):
            ri = torch.randperm(len(real), generator=gen)[:size].to(real.device)
            fi = torch.randperm(len(fake), generator=gen)[:size].to(fake.device)
            values.append(polynomial_mmd(real[ri], fake[fi]))
        stacked = torch.stack(values)
        return stacked.mean(), stacked.std(unbiased=False)

    def reset(self) -> None:
        kept = None if self.reset_real else list(self.real_features)
        super().reset()
        if kept is not None:
            self.real_features = kept
