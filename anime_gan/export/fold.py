"""An inference copy of the SRResNet generator with every BatchNorm folded into the layer before it.

In eval mode a BatchNorm is a per-channel affine map, so it folds exactly into the weights of the
linear layer that feeds it. onnxruntime fuses ``Conv -> BatchNormalization`` by itself, but not the
two BatchNorms it cannot see through: the one after the dense layer's reshape and the one after
each ``PixelShuffle``. Folded here, those disappear too, and each upscaling block becomes
``Conv -> ReLU -> DepthToSpace`` (ReLU commutes with the shuffle), which onnxruntime runs as one
fused ``Conv + ReLU`` and a copy.

The last layer, ``k9n3s1`` at full resolution, is rewritten too: a convolution of a
``PixelShuffle(2)`` output equals a convolution of its input (4x the channels, half the side)
followed by the shuffle (the polyphase form, :func:`polyphase_conv`). For the 9x9 kernel that is
a 5x5 convolution from 4C channels to 12 on the 64x64 map: 23% more multiply-adds (the kernel
holds zeros) but a matrix product 4x as tall (12 rows, not 3) and an unfolded input 3.2x smaller.
In onnxruntime-web that layer was 30% of the time at 128 px; this form is markedly faster.

With nearest-neighbour upsampling (``upsample=nearest``, model=plus) each block is ``Resize ->
Conv -> ReLU`` once its BatchNorm is folded, and the last layer stays at full resolution.

The outputs equal the original's up to float rounding.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from anime_gan.models.generator import SRResNetGenerator


def _folded(layer: nn.Module, bn: nn.modules.batchnorm._BatchNorm, group: int = 1) -> nn.Module:
    """A copy of the conv or dense ``layer`` that computes ``bn(layer(x))``.

    ``group`` is how many consecutive outputs of the layer share one BatchNorm channel: 1 for a
    conv or a per-feature BN, 4 for a conv before ``PixelShuffle(2)`` (output channel k becomes
    channel k // 4), 256 for the dense layer viewed as a C x 16 x 16 map.
    """
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    shift = bn.bias - bn.running_mean * scale
    scale, shift = scale.repeat_interleave(group), shift.repeat_interleave(group)
    weight = layer.weight * scale.view(-1, *([1] * (layer.weight.dim() - 1)))
    out = copy.deepcopy(layer)  # the generator's layers all have a bias
    out.weight = nn.Parameter(weight.detach().clone())
    out.bias = nn.Parameter((layer.bias * scale + shift).detach().clone())
    return out


def polyphase_conv(weight: Tensor, bias: Tensor) -> tuple[Tensor, Tensor, int]:
    """Weight, bias and padding of ``conv`` such that ``conv(PixelShuffle(2)(x))`` equals
    ``PixelShuffle(2)(conv'(x))`` for a stride-1 convolution with an odd kernel k (padding k // 2).

    Output ``o`` at phase (p, q) (pixel (2y + p, 2x + q)) becomes channel ``4o + 2p + q``; it reads
    shuffled pixel (2y + p + dy, 2x + q + dx), which is channel ``4c + 2a + b`` of ``x`` at
    (y + ty, x + tx) with ``p + dy = 2 ty + a``.
    """
    out_ch, in_ch, k, _ = weight.shape
    r = k // 2
    lo, hi = (-r) // 2, (1 + r) // 2
    taps = hi - lo + 1
    w = weight.new_zeros(out_ch, 2, 2, in_ch, 2, 2, taps, taps)
    for p in range(2):
        for q in range(2):
            for dy in range(-r, r + 1):
                a, ty = (p + dy) % 2, (p + dy) // 2
                for dx in range(-r, r + 1):
                    b, tx = (q + dx) % 2, (q + dx) // 2
                    w[:, p, q, :, a, b, ty - lo, tx - lo] += weight[:, :, dy + r, dx + r]
    return w.reshape(out_ch * 4, in_ch * 4, taps, taps), bias.repeat_interleave(4), -lo


class FoldedSRResNet(nn.Module):
    """The same function as an eval-mode :class:`SRResNetGenerator`, without BatchNorm layers."""

    def __init__(self, g: SRResNetGenerator) -> None:
        super().__init__()  # g in eval mode (inference_generator): BatchNorms on running statistics
        self.channels, self.variant, self.base = g.channels, g.variant, g.base
        # the dense layer's BatchNorm: BN2d per channel (paper) / BN1d per feature (site)
        group = self.base * self.base if g.variant == "paper" else 1
        self.dense = _folded(g.dense, g.dense_norm, group)
        self.res_blocks = nn.ModuleList(
            nn.ModuleList([_folded(b.body[0], b.body[1]), _folded(b.body[3], b.body[4])])
            for b in g.res_blocks
        )
        self.trunk_out = _folded(g.trunk_out[0], g.trunk_out[1])
        self.nearest = g.upsample_kind == "nearest"
        self.upsample = nn.ModuleList(
            _folded(b[1], b[2]) if self.nearest else _folded(b[0], b[2], group=4)
            for b in g.upsample
        )
        rgb = g.to_rgb[0]
        # the polyphase k9 reads zeros past the edge as the original does; reflection it cannot
        self.polyphase = len(self.upsample) > 0 and not self.nearest and rgb.padding_mode == "zeros"
        if self.polyphase:  # on the last block's unshuffled output
            weight, bias, padding = polyphase_conv(rgb.weight.detach(), rgb.bias.detach())
            rgb = nn.Conv2d(weight.shape[1], weight.shape[0], weight.shape[2], 1, padding)
            rgb.weight, rgb.bias = nn.Parameter(weight), nn.Parameter(bias)
        self.to_rgb = copy.deepcopy(rgb)
        self.eval()

    def forward(self, z: Tensor, c: Tensor) -> Tensor:
        """Images ``[N, 3, R, R]`` in [-1, 1], as :meth:`SRResNetGenerator.forward`."""
        h0 = torch.relu(self.dense(torch.cat([z, c.to(z.dtype)], dim=1)))
        h0 = h0.view(-1, self.channels, self.base, self.base)
        h = h0
        for conv1, conv2 in self.res_blocks:
            h = h + conv2(torch.relu(conv1(h)))
        h = torch.relu(self.trunk_out(h))
        if self.variant == "paper":
            h = h + h0  # the long skip of Fig. 3
        if self.nearest:  # resize -> k3n{C}s1 -> ReLU, BN folded; the last layer as it was
            for conv in self.upsample:
                h = torch.relu(conv(F.interpolate(h, scale_factor=2.0, mode="nearest")))
            return torch.tanh(self.to_rgb(h))
        for i, conv in enumerate(self.upsample):  # k3n{4C}s1 -> ReLU -> PixelShuffle(2), BN folded
            h = torch.relu(conv(h))
            if i < len(self.upsample) - 1 or not self.polyphase:
                h = F.pixel_shuffle(h, 2)
        h = torch.tanh(self.to_rgb(h))  # k9n3s1 (polyphase: on the unshuffled map) -> tanh
        return F.pixel_shuffle(h, 2) if self.polyphase else h


def inference_generator(g: nn.Module) -> nn.Module:
    """The network to export: BatchNorms folded for the SRResNet generator, any other as it is."""
    g = g.eval()
    return FoldedSRResNet(g) if isinstance(g, SRResNetGenerator) else g
