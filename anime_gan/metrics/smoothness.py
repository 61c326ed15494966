"""Neighbour difference: how much adjacent pixels differ, a direct measure of pixel noise.

The mean absolute difference between vertically adjacent pixels, on the [-1, 1] scale, of the
generated images beside the same number for the real images. A generator whose faces carry
per-pixel colour noise scores far above the real value (flat-coloured demo faces: about 0.16),
a blurred one below it; the ratio fake / real is reported with both. SWD's finest pyramid level
sees the same thing among other things; this number sees only it.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from torchmetrics import Metric


class NeighbourDifference(Metric):
    """``update(images, real=...)`` with NCHW images in [-1, 1] (or uint8); ``compute()`` ->
    {"fake": ..., "real": ..., "ratio": fake / real}. Sums reduce across processes."""

    higher_is_better = None
    is_differentiable = False
    full_state_update = False

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for which in ("real", "fake"):
            self.add_state(
                f"{which}_sum", torch.zeros((), dtype=torch.float64), dist_reduce_fx="sum"
            )
            self.add_state(
                f"{which}_count", torch.zeros((), dtype=torch.float64), dist_reduce_fx="sum"
            )

    def update(self, images: Tensor, real: bool) -> None:  # type: ignore[override]
        x = images.float() / 127.5 - 1.0 if images.dtype == torch.uint8 else images.float()
        diff = (x[..., 1:, :] - x[..., :-1, :]).abs()
        which = "real" if real else "fake"
        setattr(self, f"{which}_sum", getattr(self, f"{which}_sum") + diff.sum().double())
        setattr(self, f"{which}_count", getattr(self, f"{which}_count") + diff.numel())

    def compute(self) -> dict[str, Tensor]:
        out = {
            w: getattr(self, f"{w}_sum") / getattr(self, f"{w}_count").clamp(min=1)
            for w in ("real", "fake")
        }
        out["ratio"] = out["fake"] / out["real"].clamp(min=1e-12)
        return out
