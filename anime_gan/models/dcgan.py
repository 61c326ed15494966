"""The DCGAN generator, the baseline of the paper's Table 3."""

import torch
from torch import Tensor, nn

from anime_gan.data.tags import NUM_TAGS
from anime_gan.models.init import Rebuildable, init_weights
from anime_gan.models.resolution import doublings

_BASE = 4  # side of the first feature map


class DCGANGenerator(Rebuildable):
    """G(z, c) -> image in [-1, 1] with transposed convs (Radford et al.), inputs as the SRResNet G.

    ``Dense(z_dim + num_tags -> W0*4*4) -> BN -> ReLU``, then transposed convs k4s2 (padding 1,
    each doubling the side) with BN + ReLU, halving the width each time, and a last k4s2 to
    3 channels -> tanh. At 128 px the widths are 16b, 8b, 4b, 2b, b at 4, 8, 16, 32, 64 px.

    Size: the paper only says its SRResNet G is about 4x smaller than this baseline (5.4). The
    classic b = 64 gives 13.8 M parameters (3.2x); the default b = 72 gives 17,113,899
    (3.93x the SRResNet G's 4.35 M), the closest plain width to 4x, so b = 72 is chosen.
    Resolutions follow the SRResNet G (16 * 2^k) so the two are interchangeable in a config.

    ``rgb_conv=True`` is the SN-GAN paper's layout (the textbook baseline, ``model=baseline``):
    widths 8b, 4b, 2b, b from 4x4 to full resolution (a transposed conv per doubling), then a
    ``k3n3s1`` conv makes the colours.
    """

    name = "dcgan"

    def __init__(
        self,
        resolution: int = 128,
        z_dim: int = 128,
        num_tags: int = NUM_TAGS,
        base_channels: int = 72,
        rgb_conv: bool = False,
    ) -> None:
        super().__init__()
        num_upsamplings = doublings(resolution, 16, "DCGAN generator") + 2  # 4 -> 16 is 2 more
        self.resolution, self.z_dim, self.num_tags = resolution, z_dim, num_tags
        # b * 2^(n-1) at 4x4 down to b; SN-GAN (rgb_conv) has one more width, then k3n3s1
        n = num_upsamplings + rgb_conv
        widths = [base_channels * 2 ** (n - 1 - i) for i in range(n)]
        self.start_channels = widths[0]
        self.dense = nn.Linear(z_dim + num_tags, widths[0] * _BASE * _BASE)
        self.dense_norm = nn.BatchNorm2d(widths[0])
        layers: list[nn.Module] = []
        for c_in, c_out in zip(widths[:-1], widths[1:]):
            layers += [
                nn.ConvTranspose2d(c_in, c_out, 4, 2, 1),
                nn.BatchNorm2d(c_out),
                nn.ReLU(True),
            ]
        last = (
            nn.Conv2d(widths[-1], 3, 3, 1, 1)
            if rgb_conv
            else nn.ConvTranspose2d(widths[-1], 3, 4, 2, 1)
        )
        layers += [last, nn.Tanh()]
        self.deconvs = nn.Sequential(*layers)
        init_weights(self)

    def forward(self, z: Tensor, c: Tensor) -> Tensor:
        """Images ``[N, 3, R, R]`` in [-1, 1] from noise ``z [N, z_dim]`` and tags ``c [N, T]``."""
        x = self.dense(torch.cat([z, c.to(z.dtype)], dim=1))
        x = torch.relu(self.dense_norm(x.view(-1, self.start_channels, _BASE, _BASE)))
        return self.deconvs(x)
