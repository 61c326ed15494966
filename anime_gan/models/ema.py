"""Exponential moving average of the generator's weights (used for sampling and evaluation)."""

import copy

import torch
from torch import nn


class EMA(nn.Module):
    """A frozen copy of ``model`` whose parameters track ``decay``-weighted averages.

    The effective decay ramps up as ``min(decay, (1 + t) / (10 + t))`` so early samples are not
    dominated by the random initial weights. Buffers (BatchNorm statistics) are copied as they
    are. One ``_foreach_lerp_`` per update: no per-parameter Python loop on the hot path.
    """

    def __init__(self, model: nn.Module, decay: float = 0.999) -> None:
        super().__init__()
        self.module = copy.deepcopy(model).eval().requires_grad_(False)
        self.decay = decay
        self.register_buffer("updates", torch.zeros((), dtype=torch.long))

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        if self.updates.device.type == "cpu":
            t = self.updates.item()
            weight = 1.0 - min(self.decay, (1.0 + t) / (10.0 + t))
        else:  # the ramp stays on the device (the lerp weight still syncs: docs/benchmarks.md)
            weight = 1.0 - torch.clamp((1.0 + self.updates) / (10.0 + self.updates), max=self.decay)
        self.updates += 1
        torch._foreach_lerp_(list(self.module.parameters()), list(model.parameters()), weight)
        for b_ema, b in zip(self.module.buffers(), model.buffers()):
            b_ema.copy_(b)
