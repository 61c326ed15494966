"""Differentiable augmentation of D's inputs (DiffAugment, Zhao et al. 2020), for small sets.

The same random transform family is applied to real and fake images every time D sees them
(D step, penalty and G step), and gradients flow through it to G, so D cannot memorise the
few thousand training images and G is not taught to produce augmented faces. Images are in
[-1, 1]; a policy is a list (or a comma-separated string) of

- ``color``: brightness (+U[-0.5, 0.5]), saturation (x U[0, 2]) and contrast (x U[0.5, 1.5]);
- ``translation``: an integer shift of up to 1/8 of the side on each axis, zero padded;
- ``cutout``: a zeroed square of half the side at a random position.

``color`` changes saturation and brightness: it can blur the difference between grey, silver
and white hair, which is why the ablation measures each policy separately (docs/ablation.md).
"""

from collections.abc import Sequence

import torch
from torch import Tensor


def parse_policy(policy: str | Sequence[str] | None) -> tuple[str, ...]:
    """``"translation,cutout"`` or ``["translation", "cutout"]`` -> ("translation", "cutout");
    empty or None -> ()."""
    parts = (policy or "").split(",") if isinstance(policy, str) or policy is None else list(policy)
    names = tuple(str(p).strip() for p in parts if str(p).strip())
    unknown = [p for p in names if p not in _OPS]
    if unknown:
        raise ValueError(
            f"unknown augmentation {unknown[0]!r} in model.augment={policy!r}: use a "
            f"comma-separated list of {', '.join(_OPS)} (or leave it empty)."
        )
    return names


def _rand(x: Tensor, *shape: int, generator: torch.Generator | None) -> Tensor:
    return torch.rand((x.shape[0], *shape), generator=generator, device=x.device, dtype=x.dtype)


def color(x: Tensor, generator: torch.Generator | None = None) -> Tensor:
    x = x + (_rand(x, 1, 1, 1, generator=generator) - 0.5)
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (_rand(x, 1, 1, 1, generator=generator) * 2.0) + mean
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (_rand(x, 1, 1, 1, generator=generator) + 0.5) + mean


def translation(x: Tensor, generator: torch.Generator | None = None) -> Tensor:
    n, _, h, w = x.shape
    sh, sw = int(h / 8 + 0.5), int(w / 8 + 0.5)  # shifts of up to 1/8 of the side
    dy = (_rand(x, generator=generator) * (2 * sh + 1)).long().clamp(max=2 * sh) - sh
    dx = (_rand(x, generator=generator) * (2 * sw + 1)).long().clamp(max=2 * sw) - sw
    rows = (torch.arange(h, device=x.device).view(1, h) - dy.view(n, 1)).clamp(-1, h)  # [n, h]
    cols = (torch.arange(w, device=x.device).view(1, w) - dx.view(n, 1)).clamp(-1, w)  # [n, w]
    padded = torch.nn.functional.pad(x, (1, 1, 1, 1))  # index -1 and h land on the zero border
    batch = torch.arange(n, device=x.device).view(n, 1, 1)
    out = padded.permute(0, 2, 3, 1)[batch, rows.view(n, h, 1) + 1, cols.view(n, 1, w) + 1]
    return out.permute(0, 3, 1, 2)


def cutout(x: Tensor, generator: torch.Generator | None = None) -> Tensor:
    n, _, h, w = x.shape
    ch, cw = int(h / 2 + 0.5), int(w / 2 + 0.5)  # a square of half the side
    cy = (_rand(x, generator=generator) * (h + 1 - ch % 2)).long()
    cx = (_rand(x, generator=generator) * (w + 1 - cw % 2)).long()
    ys = torch.arange(h, device=x.device).view(1, h, 1) - (cy - ch // 2).view(n, 1, 1)
    xs = torch.arange(w, device=x.device).view(1, 1, w) - (cx - cw // 2).view(n, 1, 1)
    inside = (ys >= 0) & (ys < ch) & (xs >= 0) & (xs < cw)  # [n, h, w]
    return x * (~inside).unsqueeze(1).to(x.dtype)


#: The transforms by policy name, in the order the module docstring lists them.
_OPS = {"color": color, "translation": translation, "cutout": cutout}


def diff_augment(
    x: Tensor, policy: tuple[str, ...], generator: torch.Generator | None = None
) -> Tensor:
    """Apply the policy's transforms in order (each one independently random per image)."""
    for name in policy:
        x = _OPS[name](x, generator=generator)
    return x
