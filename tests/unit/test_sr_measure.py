"""PSNR (capped), SSIM and gradient-energy sharpness on known images."""

from __future__ import annotations

import math

import numpy as np
import pytest

from anime_gan.demo.render import render_dataset
from anime_gan.superres.data import downscale_2x
from anime_gan.superres.measure import (
    PSNR_CAP_DB,
    baselines,
    format_table,
    gradient_energy,
    measure,
    psnr,
    ssim,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _images(n: int = 3, side: int = 16, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(1, 255, (n, side, side, 3), dtype=np.uint8)


def test_psnr_of_an_image_with_itself_is_capped_at_the_documented_value():
    x = _images()
    assert PSNR_CAP_DB == 100.0
    assert np.array_equal(psnr(x, x), [100.0, 100.0, 100.0])


def test_psnr_of_a_one_level_error_is_48_dB():
    x = _images()
    assert psnr(x + 1, x) == pytest.approx([20 * math.log10(255)] * 3, abs=1e-5)  # MSE = 1


def test_psnr_per_image_then_averaged():
    x = _images(2)
    y = x.copy()
    y[1] += 1
    assert psnr(y, x).tolist() == pytest.approx([100.0, 20 * math.log10(255)], abs=1e-5)


def test_ssim_is_one_for_identical_and_lower_for_noise():
    x = _images(2, 32)
    assert ssim(x, x) == pytest.approx([1.0, 1.0], abs=1e-4)
    assert (ssim(_images(2, 32, seed=1), x) < 0.1).all()


def test_gradient_energy_of_flat_and_striped_images():
    flat = np.full((1, 8, 8, 3), 77, np.uint8)
    stripes = np.zeros((1, 8, 8, 3), np.uint8)
    stripes[:, :, ::2] = 255  # columns alternate black/white: every horizontal step is 1
    assert gradient_energy(flat) == pytest.approx([0.0])
    assert gradient_energy(stripes) == pytest.approx([1.0])  # (dx^2 = 1) + (dy^2 = 0)


def test_measure_rows_bicubic_blurs_and_original_is_the_reference():
    hi = render_dataset(4, 32, seed=2).images
    rows = {r["method"]: r for r in measure(downscale_2x(hi), hi, baselines())}
    assert list(rows) == ["bicubic", "lanczos", "original"]
    assert rows["original"]["psnr"] == PSNR_CAP_DB and rows["original"]["sharpness_ratio"] == 1.0
    assert 15 < rows["bicubic"]["psnr"] < 40 and rows["bicubic"]["sharpness_ratio"] < 0.7
    assert (
        rows["lanczos"]["sharpness"] > rows["bicubic"]["sharpness"]
    )  # Lanczos is the sharper kernel
    table = format_table(list(rows.values()))
    assert "inf (capped)" in table and table.count("\n") == 4
