"""Weight initialization and size bookkeeping shared by the networks."""

from __future__ import annotations

import torch
from torch import nn

_WEIGHTED = (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)
_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d)


@torch.no_grad()
def init_weights(module: nn.Module, std: float = 0.02) -> nn.Module:
    """Initialize ``module`` in place as the paper does (5.1.1, SPEC 3) and return it.

    Conv, transposed-conv and linear weights ~ N(0, std) with std = 0.02 and zero biases.
    The paper says nothing about batch norm; its scale is set to 1 and its shift to 0 (the
    identity at the start, PyTorch's default), not DCGAN's N(1, 0.02) scale.
    """
    for m in module.modules():
        if isinstance(m, _WEIGHTED):
            nn.init.normal_(m.weight, mean=0.0, std=std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, _NORMS) and m.affine:
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    return module


def count_parameters(module: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters (SPEC 3 reference figures: G ~4.35 M, D ~19.1 M at 128 px)."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)
