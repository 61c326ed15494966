"""The ResNet discriminator of the paper (Fig. 4, SPEC 3) with its two heads.

No normalization layers at all: batch statistics would couple the samples of a batch, which is
wrong for the per-sample gradient norm of the DRAGAN penalty (paper 5.1.1).
"""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from anime_gan.data.tags import NUM_TAGS
from anime_gan.models.init import init_weights
from anime_gan.models.resolution import ResolutionError, doublings

_SLOPE = 0.2  # LeakyReLU negative slope
# Downsampling kernel after each stage (Fig. 4): k4n64s2, k4n128s2, k3n256s2, k3n512s2, k3n1024s2.
# Padding 1 with stride 2 halves an even side exactly for both k4 and k3.
_DOWN_KERNELS = (4, 4, 3, 3, 3)
_MAX_STAGES = len(_DOWN_KERNELS)


class DResBlock(nn.Module):
    """``conv k3 -> LReLU -> conv k3``, plus the input, then LReLU (no normalization)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, 1, 1),
            nn.LeakyReLU(_SLOPE),
            nn.Conv2d(channels, channels, 3, 1, 1),
        )
        self.act = nn.LeakyReLU(_SLOPE)

    def forward(self, x: Tensor) -> Tensor:
        return self.act(x + self.body(x))


def default_num_stages(resolution: int) -> int:
    """Stages for a resolution: 5 as in Fig. 4, fewer when the map would shrink below 1x1.

    The first conv halves the side and each stage halves it again: 128 -> 5 (2x2 map),
    64 -> 5 (1x1), 32 -> 4 (1x1), 16 -> 3 (1x1).
    """
    return min(_MAX_STAGES, doublings(resolution, 1, "ResNet discriminator") - 1)


class ResNetDiscriminator(nn.Module):
    """D(x) -> (adversarial logit, tag logits), the paper's discriminator (Fig. 4).

    ``k4n{C}s2 -> LReLU``; then stages with widths C, 2C, 4C, 8C, 16C (C = ``channels`` = 32 in
    the paper), each two DResBlocks and a stride-2 conv doubling the width, + LReLU; flatten;
    ``Dense(-> 1)`` (adversarial) and ``Dense(-> num_tags)`` (classifier). Both heads return
    logits: the losses apply the sigmoid. At 128 px: 1024x2x2 = 4,096 features and
    19,078,531 parameters (SPEC 3: about 19.1 M).
    """

    def __init__(
        self,
        resolution: int = 128,
        num_tags: int = NUM_TAGS,
        channels: int = 32,
        num_stages: int | None = None,
        init: str = "paper",
    ) -> None:
        super().__init__()
        if num_stages is None:
            num_stages = default_num_stages(resolution)
        side = resolution >> (num_stages + 1)
        if not 1 <= num_stages <= _MAX_STAGES or side < 1 or side << (num_stages + 1) != resolution:
            raise ResolutionError(
                f"The ResNet discriminator cannot use {num_stages} stages at resolution "
                f"{resolution}: it needs 1 to {_MAX_STAGES} stages that halve the side exactly "
                f"(resolution divisible by 2^(stages+1)); leave num_stages unset to choose it."
            )
        self.resolution, self.num_tags = resolution, num_tags
        self.channels, self.num_stages = channels, num_stages
        layers: list[nn.Module] = [nn.Conv2d(3, channels, 4, 2, 1), nn.LeakyReLU(_SLOPE)]
        width = channels
        for kernel in _DOWN_KERNELS[:num_stages]:
            layers += [DResBlock(width), DResBlock(width)]
            layers += [nn.Conv2d(width, 2 * width, kernel, 2, 1), nn.LeakyReLU(_SLOPE)]
            width *= 2
        self.body = nn.Sequential(*layers)
        self.num_features = width * side * side
        self.adv_head = nn.Linear(self.num_features, 1)
        self.cls_head = nn.Linear(self.num_features, num_tags)
        self.init = init
        init_weights(self, scheme=init, slope=_SLOPE)

    def features(self, x: Tensor) -> Tensor:
        """The flattened last feature map ``[N, num_features]`` that both heads read."""
        return self.body(x).flatten(1)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """``(adv_logits [N], cls_logits [N, num_tags])`` for images ``x [N, 3, R, R]``."""
        h = self.features(x)
        return self.adv_head(h).squeeze(1), self.cls_head(h)

    def config(self) -> dict[str, Any]:
        """Constructor arguments plus ``name``: ``build_discriminator(d.config())`` rebuilds it."""
        return {
            "name": "resnet",
            "resolution": self.resolution,
            "num_tags": self.num_tags,
            "channels": self.channels,
            "num_stages": self.num_stages,
            "init": self.init,
        }


def build_discriminator(config: dict[str, Any]) -> ResNetDiscriminator:
    """A discriminator from a ``config()`` dict (e.g. one stored in a checkpoint), without Hydra."""
    kwargs = dict(config)
    name = kwargs.pop("name", "resnet")
    if name != "resnet":
        raise ValueError(f"Unknown discriminator {name!r}; the only one is 'resnet'.")
    return ResNetDiscriminator(**kwargs)
