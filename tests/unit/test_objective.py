"""The objective beyond the paper: hinge, R1, DiffAugment, the projection, and L(D)/L(G) composed."""

from __future__ import annotations

import pytest
import torch

from anime_gan.data.tags import NUM_TAGS
from anime_gan.models.augment import cutout, diff_augment, parse_policy, translation
from anime_gan.models.discriminator import ResNetDiscriminator, signed_condition
from anime_gan.models.losses import (
    classification_loss,
    d_adversarial_loss,
    d_hinge_loss,
    dragan_penalty,
    g_adversarial_loss,
    g_hinge_loss,
    r1_penalty,
)
from anime_gan.models.objective import Objective
from anime_gan.models.sndcgan import SNDCGANDiscriminator


def test_hinge_losses_by_hand() -> None:
    real, fake = torch.tensor([2.0, 0.5]), torch.tensor([-3.0, 0.0])
    # max(0, 1 - 2) = 0, max(0, 1 - 0.5) = 0.5; max(0, 1 - 3) = 0, max(0, 1 + 0) = 1
    assert d_hinge_loss(real, fake).item() == pytest.approx(0.25 + 0.5)
    assert g_hinge_loss(fake).item() == pytest.approx(1.5)


def test_r1_of_a_linear_critic_is_the_squared_weight_norm() -> None:
    w = torch.randn(12, requires_grad=True)
    penalty = r1_penalty(lambda x: x.flatten(1) @ w, torch.randn(5, 3, 2, 2))
    assert penalty.item() == pytest.approx(w.detach().pow(2).sum().item(), rel=1e-5)
    penalty.backward()  # double backprop: d/dw ||w||^2 = 2 w
    assert torch.allclose(w.grad, 2 * w.detach(), rtol=1e-5)


def test_signed_condition_marks_unknown_tags_zero() -> None:
    labels = torch.tensor([[1.0, 0.0, 1.0]])
    assert signed_condition(labels).tolist() == [[1.0, -1.0, 1.0]]
    known = torch.tensor([[True, True, False]])
    assert signed_condition(labels, known).tolist() == [[1.0, -1.0, 0.0]]


@pytest.mark.parametrize(
    "make",
    [
        lambda: ResNetDiscriminator(32, channels=4, projection=True, spectral_norm=True),
        lambda: SNDCGANDiscriminator(32, channels=4),
    ],
)
def test_projection_makes_the_adversarial_logit_depend_on_the_tags(make) -> None:
    d = make().eval()
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    y = signed_condition((torch.rand(2, NUM_TAGS) < 0.5).float())
    with torch.no_grad():
        plain, cls = d(x)
        with_tags, cls2 = d(x, y)
        unknown, _ = d(x, torch.zeros_like(y))
    assert not torch.allclose(plain, with_tags)
    assert torch.allclose(plain, unknown)  # nothing known: the projection adds nothing
    assert torch.equal(cls, cls2)  # the classifier head never sees the tags
    # the projection is linear in y: its share for y and for -y cancel
    with torch.no_grad():
        minus, _ = d(x, -y)
    assert torch.allclose(with_tags + minus, 2 * plain, atol=1e-5)


def test_spectral_norm_bounds_each_layer_to_unit_norm() -> None:
    d = ResNetDiscriminator(32, channels=4, spectral_norm=True)
    for _ in range(30):  # a few power iterations converge the estimate
        d(torch.randn(2, 3, 32, 32))
    d.eval()
    w = d.adv_head.weight
    assert torch.linalg.matrix_norm(w, ord=2).item() == pytest.approx(1.0, rel=1e-3)


