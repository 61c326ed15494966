"""The losses of the paper (4.3) on cases small enough to compute by hand."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from anime_gan.models.discriminator import ResNetDiscriminator
from anime_gan.models.losses import (
    classification_loss,
    d_adversarial_loss,
    dragan_penalty,
    g_adversarial_loss,
)

LOG2 = math.log(2.0)


def test_adversarial_losses_at_zero_logits_are_log_2() -> None:
    zeros = torch.zeros(5)
    assert d_adversarial_loss(zeros, zeros).item() == pytest.approx(2 * LOG2)
    assert g_adversarial_loss(zeros).item() == pytest.approx(LOG2)


def test_adversarial_losses_by_hand() -> None:
    real, fake = torch.tensor([2.0, -1.0]), torch.tensor([0.5, 3.0])
    # -log sigmoid(x) = softplus(-x); -log(1 - sigmoid(x)) = softplus(x)
    sp = lambda x: math.log1p(math.exp(x))  # noqa: E731
    d_expected = (sp(-2.0) + sp(1.0)) / 2 + (sp(0.5) + sp(3.0)) / 2
    assert d_adversarial_loss(real, fake).item() == pytest.approx(d_expected, rel=1e-6)
    assert g_adversarial_loss(fake).item() == pytest.approx((sp(-0.5) + sp(-3.0)) / 2, rel=1e-6)


def test_losses_are_float32_for_bf16_logits() -> None:
    logits = torch.zeros(4, 3, dtype=torch.bfloat16)
    assert d_adversarial_loss(logits[:, 0], logits[:, 1]).dtype == torch.float32
    assert classification_loss(logits, torch.ones(4, 3)).dtype == torch.float32


def test_classification_loss_by_hand() -> None:
    logits = torch.tensor([[0.0, 2.0], [-1.0, 0.0]])
    labels = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    sp = lambda x: math.log1p(math.exp(x))  # noqa: E731
    # entries: (0 -> 1) log 2, (2 -> 0) softplus(2), (-1 -> 0) softplus(-1), (0 -> 1) log 2
    # summed over tags, averaged over the 2 images (log P(c|x) of the whole label vector)
    full = (LOG2 + sp(2.0) + sp(-1.0) + LOG2) / 2
    assert classification_loss(logits, labels).item() == pytest.approx(full, rel=1e-6)
    known = torch.tensor([[True, False], [True, True]])
    partial = (LOG2 + sp(-1.0) + LOG2) / 2  # the unknown entry is marginalised out
    assert classification_loss(logits, labels, known).item() == pytest.approx(partial, rel=1e-6)
    assert classification_loss(logits, labels, known.float()).item() == pytest.approx(partial)
    assert classification_loss(logits, labels, torch.ones(2, 2)).item() == pytest.approx(full)


def test_classification_loss_ignores_unknown_entries() -> None:
    known = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    labels = torch.tensor([[1.0, float("nan"), 0.0], [1.0, 0.0, 1.0]])
    results = []
    for unknown_logit in (-3.0, 50.0):
        logits = torch.tensor([[0.3, unknown_logit, -0.7], [unknown_logit, 1.2, 0.1]])
        logits.requires_grad_(True)
        loss = classification_loss(logits, labels, known)
        loss.backward()
        results.append((loss.detach(), logits.grad.clone()))
    (v1, g1), (v2, g2) = results
    assert torch.equal(v1, v2) and torch.equal(g1, g2)
    assert torch.all(g1[known == 0] == 0) and torch.all(g1[known == 1] != 0)
    # gradient of a known entry: (sigmoid(x) - y) / number of images
    assert g1[0, 0].item() == pytest.approx((torch.sigmoid(torch.tensor(0.3)).item() - 1) / 2)


def test_classification_loss_with_nothing_known_is_zero_and_backward_runs() -> None:
    logits = torch.randn(3, 4, requires_grad=True)
    loss = classification_loss(logits, torch.ones(3, 4), torch.zeros(3, 4, dtype=torch.bool))
    assert loss.item() == 0.0 and loss.requires_grad
    loss.backward()
    assert torch.equal(logits.grad, torch.zeros(3, 4))


def _linear_critic(w: torch.Tensor, b: torch.Tensor):
    return lambda x: x.flatten(1) @ w + b


@pytest.mark.parametrize("scale", [0.0, 0.5, 3.0])
def test_dragan_penalty_of_a_linear_critic_is_closed_form(scale: float) -> None:
    """D(x) = <w, x> + b has gradient w everywhere: penalty (||w|| - 1)^2, d/dw = 2(||w||-1) w/||w||."""
    gen = torch.Generator().manual_seed(0)
    w = torch.randn(3 * 4 * 4, generator=gen).requires_grad_(True)
    b = torch.tensor(0.7, requires_grad=True)
    real = torch.rand(5, 3, 4, 4, generator=gen) * 2 - 1
    penalty = dragan_penalty(_linear_critic(w, b), real, perturb_scale=scale, generator=gen)
    norm = w.detach().norm()
    assert penalty.item() == pytest.approx(((norm - 1) ** 2).item(), rel=1e-5)
    penalty.backward()  # double backprop: through the gradient's graph back to w
    assert torch.allclose(w.grad, 2 * (norm - 1) * w.detach() / norm, rtol=1e-5, atol=1e-6)
    assert b.grad is None or b.grad.item() == 0.0


def test_dragan_penalty_is_zero_for_a_unit_gradient() -> None:
    w = torch.randn(12)
    w = (w / w.norm()).requires_grad_(True)
    penalty = dragan_penalty(_linear_critic(w, torch.tensor(0.0)), torch.randn(4, 3, 2, 2))
    assert penalty.item() == pytest.approx(0.0, abs=1e-10)


def test_dragan_penalty_of_a_quadratic_critic() -> None:
    """D(x) = a/2 ||x||^2: the gradient at x_hat is a x_hat; with no perturbation x_hat = x."""
    a = torch.tensor(1.5, requires_grad=True)
    real = torch.tensor([[[[0.0, 2.0]]], [[[1.0, 0.0]]], [[[3.0, 4.0]]]])  # norms 2, 1, 5
    penalty = dragan_penalty(lambda x: 0.5 * a * x.flatten(1).pow(2).sum(1), real, perturb_scale=0)
    expected = ((1.5 * 2 - 1) ** 2 + (1.5 * 1 - 1) ** 2 + (1.5 * 5 - 1) ** 2) / 3
    assert penalty.item() == pytest.approx(expected, rel=1e-6)
    penalty.backward()  # d/da mean((a r - 1)^2) = mean(2 (a r - 1) r)
    assert a.grad.item() == pytest.approx((2 * 2 * 2 + 2 * 0.5 * 1 + 2 * 6.5 * 5) / 3, rel=1e-6)


def test_dragan_perturbation_stays_within_its_bounds() -> None:
    """x_hat = x + alpha * 0.5 * std(x) * u lies in [x, x + 0.5 std(x)], elementwise."""
    real = torch.randn(6, 3, 4, 4)
    seen = []

    def critic(x: torch.Tensor) -> torch.Tensor:
        seen.append(x.detach())
        return x.flatten(1).sum(1)

    dragan_penalty(critic, real, generator=torch.Generator().manual_seed(3))
    delta = seen[0] - real
    assert delta.min() >= 0 and delta.max() <= 0.5 * real.std() + 1e-6
    assert delta.max() > 0.1 * real.std()


def test_dragan_penalty_is_reproducible_with_a_generator() -> None:
    d = ResNetDiscriminator(16, channels=4)
    real = torch.rand(3, 3, 16, 16) * 2 - 1
    p1, p2, p3 = (
        dragan_penalty(lambda x: d(x)[0], real, generator=torch.Generator().manual_seed(s))
        for s in (7, 7, 8)
    )
    assert torch.equal(p1, p2) and not torch.equal(p1, p3)


def test_dragan_penalty_trains_every_discriminator_weight() -> None:
    d = ResNetDiscriminator(16, channels=4)
    penalty = dragan_penalty(lambda x: d(x)[0], torch.rand(2, 3, 16, 16) * 2 - 1)
    assert penalty.dim() == 0 and penalty.dtype == torch.float32
    penalty.backward()
    for name, p in d.named_parameters():
        if name.startswith("cls_head"):  # the classifier head does not enter D_adv
            assert p.grad is None
        elif p.dim() > 1:  # weights; biases get no second-order gradient through LReLU's kinks
            assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_dragan_penalty_under_bf16_autocast_is_float32_and_close() -> None:
    gen = torch.Generator().manual_seed(1)
    conv = torch.nn.Conv2d(3, 4, 3)
    critic = lambda x: F.leaky_relu(conv(x), 0.2).flatten(1).sum(1)  # noqa: E731
    real = torch.randn(4, 3, 8, 8, generator=gen)
    reference = dragan_penalty(critic, real, generator=torch.Generator().manual_seed(2))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        low = dragan_penalty(critic, real, generator=torch.Generator().manual_seed(2))
    assert low.dtype == torch.float32
    assert low.item() == pytest.approx(reference.item(), rel=0.05)
    low.backward()
    assert torch.isfinite(conv.weight.grad).all() and conv.weight.grad.abs().sum() > 0
