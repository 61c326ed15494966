"""The upscaler as ONNX, for the web page's optional 2x step, with a parity check against PyTorch.

One input ``image`` ``[N, 3, H, W]`` and one output ``upscaled`` ``[N, 3, 2H, 2W]``, float32 in
[-1, 1] (pixel = (v + 1) * 127.5), every dimension but the channels dynamic, so the page can
upscale whatever the generator makes (e.g. 128 -> 256). The output is clamped to [-1, 1] inside
the graph (a Hardtanh: ONNX Clip). Same opset and onnxruntime session options as the
generator's export (:mod:`anime_gan.export.onnx`); onnxruntime folds the BatchNorms into the
convolutions itself.
"""

from __future__ import annotations

from pathlib import Path

import onnx
import torch
from torch import Tensor, nn

from anime_gan.export import onnx as gan_onnx

INPUT, OUTPUT = "image", "upscaled"


def export_upscaler(model: nn.Module, path: str | Path) -> Path:
    """Write the (eval-mode, CPU) upscaler as ONNX with dynamic batch, height and width."""
    path = gan_onnx.write_onnx(
        _clamped(model),
        (torch.zeros(1, 3, 16, 16),),
        path,
        {INPUT: {0: "N", 2: "H", 3: "W"}},
        {OUTPUT: {0: "N", 2: "H2", 3: "W2"}},
    )
    onnx.checker.check_model(str(path))
    return path


def parity(model: nn.Module, path: str | Path, images: Tensor) -> dict[str, float | None]:
    """:func:`anime_gan.export.onnx.parity` of the exported upscaler on ``images`` (in [-1, 1])."""
    return gan_onnx.parity(_clamped(model), path, {INPUT: images}, OUTPUT)


def _clamped(model: nn.Module) -> nn.Module:
    """The upscaler with its output clamped to [-1, 1], as the graph has it (ONNX Clip)."""
    return nn.Sequential(model, nn.Hardtanh()).cpu().eval()
