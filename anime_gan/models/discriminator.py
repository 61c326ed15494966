"""The ResNet discriminator of the paper (Fig. 4) with its two heads, and its options.

No normalization layers at all: batch statistics would couple the samples of a batch, which is
wrong for the per-sample gradient norm of the DRAGAN penalty (paper 5.1.1). Spectral
normalisation (Miyato et al. 2018) is a per-layer weight reparametrisation, not a batch
statistic, so it is compatible with the penalty; it is an option beyond the paper.

Beyond the paper, the condition can also enter the adversarial logit through a projection
(Miyato & Koyama 2018): ``D_adv(x, y) = w^T h + y^T V h`` where ``h`` is the feature vector and
``y`` the signed tag vector (+1 present, -1 absent, 0 unknown: :func:`signed_condition`), so D
judges "a real face with these tags" in one number instead of in a separate classifier head.
"""

from typing import Any

import torch
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm as _spectral_norm

from anime_gan.data.tags import NUM_TAGS
from anime_gan.models.init import Rebuildable, init_weights, rebuild
from anime_gan.models.resolution import ResolutionError, check_option, doublings

_SLOPE = 0.2  # LeakyReLU negative slope
# Downsampling kernel after each stage (Fig. 4): k4n64s2, k4n128s2, k3n256s2, k3n512s2, k3n1024s2.
# Padding 1 with stride 2 halves an even side exactly for both k4 and k3.
_DOWN_KERNELS = (4, 4, 3, 3, 3)
_MAX_STAGES = len(_DOWN_KERNELS)


def signed_condition(labels: Tensor, known: Tensor | None = None) -> Tensor:
    """The projection's input: +1 for a present tag, -1 for an absent one, 0 where unknown.

    An unknown tag (a partially labelled set, or a tag no image labels) adds nothing to the
    projection, as it adds nothing to L_cls.
    """
    signed = labels.float() * 2.0 - 1.0
    return signed if known is None else torch.where(known.bool(), signed, torch.zeros_like(signed))


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


class TwoHeadDiscriminator(Rebuildable):
    """What every discriminator shares: a ``body`` whose flattened output feeds the adversarial
    head (plus the projection of the tags, when on) and the tag classifier head."""

    def _add_heads(
        self, num_features: int, projection: bool, init: str, slope: float, spectral_norm: bool
    ) -> None:
        """The heads on ``num_features`` features, then the init of every layer and the
        optional spectral normalisation."""
        self.num_features = num_features
        self.adv_head = nn.Linear(num_features, 1)
        self.cls_head = nn.Linear(num_features, self.num_tags)
        self.projection = nn.Linear(self.num_tags, num_features, bias=False) if projection else None
        init_weights(self, scheme=init, slope=slope)
        if spectral_norm:  # one power iteration per forward, registered on each layer in place
            for m in list(self.modules()):
                if isinstance(m, (nn.Conv2d, nn.Linear)):
                    _spectral_norm(m)

    def features(self, x: Tensor) -> Tensor:
        """The flattened last feature map ``[N, num_features]`` that both heads read."""
        return self.body(x).flatten(1)

    def forward(self, x: Tensor, y: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """``(adv_logits [N], cls_logits [N, num_tags])`` for images ``x [N, 3, R, R]``.

        ``y`` (signed tags ``[N, num_tags]``, :func:`signed_condition`) feeds the projection;
        without a projection, or with ``y`` None, the adversarial logit ignores the tags.
        """
        h = self.features(x)
        adv = self.adv_head(h).squeeze(1)
        if self.projection is not None and y is not None:
            adv = adv + (self.projection(y.to(h.dtype)) * h).sum(1)
        return adv, self.cls_head(h)


class ResNetDiscriminator(TwoHeadDiscriminator):
    """D(x) -> (adversarial logit, tag logits), the paper's discriminator (Fig. 4).

    ``k4n{C}s2 -> LReLU``; then stages with widths C, 2C, 4C, 8C, 16C (C = ``channels`` = 32 in
    the paper), each two DResBlocks and a stride-2 conv doubling the width, + LReLU; flatten;
    ``Dense(-> 1)`` (adversarial) and ``Dense(-> num_tags)`` (classifier). Both heads return
    logits: the losses apply the sigmoid. At 128 px: 1024x2x2 = 4,096 features and
    19,078,531 parameters (the paper's Fig. 4: about 19.1 M).

    Options beyond the paper (both off in ``model=gan``): ``spectral_norm`` on every layer, and
    ``projection``, a ``[num_tags -> num_features]`` map whose inner product with the features
    is added to the adversarial logit (see the module docstring).
    """

    name = "resnet"

    def __init__(
        self,
        resolution: int = 128,
        num_tags: int = NUM_TAGS,
        channels: int = 32,
        num_stages: int | None = None,
        init: str = "paper",
        spectral_norm: bool = False,
        projection: bool = False,
        stem: str = "paper",
        down_kernel: int | None = None,
        final_side: int = 1,
    ) -> None:
        super().__init__()
        if num_stages is None:
            # 5 as in Fig. 4, fewer when the map would shrink below final_side (1: as small as
            # 1x1; 2: the 2x2 map the paper's D ends on at 128 px). The first conv halves the side
            # and each stage halves it again: 128 -> 5 (2x2 map), 64 -> 5, 32 -> 4, 16 -> 3 (1x1).
            check_option("Discriminator", "final_side", final_side, (1, 2))
            num_stages = min(
                _MAX_STAGES, doublings(resolution, 1, "ResNet discriminator") - final_side
            )
        side = resolution >> (num_stages + 1)
        if not 1 <= num_stages <= _MAX_STAGES or side < 1 or side << (num_stages + 1) != resolution:
            raise ResolutionError(
                f"The ResNet discriminator cannot use {num_stages} stages at resolution "
                f"{resolution}: it needs 1 to {_MAX_STAGES} stages that halve the side exactly "
                f"(resolution divisible by 2^(stages+1)); leave num_stages unset to choose it."
            )
        self.resolution, self.num_tags = resolution, num_tags
        self.channels, self.num_stages = channels, num_stages
        # the first layers: k4n{C}s2 (Fig. 4), or "conv3": a full-resolution k3n{C}s1 before it
        check_option("Discriminator", "stem", stem, ("paper", "conv3"))
        layers = [nn.Conv2d(3, channels, 3, 1, 1), nn.LeakyReLU(_SLOPE)] if stem == "conv3" else []
        layers += [
            nn.Conv2d(3 if stem == "paper" else channels, channels, 4, 2, 1),
            nn.LeakyReLU(_SLOPE),
        ]
        width = channels
        kernels = _DOWN_KERNELS if down_kernel is None else (down_kernel,) * _MAX_STAGES
        for kernel in kernels[:num_stages]:
            layers += [DResBlock(width), DResBlock(width)]
            layers += [nn.Conv2d(width, 2 * width, kernel, 2, 1), nn.LeakyReLU(_SLOPE)]
            width *= 2
        self.body = nn.Sequential(*layers)
        self._add_heads(width * side * side, projection, init, _SLOPE, spectral_norm)


def build_discriminator(config: dict[str, Any]) -> nn.Module:
    """A discriminator from a ``config()`` dict: ``name`` "resnet" or "sndcgan", and its arguments."""
    from anime_gan.models.sndcgan import SNDCGANDiscriminator

    return rebuild(config, (ResNetDiscriminator, SNDCGANDiscriminator), "discriminator")
