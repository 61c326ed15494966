"""How good a 2x upscaling is, on held-out (input, original) pairs: PSNR, SSIM and sharpness.

Every method is measured on the uint8 pictures it would save, against the original:

- **PSNR** (torchmetrics ``peak_signal_noise_ratio``, data range 255, over all three channels)
  per image, then averaged over images. Identical images have an infinite PSNR; each image's
  value is **capped at** :data:`PSNR_CAP_DB` = 100 dB so that averages stay finite (a one-level
  error in one channel of one pixel of a 96 px image is already 92.6 dB).
- **SSIM** (torchmetrics ``structural_similarity_index_measure``: Gaussian window 11, sigma 1.5,
  on [0, 1] float32 pixels, data range 1) per image over RGB, averaged; 1 for identical images
  (to within 1e-4: float32 rounding of the local variances).
- **Sharpness**: gradient energy, the mean over pixels of the squared forward differences
  (horizontal + vertical) of the luma (BT.601, in [0, 1]). Reported as is and as a ratio to the
  originals' (1 = as sharp as the original; bicubic is below 1; adversarial training pushes it
  up, and past 1 the extra "detail" is artifacts).

The paper's trade-off (5.5, Fig. 12) is then PSNR/SSIM (fidelity) against sharpness.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torchmetrics.functional.image import (
    peak_signal_noise_ratio,
    structural_similarity_index_measure,
)

from anime_gan.data.transforms import nhwc_to_nchw
from anime_gan.superres.data import resize_bicubic, resize_pil

PSNR_CAP_DB = 100.0
Upscale = Callable[[np.ndarray], np.ndarray]  # uint8 [N, h, w, 3] -> uint8 [N, 2h, 2w, 3]


def psnr(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Per-image PSNR in dB of uint8 ``[N, H, W, 3]`` arrays, capped at :data:`PSNR_CAP_DB`."""
    return (
        peak_signal_noise_ratio(
            nhwc_to_nchw(pred).double(),
            nhwc_to_nchw(target).double(),
            data_range=255.0,
            reduction="none",
            dim=(1, 2, 3),
        )
        .clamp(max=PSNR_CAP_DB)
        .numpy()
    )


def ssim(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Per-image SSIM of uint8 ``[N, H, W, 3]`` arrays (1 = identical)."""
    # float32 in [0, 1]: the Gaussian window is a convolution, slow in float64 on the CPU
    return structural_similarity_index_measure(
        nhwc_to_nchw(pred).float() / 255,
        nhwc_to_nchw(target).float() / 255,
        data_range=1.0,
        reduction="none",
    ).numpy()


def gradient_energy(images: np.ndarray) -> np.ndarray:
    """Per-image mean squared luma gradient (forward differences, luma in [0, 1])."""
    luma = torch.tensor([0.299, 0.587, 0.114]).double()  # BT.601 (float32 values, as measured)
    y = torch.einsum("nchw,c->nhw", nhwc_to_nchw(images).double() / 255.0, luma)
    return (y.diff(dim=2).pow(2).mean(dim=(1, 2)) + y.diff(dim=1).pow(2).mean(dim=(1, 2))).numpy()


def baselines() -> dict[str, Upscale]:
    """The plain resampling methods an upscaler has to beat (Pillow bicubic and Lanczos)."""
    return {
        "bicubic": lambda lo: resize_bicubic(lo, 2 * lo.shape[1]),
        "lanczos": lambda lo: resize_pil(lo, 2 * lo.shape[1]),
    }


def measure(
    lo: np.ndarray, hi: np.ndarray, methods: dict[str, Upscale]
) -> list[dict[str, float | str]]:
    """One row per method (and a last row ``original``: hi itself): mean PSNR, SSIM, sharpness."""
    reference = float(gradient_energy(hi).mean())
    rows: list[dict[str, float | str]] = []
    for name, upscale in [*methods.items(), ("original", lambda _: hi)]:
        out = upscale(lo)
        energy = float(gradient_energy(out).mean())
        rows.append(
            {
                "method": name,
                "psnr": float(psnr(out, hi).mean()),
                "ssim": float(ssim(out, hi).mean()),
                "sharpness": energy,
                "sharpness_ratio": energy / reference if reference else float("nan"),
            }
        )
    return rows


def format_table(rows: list[dict[str, float | str]]) -> str:
    """A Markdown table of :func:`measure` rows."""
    lines = [
        "| method | PSNR (dB) | SSIM | sharpness (x1e3) | sharpness / original |",
        "|---" * 5 + "|",
    ]
    for r in rows:
        psnr_text = "inf (capped)" if r["psnr"] >= PSNR_CAP_DB else f"{r['psnr']:.2f}"
        lines.append(
            f"| {r['method']} | {psnr_text} | {r['ssim']:.4f} | {1e3 * r['sharpness']:.2f} | "
            f"{r['sharpness_ratio']:.3f} |"
        )
    return "\n".join(lines)
