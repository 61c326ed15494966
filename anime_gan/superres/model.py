"""The 2x upscaler (SRResNet of SRGAN, Ledig et al. 2017, as the paper's 5.5 uses) and its critic.

Notation kXnYsZ: convolution with kernel X, Y output channels, stride Z.

The upscaler learns the difference from a bicubic 2x upscaling of its input (``residual=True``):
its last convolution starts at zero, so an untrained model *is* bicubic resampling and training
can only move away from that baseline where the pixel and adversarial losses ask for it. This
makes the few CPU minutes of ``make sr`` enough to beat bicubic; SRGAN itself predicts the
image directly (``residual=False``, with a tanh).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from anime_gan.data.transforms import nchw_to_nhwc, to_model_range, to_uint8
from anime_gan.errors import UserError
from anime_gan.models.generator import ResBlock
from anime_gan.models.init import init_weights

_SLOPE = 0.2  # LeakyReLU slope of the critic


class SRResNet2x(nn.Module):
    """Low-resolution image ``[N, 3, h, w]`` in [-1, 1] -> ``[N, 3, 2h, 2w]`` (any h, w).

    ``k9n{C}s1 -> ReLU`` (h0); ``num_res_blocks`` ResBlocks (the main generator's, with BN);
    ``k3n{C}s1 -> BN`` plus h0 (SRGAN's long skip); one sub-pixel step ``k3n{4C}s1 ->
    PixelShuffle(2) -> ReLU``; ``k9n3s1``. With ``residual`` the result is added to
    ``bicubic(x)`` (PyTorch's bicubic, a = -0.75, which ONNX ``Resize`` reproduces); without it a
    tanh bounds it. Outputs are not clamped: :func:`upscale_images` clamps when making pictures.
    """

    def __init__(self, channels: int = 64, num_res_blocks: int = 16, residual: bool = True) -> None:
        super().__init__()
        self.channels, self.num_res_blocks, self.residual = channels, num_res_blocks, residual
        self.head = nn.Sequential(nn.Conv2d(3, channels, 9, 1, 4), nn.ReLU(inplace=True))
        self.res_blocks = nn.Sequential(*(ResBlock(channels) for _ in range(num_res_blocks)))
        self.trunk_out = nn.Sequential(
            nn.Conv2d(channels, channels, 3, 1, 1), nn.BatchNorm2d(channels)
        )
        self.upsample = nn.Sequential(
            nn.Conv2d(channels, 4 * channels, 3, 1, 1),
            nn.PixelShuffle(2),
            nn.ReLU(inplace=True),
        )
        self.to_rgb = nn.Conv2d(channels, 3, 9, 1, 4)
        init_weights(self)
        if residual:  # start as exactly the bicubic baseline
            nn.init.zeros_(self.to_rgb.weight)

    def forward(self, x: Tensor) -> Tensor:
        h0 = self.head(x)
        h = self.trunk_out(self.res_blocks(h0)) + h0
        out = self.to_rgb(self.upsample(h))
        if not self.residual:
            return torch.tanh(out)
        return F.interpolate(x, scale_factor=2, mode="bicubic", align_corners=False) + out

    def config(self) -> dict[str, Any]:
        """Constructor arguments: ``SRResNet2x(**m.config())`` rebuilds it (checkpoints keep it)."""
        return {
            "channels": self.channels,
            "num_res_blocks": self.num_res_blocks,
            "residual": self.residual,
        }


class SRDiscriminator(nn.Module):
    """D(x) -> one real/fake logit per image, for any input size >= 16 (96 px included).

    SRGAN's critic without its BatchNorm (as the project's ResNet D, so that samples of a batch
    do not interact): ``k3n{C}s1``, then pairs ``k3n{W}s2, k3n{2W}s1`` that halve the side and
    double the width ``num_stages`` times, each conv followed by LeakyReLU(0.2); global average
    pooling; ``Dense(8C -> 1)`` for the default 3 stages. The pooling, rather than a dense layer
    over a fixed map, is what lets one critic read 64 and 96 px alike.

    Weights are He-initialised for the LeakyReLU (N(0, gain^2 / fan_in): the "scaled" scheme of
    :func:`anime_gan.models.init.init_weights`), not N(0, 0.02): with no normalisation and 16-32
    channels, 0.02 shrinks the signal ~10x per layer, the logits sit at 0 and the critic's loss
    stays at 2 log 2 for the first dozens of iterations (60 in a measurement against the demo's
    pixel model, where He init starts learning at once): most of a short CPU run's adversarial
    term would be noise.
    """

    def __init__(self, channels: int = 32, num_stages: int = 3) -> None:
        super().__init__()
        self.channels, self.num_stages = channels, num_stages
        layers: list[nn.Module] = [nn.Conv2d(3, channels, 3, 1, 1), nn.LeakyReLU(_SLOPE)]
        width = channels
        for _ in range(num_stages):
            layers += [
                nn.Conv2d(width, width, 3, 2, 1),
                nn.LeakyReLU(_SLOPE),
                nn.Conv2d(width, 2 * width, 3, 1, 1),
                nn.LeakyReLU(_SLOPE),
            ]
            width *= 2
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, 1)
        init_weights(self, scheme="scaled", slope=_SLOPE)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.body(x).mean(dim=(2, 3))).squeeze(1)

    def config(self) -> dict[str, Any]:
        return {"channels": self.channels, "num_stages": self.num_stages}


def load_upscaler(path: str | Path) -> tuple[SRResNet2x, dict[str, Any]]:
    """The upscaler of an ``anime-gan sr-train`` checkpoint, in eval mode on the CPU, and the
    checkpoint's ``anime_gan`` section (config, iteration, adv_weight, data it was trained on)."""
    from anime_gan.models.checkpoint import read_checkpoint

    ckpt = read_checkpoint(path)
    meta = ckpt["anime_gan"]
    if "upscaler_config" not in meta:
        raise UserError(
            f"{path} is a face generator checkpoint, not an upscaler: give a checkpoint "
            f"written by `anime-gan sr-train` (e.g. runs/sr/demo/0/checkpoints/last.ckpt)."
        )
    model = SRResNet2x(**meta["upscaler_config"])
    state = ckpt["state_dict"].items()
    model.load_state_dict(
        {k.removeprefix("upscaler."): v for k, v in state if k.startswith("upscaler.")}
    )
    return model.eval(), meta


@torch.no_grad()
def upscale_images(
    model: nn.Module, images_uint8: np.ndarray | Tensor, batch_size: int = 16
) -> np.ndarray:
    """2x-upscale uint8 RGB images ``[N, H, W, 3]`` (or one ``[H, W, 3]``) -> uint8
    ``[N, 2H, 2W, 3]`` (numpy), or one clear UserError for other arrays.

    What ``generate`` and ``upscale`` call; the model runs in eval mode on its own device, in
    batches of ``batch_size`` (all images of one call share a size).
    """
    # a copy of numpy input: it may be read-only (Pillow's pixels, a memory-mapped dataset)
    images = torch.tensor(images_uint8) if isinstance(images_uint8, np.ndarray) else images_uint8
    shape = tuple(images.shape)
    if images.dim() == 3:
        images = images[None]
    if images.dim() != 4 or images.shape[-1] != 3:
        raise UserError(
            f"the images must be arrays [N, H, W, 3] or one [H, W, 3], not of shape {shape}: "
            f"convert them to stacked 3-channel RGB images first."
        )
    if images.dtype != torch.uint8:
        raise UserError(
            f"the images must be uint8 pixels in [0, 255], not {images.dtype}: convert them with "
            f"anime_gan.data.transforms.to_uint8 or np.uint8 first."
        )
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    out = []
    try:
        for batch in images.split(batch_size):
            x = to_model_range(batch.to(device).permute(0, 3, 1, 2))
            out.append(nchw_to_nhwc(to_uint8(model(x))))  # to_uint8 clamps to [0, 255]
    finally:
        model.train(was_training)
    return np.concatenate(out)