def _shifted(x: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    out = torch.zeros_like(x)
    h, w = x.shape[-2:]
    out[..., max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = x[
        ..., max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)
    ]
    return out


def test_translation_shifts_by_whole_pixels_with_zero_fill() -> None:
    """Each image moves by up to 1/8 of its side (1 px of 8) on each axis; the rest is zeros."""
    x = (torch.arange(64.0).view(1, 1, 8, 8) + 1).repeat(32, 2, 1, 1)
    out = translation(x, generator=torch.Generator().manual_seed(1))
    seen = set()
    for image, moved in zip(x, out):
        shifts = [
            (dy, dx)
            for dy in (-1, 0, 1)
            for dx in (-1, 0, 1)
            if torch.equal(moved, _shifted(image, dy, dx))
        ]
        assert len(shifts) == 1
        seen.add(shifts[0])
    assert len(seen) >= 6  # the shifts vary from image to image


def test_cutout_zeroes_a_quarter_of_the_image_at_most() -> None:
    x = torch.ones(16, 3, 8, 8)
    out = cutout(x, generator=torch.Generator().manual_seed(0))
    zeros = (out[:, 0] == 0).flatten(1).sum(1)
    assert zeros.max() <= 16 and zeros.min() >= 4  # a 4x4 square, clipped at the border
    assert torch.equal(out[:, 0], out[:, 2])  # the same square in every channel


def test_augmentation_passes_gradients_and_is_reproducible() -> None:
    policy = parse_policy("color, translation,cutout")
    x = (torch.rand(4, 3, 16, 16) * 2 - 1).requires_grad_(True)
    a = diff_augment(x, policy, torch.Generator().manual_seed(3))
    b = diff_augment(x, policy, torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
    a.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert parse_policy(None) == () and parse_policy("") == ()
    assert parse_policy(["translation", "cutout"]) == ("translation", "cutout")
    with pytest.raises(ValueError, match="unknown augmentation 'flip'"):
        parse_policy("translation,flip")


def _batch(n: int = 4, res: int = 16):
    gen = torch.Generator().manual_seed(0)
    real = torch.rand(n, 3, res, res, generator=gen) * 2 - 1
    fake = torch.rand(n, 3, res, res, generator=gen) * 2 - 1
    labels = (torch.rand(n, NUM_TAGS, generator=gen) < 0.3).float()
    c = (torch.rand(n, NUM_TAGS, generator=gen) < 0.3).float()
    return real, labels, torch.ones_like(labels), fake, c


def test_paper_objective_is_the_sum_of_the_paper_terms() -> None:
    d = ResNetDiscriminator(16, channels=4)
    real, labels, known, fake, c = _batch()
    obj = Objective(lambda_adv=34.0, lambda_gp=0.5)
    loss, terms = obj.discriminator_loss(
        d, real, labels, known, fake, c, None, torch.Generator().manual_seed(5)
    )
    ra, rc = d(real)
    fa, fc = d(fake)
    gp = dragan_penalty(lambda x: d(x)[0], real, 0.5, torch.Generator().manual_seed(5))
    expected = (
        classification_loss(rc, labels, known)
        + classification_loss(fc, c)
        + 34.0 * d_adversarial_loss(ra, fa)
        + 0.5 * gp
    )
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    g_loss, g_terms = obj.generator_loss(d, fake, c, None)
    assert g_loss.item() == pytest.approx(
        (34.0 * g_adversarial_loss(fa) + classification_loss(fc, c)).item(), rel=1e-5
    )
    assert set(terms) == {"d_adv", "d_cls", "d_gp", "d_loss"}
    assert set(g_terms) == {"g_adv", "g_cls", "g_loss"}


def test_projection_only_objective_has_no_classifier_terms() -> None:
    d = ResNetDiscriminator(16, channels=4, projection=True)
    real, labels, known, fake, c = _batch()
    obj = Objective(
        lambda_adv=1.0,
        lambda_gp=1.0,
        adv_loss="hinge",
        penalty="r1",
        cls_weight=0.0,
        fake_cls_weight=0.0,
        augment="translation",
    )
    loss, terms = obj.discriminator_loss(
        d, real, labels, known, fake, c, None, torch.Generator().manual_seed(0)
    )
    assert terms["d_cls"].item() == 0.0
    loss.backward()
    assert d.cls_head.weight.grad is None or d.cls_head.weight.grad.abs().sum() == 0
    assert d.projection.weight.grad.abs().sum() > 0  # the tags train D through the projection
    g_loss, g_terms = obj.generator_loss(d, fake.requires_grad_(True), c, None)
    assert g_loss.item() == pytest.approx(g_terms["g_adv"].item())


def test_objective_rejects_unknown_choices_by_name() -> None:
    with pytest.raises(ValueError, match="model.adv_loss"):
        Objective(adv_loss="wgan")
    with pytest.raises(ValueError, match="model.penalty"):
        Objective(penalty="gp")
    with pytest.raises(ValueError, match="model.augment"):
        Objective(augment="mixup")


def test_lazy_penalty_runs_every_kth_iteration_with_k_times_the_weight() -> None:
    d = ResNetDiscriminator(16, channels=4)
    real, labels, known, fake, c = _batch()
    every = Objective(lambda_adv=1.0, lambda_gp=0.5)
    lazy = Objective(lambda_adv=1.0, lambda_gp=0.5, gp_every=4)
    gen = lambda: torch.Generator().manual_seed(2)  # noqa: E731
    base, t = every.discriminator_loss(d, real, labels, known, fake, c, None, gen(), iteration=8)
    on, t_on = lazy.discriminator_loss(d, real, labels, known, fake, c, None, gen(), iteration=8)
    off, t_off = lazy.discriminator_loss(d, real, labels, known, fake, c, None, gen(), iteration=9)
    assert t_off["d_gp"].item() == 0.0 and t_on["d_gp"].item() == pytest.approx(t["d_gp"].item())
    assert on.item() == pytest.approx((base + 3 * 0.5 * t["d_gp"]).item(), rel=1e-5)
    assert off.item() == pytest.approx((base - 0.5 * t["d_gp"]).item(), rel=1e-5)
    with pytest.raises(ValueError, match="model.gp_every"):
        Objective(gp_every=0)
