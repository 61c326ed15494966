"""Multi-scale sliced Wasserstein distance: pyramid, levels, identical vs shifted sets."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from anime_gan.metrics.swd import (
    SlicedWassersteinDistance,
    laplacian_pyramid,
    pyramid_resolutions,
    pyramid_up,
    sliced_wasserstein,
)


def _faces(n: int, res: int, seed: int) -> torch.Tensor:
    """Smooth random blobs: images with structure at several scales, in [-1, 1]."""
    g = torch.Generator().manual_seed(seed)
    coarse = torch.rand(n, 3, 4, 4, generator=g) * 2 - 1
    mid = torch.rand(n, 3, res // 4, res // 4, generator=g) * 0.6 - 0.3
    up = torch.nn.functional.interpolate
    return (up(coarse, size=res, mode="bilinear") + up(mid, size=res, mode="bilinear")).clamp(-1, 1)


def _swd(a: torch.Tensor, b: torch.Tensor, **kw) -> dict[str, float]:
    kw.setdefault("descriptors_per_image", 32)
    m = SlicedWassersteinDistance(a.shape[-1], **kw)
    m.update(a, real=True)
    m.update(b, real=False)
    return {k: float(v) for k, v in m.compute().items()}


def test_levels_go_down_to_16_px():
    assert pyramid_resolutions(128) == [128, 64, 32, 16]
    assert pyramid_resolutions(32) == [32, 16]
    assert pyramid_resolutions(16) == [16]
    with pytest.raises(ValueError, match="16 px"):
        pyramid_resolutions(8)


def test_laplacian_pyramid_reconstructs_the_image():
    x = _faces(3, 32, 0)
    levels = laplacian_pyramid(x, 3)
    assert [lv.shape[-1] for lv in levels] == [32, 16, 8]
    rec = levels[-1]
    for band in reversed(levels[:-1]):
        rec = band + pyramid_up(rec)
    assert torch.allclose(rec, x, atol=1e-5)


def test_sliced_wasserstein_of_identical_descriptors_is_zero():
    d = torch.randn(500, 147)
    assert float(sliced_wasserstein(d, d, 4, 128, torch.Generator().manual_seed(0))) == 0.0
    assert float(sliced_wasserstein(d, d + 0.5, 4, 128, torch.Generator().manual_seed(0))) > 0


def test_identical_sets_are_near_zero_and_shifted_sets_larger():
    a = _faces(160, 32, 0)
    same = _swd(a, a.clone())
    other_draw = _swd(a, _faces(160, 32, 1))
    noisy = _swd(
        a, (a + 0.3 * torch.randn(a.shape, generator=torch.Generator().manual_seed(2))).clamp(-1, 1)
    )
    blurred = _swd(a, torch.nn.functional.avg_pool2d(a, 3, 1, 1))
    assert set(same) == {"32", "16", "avg"}
    assert max(same.values()) < 1e-3  # the same patches of the same images (rounding only)
    # other images of the same distribution differ by sampling noise only; added noise shows
    # at the finest level (the 16 px low-pass level of 160 smooth images is itself noisy)
    assert noisy["32"] > 3 * other_draw["32"] and noisy["avg"] > other_draw["avg"]
    more_noise = _swd(
        a, (a + 0.6 * torch.randn(a.shape, generator=torch.Generator().manual_seed(2))).clamp(-1, 1)
    )
    assert more_noise["avg"] > noisy["avg"]  # larger shift, larger distance
    assert (
        blurred["32"] > blurred["16"]
    )  # a blur removes fine detail: the finest level sees it most


def test_uint8_input_and_128_px_work_and_results_are_reproducible():
    imgs = ((_faces(8, 128, 0) + 1) * 127.5).round().to(torch.uint8)
    first = _swd(imgs, imgs.flip(3), descriptors_per_image=16)
    assert set(first) == {"128", "64", "32", "16", "avg"} and all(
        np.isfinite(v) for v in first.values()
    )
    assert _swd(imgs, imgs.flip(3), descriptors_per_image=16) == first
    m = SlicedWassersteinDistance(32)
    with pytest.raises(ValueError, match="32 px"):
        m.update(torch.zeros(2, 3, 16, 16), real=True)
