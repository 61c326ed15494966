"""The losses of the paper (section 4.3) as small pure functions on logits.

    L(D) = L_cls(D) + lambda_adv * L_adv(D) + lambda_gp * L_gp(D)
    L(G) = lambda_adv * L_adv(G) + L_cls(G)
The weights are applied by the caller. Every function returns a float32 scalar, also when the
networks run under bf16 autocast.
"""

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor


def _bce(logits: Tensor, target: float) -> Tensor:
    logits = logits.float()
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


def d_adversarial_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """L_adv(D) = -E_x[log D(x)] - E_z,c[log(1 - D(G(z, c)))] (paper 4.3: real -> 1, fake -> 0).

    The sum of the two batch means, as written in the paper and in ACGAN's code (not their
    average): at logits 0 it is 2 log 2.
    """
    return _bce(real_logits, 1.0) + _bce(fake_logits, 0.0)


def g_adversarial_loss(fake_logits: Tensor) -> Tensor:
    """L_adv(G) = -E_z,c[log D(G(z, c))] (paper 4.3: fake -> 1, the non-saturating form)."""
    return _bce(fake_logits, 1.0)


def classification_loss(logits: Tensor, labels: Tensor, known: Tensor | None = None) -> Tensor:
    """L_cls = -E[log P_D(c | x)]: multi-label BCE **summed over the tags**, averaged over images.

    The paper's L_cls is the log-likelihood of the whole label vector, i.e. the sum of the 34
    per-tag log-likelihoods; that is why lambda_adv equal to the number of tags balances it
    (paper 4.3). Averaging over tags instead would make the class signal 34x weaker.

    ``logits`` and ``labels`` are ``[N, num_tags]``; ``known`` (bool or 0/1, same shape) marks the
    entries whose label is known. An unknown entry is marginalised out (it contributes log 1 = 0):
    it adds exactly nothing to the value or the gradient, whatever its label holds (NaN included).
    With no known entry the result is a zero still attached to ``logits``, so backward runs.
    """
    logits = logits.float()
    n = max(logits.shape[0], 1)
    if known is None:
        return F.binary_cross_entropy_with_logits(logits, labels.float(), reduction="sum") / n
    mask = known.bool()
    safe_labels = torch.where(mask, labels.float(), torch.zeros_like(logits))
    per_entry = F.binary_cross_entropy_with_logits(logits, safe_labels, reduction="none")
    return torch.where(mask, per_entry, torch.zeros_like(per_entry)).sum() / n


def dragan_penalty(
    critic: Callable[[Tensor], Tensor],
    real: Tensor,
    perturb_scale: float = 0.5,
    generator: torch.Generator | None = None,
) -> Tensor:
    """L_gp(D) = E_x_hat[(||grad_x_hat D(x_hat)||_2 - 1)^2] around real images (DRAGAN, paper 4.3).

    x_p = x + perturb_scale * std(x) * u with u ~ U[0, 1] per element and std over the whole
    batch (as DRAGAN's reference code); x_hat = x + alpha * (x_p - x) with alpha ~ U[0, 1] per
    sample. ``critic`` maps images to adversarial logits ``[N]`` (e.g. ``lambda x: d(x)[0]``);
    the gradient keeps its graph (double backprop), so the result trains the critic.

    The critic may run under bf16 autocast (the caller decides); the gradient is cast to float32
    before the norm and the square. Random numbers come from ``generator`` when given.
    """
    x = real.detach()
    std = x.float().std()
    u = torch.rand(x.shape, generator=generator, device=x.device, dtype=torch.float32)
    alpha_shape = (x.shape[0],) + (1,) * (x.dim() - 1)
    alpha = torch.rand(alpha_shape, generator=generator, device=x.device, dtype=torch.float32)
    x_p = x.float() + perturb_scale * std * u
    x_hat = (x.float() + alpha * (x_p - x.float())).to(x.dtype).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    norm = grad.float().flatten(1).norm(2, dim=1)
    return ((norm - 1.0) ** 2).mean()


# -- beyond the paper (model=plus; docs/ablation.md) ------------------------------------------
def d_hinge_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """Hinge L_adv(D) = E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z, c)))] (Lim & Ye 2017; SN-GAN)."""
    return F.relu(1.0 - real_logits.float()).mean() + F.relu(1.0 + fake_logits.float()).mean()


def g_hinge_loss(fake_logits: Tensor) -> Tensor:
    """Hinge L_adv(G) = -E[D(G(z, c))]: G raises the critic's raw score of its samples."""
    return -fake_logits.float().mean()


ADVERSARIAL_LOSSES = {
    "bce": (d_adversarial_loss, g_adversarial_loss),  # the paper's
    "hinge": (d_hinge_loss, g_hinge_loss),
}


def r1_penalty(critic: Callable[[Tensor], Tensor], real: Tensor) -> Tensor:
    """R1 (Mescheder et al. 2018): E_x[||grad_x D(x)||_2^2] on the real images themselves.

    Zero-centred, where DRAGAN pulls the norm towards 1 around perturbed reals; the caller's
    weight is gamma / 2 in the R1 paper's notation. Double backprop, as the DRAGAN penalty.
    """
    x = real.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
    return grad.float().flatten(1).pow(2).sum(1).mean()
