"""The textbook conditional GAN's discriminator: SN-DCGAN (Miyato et al. 2018) with a projection.

Not the paper's: it is the baseline row of the ablation (``model=baseline``, docs/ablation.md),
the standard recipe a reader would try first, so the paper's recipe and ours are measured
against it on the same data and budget. Layout of the SN-GAN paper's "standard CNN", widths
scaled by ``channels`` (64 there): per stage ``k3s1 -> LReLU(0.1) -> k4s2 -> LReLU(0.1)``
until a 4x4 map, then ``k3s1`` at 8x the width, LReLU, flatten, the adversarial head (plus the
projection of the tags) and a tag classifier head (used only when an ACGAN loss is switched on).
Spectral normalisation on every layer.
"""

from torch import nn

from anime_gan.data.tags import NUM_TAGS
from anime_gan.models.discriminator import TwoHeadDiscriminator
from anime_gan.models.resolution import doublings

_SLOPE = 0.1  # the SN-GAN paper's LeakyReLU slope
_LAST = 4  # side of the last feature map


class SNDCGANDiscriminator(TwoHeadDiscriminator):
    """D(x, y) -> (adversarial logit + projection, tag logits), the baseline's discriminator."""

    name = "sndcgan"

    def __init__(
        self,
        resolution: int = 32,
        num_tags: int = NUM_TAGS,
        channels: int = 32,
        projection: bool = True,
        spectral_norm: bool = True,
    ) -> None:
        super().__init__()
        stages = doublings(resolution, _LAST, "SN-DCGAN discriminator")
        self.resolution, self.num_tags = resolution, num_tags
        widths = [3] + [channels * 2**i for i in range(stages + 1)]
        layers: list[nn.Module] = []
        for i, (c_in, c_out) in enumerate(zip(widths, widths[1:])):
            layers += [nn.Conv2d(c_in, c_out, 3, 1, 1), nn.LeakyReLU(_SLOPE)]
            if i < stages:  # a k4s2 halving the side after each but the last (8x wide) k3s1
                layers += [nn.Conv2d(c_out, c_out, 4, 2, 1), nn.LeakyReLU(_SLOPE)]
        self.body = nn.Sequential(*layers)
        self._add_heads(widths[-1] * _LAST * _LAST, projection, "scaled", _SLOPE, spectral_norm)
