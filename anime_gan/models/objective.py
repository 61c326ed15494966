"""The GAN objective, written once: L(D) and L(G) of the paper (section 4.3) and the options
beyond it. Used by the training module (``anime_gan.models.module``) and the benchmark's step.

    L(D) = L_cls(D) + lambda_adv * L_adv(D) + lambda_gp * L_gp(D)
    L(G) = lambda_adv * L_adv(G) + L_cls(G)

with the paper's choices as defaults: L_adv binary cross-entropy, L_gp the DRAGAN penalty,
L_cls(D) on real images with their labels *and* on fakes with their sampled c. The options
(each measured in docs/ablation.md):

- ``adv_loss="hinge"``; ``penalty="r1"`` or ``"none"``;
- ``cls_weight``: the weight of the ACGAN classifier terms (D's on real images, G's); 0 leaves
  the condition to a projection discriminator alone;
- ``fake_cls_weight``: D's L_cls on fakes (0: the classifier learns from real labels only);
- ``augment``: a DiffAugment policy applied to every image D sees (``anime_gan.models.augment``);
- ``gp_every``: lazy regularisation (Karras et al. 2020): the penalty only every k-th iteration,
  weighted by k, so its double backward costs 1/k as much (the paper: every iteration).

The condition reaches a projection discriminator as signed tags (``signed_condition``): real
images with their known labels, fakes with their sampled c on the tags the training set labels.
"""

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from anime_gan.models.augment import diff_augment, parse_policy
from anime_gan.models.discriminator import signed_condition
from anime_gan.models.losses import (
    ADVERSARIAL_LOSSES,
    classification_loss,
    dragan_penalty,
    r1_penalty,
)
from anime_gan.models.resolution import check_option

PENALTIES = ("dragan", "r1", "none")


@dataclass(frozen=True)
class Objective:
    """The loss settings; the paper's recipe is the default."""

    lambda_adv: float = 34.0
    lambda_gp: float = 0.5
    perturb_scale: float = 0.5
    adv_loss: str = "bce"
    penalty: str = "dragan"
    cls_weight: float = 1.0
    fake_cls_weight: float = 1.0
    augment: str | tuple[str, ...] = ""
    gp_every: int = 1

    def __post_init__(self) -> None:
        check_option("model", "adv_loss", self.adv_loss, tuple(ADVERSARIAL_LOSSES))
        check_option("model", "penalty", self.penalty, PENALTIES)
        if not isinstance(self.gp_every, int) or self.gp_every < 1:
            raise ValueError(
                f"model.gp_every must be an integer of at least 1, got {self.gp_every!r}."
            )
        object.__setattr__(self, "_policy", parse_policy(self.augment))

    def _view(self, x: Tensor, rng: torch.Generator | None) -> Tensor:
        """What D sees of an image: the image itself, or its augmentation."""
        return diff_augment(x, self._policy, rng) if self._policy else x

    def gradient_penalty(
        self, d: nn.Module, real: Tensor, y: Tensor | None, rng: torch.Generator | None
    ) -> Tensor:
        """L_gp(D) at the real images D sees (its adversarial logit, with the tags y)."""
        critic = lambda x: d(x, y)[0]  # noqa: E731
        if self.penalty == "dragan":
            return dragan_penalty(critic, real, self.perturb_scale, rng)
        if self.penalty == "r1":
            return r1_penalty(critic, real)
        return real.new_zeros((), dtype=torch.float32)

    def discriminator_loss(
        self,
        d: nn.Module,
        real: Tensor,
        labels: Tensor,
        known: Tensor | None,
        fake: Tensor,
        c: Tensor,
        fake_known: Tensor | None,
        rng: torch.Generator | None = None,
        iteration: int = 0,
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """L(D) for a batch of real images (labels, known mask) and of fakes (their c, and which
        of c's tags are labelled in the training set); returns the loss and its terms. With
        ``gp_every`` k > 1 the penalty is computed at iterations divisible by k only (weight
        k * lambda_gp) and logged as 0 in between."""
        d_loss_fn = ADVERSARIAL_LOSSES[self.adv_loss][0]
        y_real, y_fake = signed_condition(labels, known), signed_condition(c, fake_known)
        real_in, fake_in = self._view(real, rng), self._view(fake.detach(), rng)
        real_adv, real_cls = d(real_in, y_real)
        fake_adv, fake_cls = d(fake_in, y_fake)
        d_adv = d_loss_fn(real_adv, fake_adv)
        d_cls = real_adv.new_zeros((), dtype=torch.float32)
        if self.cls_weight:
            d_cls = d_cls + self.cls_weight * classification_loss(real_cls, labels, known)
        if self.fake_cls_weight:
            d_cls = d_cls + self.fake_cls_weight * classification_loss(fake_cls, c, fake_known)
        loss = d_cls + self.lambda_adv * d_adv
        if iteration % self.gp_every == 0:
            d_gp = self.gradient_penalty(d, real_in, y_real, rng)
            loss = loss + self.gp_every * self.lambda_gp * d_gp
        else:
            d_gp = d_adv.new_zeros((), dtype=torch.float32)
        return loss, {"d_adv": d_adv, "d_cls": d_cls, "d_gp": d_gp, "d_loss": loss}

    def generator_loss(
        self,
        d: nn.Module,
        fake: Tensor,
        c: Tensor,
        fake_known: Tensor | None,
        rng: torch.Generator | None = None,
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """L(G) for fakes (with their graph) made from conditions c; returns the loss and terms."""
        g_loss_fn = ADVERSARIAL_LOSSES[self.adv_loss][1]
        adv, cls = d(self._view(fake, rng), signed_condition(c, fake_known))
        g_adv = g_loss_fn(adv)
        g_cls = classification_loss(cls, c, fake_known)
        loss = self.lambda_adv * g_adv + self.cls_weight * g_cls
        return loss, {"g_adv": g_adv, "g_cls": g_cls, "g_loss": loss}
