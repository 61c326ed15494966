"""Multi-scale sliced Wasserstein distance (SWD; Karras et al. 2018, "Progressive Growing of GANs").

Our own code: torchmetrics and torch have no multi-scale SWD.

A quality number that needs no downloaded weights. Each image is decomposed into a Laplacian
pyramid (one level per resolution from the image's down to 16 px; the last level is the 16 px
low-pass image). From every level, ``descriptors_per_image`` random 7x7 RGB patches are taken;
per level, each set's descriptors are normalised per colour channel (by that set's own mean and
standard deviation, as in the reference code), then the sliced Wasserstein distance between
the two sets is the mean absolute difference of their sorted projections on random unit
directions (``repeats`` draws of ``directions`` directions). As in the reference, distances are
multiplied by 1e3; the metric returns each level's value and their average. Lower is better;
a 32 px demo image gives two levels (32 and 16 px), a 128 px image four.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor
from torchmetrics import Metric
from torchmetrics.utilities import dim_zero_cat

from anime_gan.data.transforms import to_model_range

MIN_RESOLUTION = 16
PATCH = 7
_BINOMIAL = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0


def pyramid_resolutions(resolution: int) -> list[int]:
    """Pyramid levels, finest first: 128 -> [128, 64, 32, 16]; 32 -> [32, 16]."""
    if resolution < MIN_RESOLUTION:
        raise ValueError(f"SWD needs images of at least {MIN_RESOLUTION} px, got {resolution}")
    return [resolution >> k for k in range((resolution // MIN_RESOLUTION).bit_length())]


def _blur(x: Tensor, gain: float = 1.0) -> Tensor:
    """Separable 5-tap binomial filter with mirrored borders (the reference's Gaussian kernel)."""
    k = (_BINOMIAL * gain).to(x)
    c = x.shape[1]
    x = F.pad(x, (2, 2, 2, 2), mode="reflect")
    x = F.conv2d(x, k.view(1, 1, 1, 5).repeat(c, 1, 1, 1), groups=c)
    return F.conv2d(x, k.view(1, 1, 5, 1).repeat(c, 1, 1, 1), groups=c)


def pyramid_up(x: Tensor) -> Tensor:
    n, c, h, w = x.shape
    up = torch.zeros(n, c, 2 * h, 2 * w, dtype=x.dtype, device=x.device)
    up[:, :, ::2, ::2] = x
    return _blur(up, gain=2.0)  # x4 over both axes: the zeros hold 3/4 of the samples


def laplacian_pyramid(images: Tensor, levels: int) -> list[Tensor]:
    """``levels`` band-pass images, finest first; the last is the low-pass remainder."""
    out, current = [], images.float()
    for _ in range(levels - 1):
        smaller = _blur(current)[:, :, ::2, ::2]
        out.append(current - pyramid_up(smaller))
        current = smaller
    out.append(current)
    return out


def sample_patches(level: Tensor, per_image: int, generator: torch.Generator) -> Tensor:
    """``per_image`` random 7x7 patches of every image: [N * per_image, C * 49]."""
    n, c, h, w = level.shape
    ys = torch.randint(0, h - PATCH + 1, (n, per_image), generator=generator).to(level.device)
    xs = torch.randint(0, w - PATCH + 1, (n, per_image), generator=generator).to(level.device)
    windows = level.unfold(2, PATCH, 1).unfold(3, PATCH, 1)  # a view: [n, C, h-6, w-6, 7, 7]
    img = torch.arange(n, device=level.device)[:, None]
    return windows[img, :, ys, xs].reshape(n * per_image, c * PATCH * PATCH)  # [n, p, C, 7, 7]


def normalize_descriptors(desc: Tensor) -> Tensor:
    """Zero mean, unit standard deviation per colour channel over the whole set."""
    d = desc.view(desc.shape[0], 3, -1)
    mean = d.mean(dim=(0, 2), keepdim=True)
    std = d.std(dim=(0, 2), keepdim=True).clamp(min=1e-8)
    return ((d - mean) / std).view(desc.shape[0], -1)


def _sort_rows(x: Tensor) -> Tensor:
    """Sort each row; on the CPU numpy's sort is ~15x faster than torch's for this shape."""
    if x.device.type == "cpu":
        return torch.from_numpy(np.sort(x.detach().numpy(), axis=1))
    return torch.sort(x, dim=1).values


def sliced_wasserstein(
    a: Tensor, b: Tensor, repeats: int, directions: int, generator: torch.Generator
) -> Tensor:
    """Mean |sorted(a.u) - sorted(b.u)| over ``repeats`` x ``directions`` random unit vectors u
    (``a`` and ``b`` of the same shape)."""
    results = []
    for _ in range(repeats):
        dirs = torch.randn(directions, a.shape[1], generator=generator).to(a)
        dirs = dirs / dirs.norm(dim=1, keepdim=True)
        pa, pb = _sort_rows(dirs @ a.T), _sort_rows(dirs @ b.T)  # [directions, n]
        results.append((pa - pb).abs().mean())
    return torch.stack(results).mean()


class SlicedWassersteinDistance(Metric):
    """SWD between real and fake images: ``update(images, real=...)`` with images NCHW in
    [-1, 1] (or uint8) of the ``resolution`` given; ``compute()`` -> {"16": ..., ..., "avg": ...}.

    Descriptors are kept per level (cat-reduced across processes); both sets are cut to the
    smaller one's size before the distance. Patch positions come from two generators with the
    same seed, one per set (common random numbers): the i-th real and the i-th fake image are
    cut at the same places, so identical sets give exactly 0 and differences are less noisy.
    """

    higher_is_better = False
    is_differentiable = False
    full_state_update = False

    def __init__(
        self,
        resolution: int,
        descriptors_per_image: int = 128,
        directions: int = 128,
        repeats: int = 4,
        seed: int = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.resolutions = pyramid_resolutions(resolution)
        self.per_image, self.directions, self.repeats = descriptors_per_image, directions, repeats
        self.seed = seed
        for res in self.resolutions:
            self.add_state(f"real_{res}", [], dist_reduce_fx="cat")
            self.add_state(f"fake_{res}", [], dist_reduce_fx="cat")
        self.reset()  # the patch generators

    def update(self, images: Tensor, real: bool) -> None:  # type: ignore[override]
        size = self.resolutions[0]
        if images.shape[-2:] != (size, size):
            raise ValueError(f"expected {size} px images, got {tuple(images.shape[-2:])}")
        x = to_model_range(images) if images.dtype == torch.uint8 else images.float()
        which = "real" if real else "fake"
        for res, level in zip(self.resolutions, laplacian_pyramid(x, len(self.resolutions))):
            patches = sample_patches(level, self.per_image, self._patch_rng[which])
            getattr(self, f"{which}_{res}").append(patches)

    def compute(self) -> dict[str, Tensor]:
        gen = torch.Generator().manual_seed(self.seed + 1)
        out: dict[str, Tensor] = {}
        for res in self.resolutions:
            sets = [dim_zero_cat(getattr(self, f"{which}_{res}")) for which in ("real", "fake")]
            n = min(map(len, sets))  # the same random subset size for both
            real, fake = (
                normalize_descriptors(d[torch.randperm(len(d), generator=gen)[:n]]) for d in sets
            )
            out[str(res)] = sliced_wasserstein(real, fake, self.repeats, self.directions, gen) * 1e3
        out["avg"] = torch.stack(list(out.values())).mean()
        return out

    def reset(self) -> None:
        super().reset()
        self._patch_rng = {
            which: torch.Generator().manual_seed(self.seed) for which in ("real", "fake")
        }
