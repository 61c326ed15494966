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


def test_neighbour_difference_by_hand_and_across_batches():
    from anime_gan.metrics.smoothness import NeighbourDifference

    flat = torch.full((2, 3, 8, 8), 0.3)
    stripes = torch.ones(1, 3, 8, 8)
    stripes[..., 1::2, :] = -1.0  # every vertical neighbour differs by 2
    m = NeighbourDifference()
    m.update(flat, real=True)
    m.update(stripes, real=False)
    out = m.compute()
    assert out["real"].item() == 0.0 and out["fake"].item() == pytest.approx(2.0)
    # two batches average as one: sums and counts, not a mean of means
    m2 = NeighbourDifference()
    m2.update(_faces(3, 16, 0), real=True)
    m2.update(_faces(5, 16, 1), real=True)
    m2.update(_faces(4, 16, 2), real=False)
    whole = torch.cat([_faces(3, 16, 0), _faces(5, 16, 1)])
    expected = (whole[..., 1:, :] - whole[..., :-1, :]).abs().mean()
    assert m2.compute()["real"].item() == pytest.approx(expected.item(), rel=1e-6)
    # uint8 images read on the same [-1, 1] scale
    m3 = NeighbourDifference()
    m3.update(((stripes + 1) * 127.5).to(torch.uint8), real=True)
    m3.update(stripes, real=False)
    assert m3.compute()["ratio"].item() == pytest.approx(1.0)


def test_pixel_noise_raises_the_neighbour_difference_far_more_than_swd_sees_it():
    from anime_gan.metrics.smoothness import NeighbourDifference

    clean = _faces(16, 32, 0)
    noisy = (
        clean + 0.2 * torch.randn(clean.shape, generator=torch.Generator().manual_seed(1))
    ).clamp(-1, 1)
    m = NeighbourDifference()
    m.update(clean, real=True)
    m.update(noisy, real=False)
    assert m.compute()["ratio"].item() > 3.0
