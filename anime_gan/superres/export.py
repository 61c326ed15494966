"""The upscaler as ONNX, for the web page's optional 2x step, with a parity check against PyTorch.

One input ``image`` ``[N, 3, H, W]`` and one output ``upscaled`` ``[N, 3, 2H, 2W]``, float32 in
[-1, 1] (pixel = (v + 1) * 127.5), every dimension but the channels dynamic, so the page can
upscale whatever the generator makes (e.g. 128 -> 256). The output is clamped to [-1, 1] inside
the graph (a Hardtanh: ONNX Clip). Same opset and onnxruntime session options as the
generator's export (:mod:`anime_gan.export.onnx`); onnxruntime folds the BatchNorms into the
convolutions itself.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import onnx
import torch
from torch import Tensor, nn

from anime_gan.export.onnx import OPSET, ort_session

INPUT, OUTPUT = "image", "upscaled"


def export_upscaler(model: nn.Module, path: str | Path) -> Path:
    """Write the (eval-mode, CPU) upscaler as ONNX with dynamic batch, height and width."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter's notice that dynamo is default
        torch.onnx.export(
            nn.Sequential(model, nn.Hardtanh()).cpu().eval(),
            (torch.zeros(1, 3, 16, 16),),
            str(path),
            input_names=[INPUT],
            output_names=[OUTPUT],
            dynamic_axes={INPUT: {0: "N", 2: "H", 3: "W"}, OUTPUT: {0: "N", 2: "H2", 3: "W2"}},
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )
    onnx.checker.check_model(str(path))
    return path


def parity(model: nn.Module, path: str | Path, images: Tensor) -> dict[str, float]:
    """Differences between PyTorch's and the ONNX file's outputs on ``images`` (in [-1, 1]):
    max and mean absolute difference, in [-1, 1] units (one grey level is 2/255 = 0.0078)."""
    with torch.no_grad():
        expected = model.cpu().eval()(images).clamp(-1, 1).numpy()
    got = ort_session(path).run([OUTPUT], {INPUT: images.numpy().astype(np.float32)})[0]
    diff = np.abs(got.astype(np.float64) - expected)
    return {"max_abs": float(diff.max()), "mean_abs": float(diff.mean())}
