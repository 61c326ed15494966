"""The SRResNet-like generator of the paper (Fig. 3) and the generator factory.

Notation kXnYsZ: convolution with kernel X, Y output channels, stride Z.
"""

from typing import Any

import torch
from torch import Tensor, nn

from anime_gan.data.tags import NUM_TAGS
from anime_gan.models.dcgan import DCGANGenerator
from anime_gan.models.init import Rebuildable, init_weights, rebuild
from anime_gan.models.resolution import check_option, doublings

_BASE = 16  # side of the first feature map, produced by the dense layer


def _conv(c_in: int, c_out: int, kernel: int, padding: str = "zeros") -> nn.Conv2d:
    """A stride-1 ``k{kernel}`` conv that keeps the map's size, padded with zeros or reflected."""
    return nn.Conv2d(c_in, c_out, kernel, 1, kernel // 2, padding_mode=padding)


class ResBlock(nn.Module):
    """``k3n{C}s1 -> BN -> ReLU -> k3n{C}s1 -> BN``, plus the input (SRResNet: no ReLU after)."""

    def __init__(self, channels: int, padding: str = "zeros") -> None:
        super().__init__()
        self.body = nn.Sequential(
            _conv(channels, channels, 3, padding),
            nn.BatchNorm2d(channels),
            nn.ReLU(inplace=True),
            _conv(channels, channels, 3, padding),
            nn.BatchNorm2d(channels),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


def _upsample_block(channels: int, kind: str = "subpixel", padding: str = "zeros") -> nn.Sequential:
    """A 2x upscaling, C -> C channels, then BN -> ReLU.

    ``subpixel`` (the paper): ``k3n{4C}s1 -> PixelShuffle(2)``. ``nearest``: a nearest-neighbour
    resize then ``k3n{C}s1`` (Odena et al. 2016: no checkerboard by construction).
    """
    if kind == "subpixel":
        up = [_conv(channels, 4 * channels, 3, padding), nn.PixelShuffle(2)]
    else:
        up = [nn.Upsample(scale_factor=2, mode="nearest"), _conv(channels, channels, 3, padding)]
    return nn.Sequential(*up, nn.BatchNorm2d(channels), nn.ReLU(inplace=True))


class SRResNetGenerator(Rebuildable):
    """G(z, c) -> image in [-1, 1], the paper's generator (Fig. 3).

    ``variant="paper"`` follows Fig. 3: ``Dense(z_dim + num_tags -> C*16*16)``, reshape,
    BN (per channel) and ReLU give h0; ``num_res_blocks`` ResBlocks; ``k3n{C}s1 -> BN -> ReLU``
    plus h0 (the long skip); log2(resolution/16) sub-pixel upscalings; ``k9n3s1 -> tanh``.
    At 128 px with the defaults this is 4,352,643 parameters (docs/design.md: about 4.35 M).

    ``variant="site"`` is the model the authors deployed on their web page: the same layers but
    no long skip, and a per-feature ``BatchNorm1d(C*16*16)`` right after the dense layer instead
    of the per-channel BatchNorm2d (32,640 more parameters). Either is a config option (docs/fidelity.md).

    ``icnr=True`` initialises each sub-pixel conv as ICNR does (Aitken et al. 2017): the four
    sub-pixel outputs of a channel start with the same kernel, so each upscaling starts as a
    nearest-neighbour resize instead of a per-pixel random pattern (the checkerboard noise that
    short runs otherwise never train away). The weights keep the ``init`` distribution.

    ``padding="reflect"`` pads every conv by reflection instead of with zeros (the paper's), so a
    border pixel is computed like an interior one: with zeros, the k9 last conv reads up to 4
    columns of black past each edge, which G must learn to undo (docs/training_notes.md: the
    edge streaks and corner dots of the 64 px runs).
    """

    name = "srresnet"

    def __init__(
        self,
        resolution: int = 128,
        z_dim: int = 128,
        num_tags: int = NUM_TAGS,
        channels: int = 64,
        num_res_blocks: int = 16,
        variant: str = "paper",
        init: str = "paper",
        icnr: bool = False,
        upsample: str = "subpixel",
        rgb_kernel: int = 9,
        base: int = _BASE,
        padding: str = "zeros",
    ) -> None:
        super().__init__()
        for option, value, allowed in (
            ("base", base, (4, 8, 16)),  # the first map's side
            ("variant", variant, ("paper", "site")),
            ("upsample", upsample, ("subpixel", "nearest")),
            ("rgb_kernel", rgb_kernel, (1, 3, 5, 7, 9)),
            ("padding", padding, ("zeros", "reflect")),
        ):
            check_option("Generator", option, value, allowed)
        num_upsamplings = doublings(resolution, base, "SRResNet generator")
        self.resolution, self.z_dim, self.num_tags = resolution, z_dim, num_tags
        self.channels, self.variant, self.base = channels, variant, base
        features = channels * base * base
        self.dense = nn.Linear(z_dim + num_tags, features)
        # paper: BN over channels of the 16x16 map; site: BN over each of the C*16*16 features
        self.dense_norm = (
            nn.BatchNorm2d(channels) if variant == "paper" else nn.BatchNorm1d(features)
        )
        self.res_blocks = nn.Sequential(
            *(ResBlock(channels, padding) for _ in range(num_res_blocks))
        )
        self.trunk_out = nn.Sequential(  # k3n64s1 -> BN -> ReLU, then + h0 in the paper variant
            _conv(channels, channels, 3, padding),
            nn.BatchNorm2d(channels),
            nn.ReLU(inplace=True),
        )
        self.upsample = nn.Sequential(
            *(_upsample_block(channels, upsample, padding) for _ in range(num_upsamplings))
        )
        # k9n3s1 -> tanh in the paper
        self.to_rgb = nn.Sequential(_conv(channels, 3, rgb_kernel, padding), nn.Tanh())
        self.upsample_kind = upsample
        init_weights(self, scheme=init, slope=0.0)  # "paper": N(0, 0.02); "scaled": He init
        if icnr and upsample == "subpixel":
            # ICNR: PixelShuffle(2) puts input channel 4c + i at sub-pixel i of output channel c,
            # so copying one kernel per c to its 4 rows makes every sub-pixel equal at the start.
            for block in self.upsample:
                weight = block[0].weight.data
                weight.copy_(weight[::4].repeat_interleave(4, dim=0))

    def forward(self, z: Tensor, c: Tensor) -> Tensor:
        """Images ``[N, 3, R, R]`` in [-1, 1] from noise ``z [N, z_dim]`` and tags ``c [N, T]``."""
        x = self.dense(torch.cat([z, c.to(z.dtype)], dim=1))
        if self.variant == "paper":
            h0 = torch.relu(self.dense_norm(x.view(-1, self.channels, self.base, self.base)))
        else:
            h0 = torch.relu(self.dense_norm(x)).view(-1, self.channels, self.base, self.base)
        h = self.trunk_out(self.res_blocks(h0))
        if self.variant == "paper":
            h = h + h0  # the long skip of Fig. 3
        return self.to_rgb(self.upsample(h))


def build_generator(config: dict[str, Any]) -> nn.Module:
    """A generator from a ``config()`` dict: ``name`` "srresnet" or "dcgan", and its arguments."""
    return rebuild(config, (SRResNetGenerator, DCGANGenerator), "generator")
