"""The networks of the paper (Fig. 3, 4) and the options beyond it: sizes, shapes, variants,
gradient flow, initialization, rebuilding."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from anime_gan.data.tags import NUM_TAGS
from anime_gan.errors import UserError
from anime_gan.models.dcgan import DCGANGenerator
from anime_gan.models.discriminator import (
    ResNetDiscriminator,
    build_discriminator,
)
from anime_gan.models.generator import SRResNetGenerator, build_generator
from anime_gan.models.init import count_parameters
from anime_gan.models.resolution import ResolutionError
from anime_gan.models.sndcgan import SNDCGANDiscriminator

RESOLUTIONS = (16, 32, 64, 128)
TINY_G = dict(channels=8, num_res_blocks=2)


def _inputs(n: int, z_dim: int = 128, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, z_dim, generator=g), (torch.rand(n, NUM_TAGS, generator=g) < 0.25).float()


@pytest.fixture(scope="module")
def full_models() -> dict[str, nn.Module]:
    """The 128 px defaults, built once (parameter counts and a single small forward)."""
    return {"g": SRResNetGenerator(), "d": ResNetDiscriminator(), "dcgan": DCGANGenerator()}


def test_generator_parameter_count_matches_spec(full_models: dict[str, nn.Module]) -> None:
    # By hand: dense 162*16384 + 16384; BN 2*64; 16 blocks x (2 convs (9*64*64 + 64) + 2 BN);
    # trunk conv + BN; 3 x (k3n256 conv 9*64*256 + 256, BN 2*64); k9n3 81*64*3 + 3.
    conv64 = 9 * 64 * 64 + 64
    expected = (
        162 * 16384
        + 16384
        + 128
        + 16 * (2 * conv64 + 2 * 128)
        + conv64
        + 128
        + 3 * (9 * 64 * 256 + 256 + 128)
        + 81 * 64 * 3
        + 3
    )
    n = count_parameters(full_models["g"])
    assert n == expected == 4_352_643
    assert abs(n - 4.35e6) / 4.35e6 < 0.01


def test_discriminator_parameter_count_matches_spec(full_models: dict[str, nn.Module]) -> None:
    def conv(k: int, c_in: int, c_out: int) -> int:
        return k * k * c_in * c_out + c_out

    stages = zip((32, 64, 128, 256, 512), (4, 4, 3, 3, 3))
    expected = conv(4, 3, 32) + sum(4 * conv(3, c, c) + conv(k, c, 2 * c) for c, k in stages)
    expected += (4096 + 1) + (4096 * NUM_TAGS + NUM_TAGS)
    n = count_parameters(full_models["d"])
    assert n == expected == 19_078_531
    assert abs(n - 19.08e6) / 19.08e6 < 0.01


def test_dcgan_is_about_four_times_the_srresnet(full_models: dict[str, nn.Module]) -> None:
    ratio = count_parameters(full_models["dcgan"]) / count_parameters(full_models["g"])
    assert count_parameters(full_models["dcgan"]) == 17_113_899
    assert 3.8 < ratio < 4.2


def test_full_discriminator_has_4096_features(full_models: dict[str, nn.Module]) -> None:
    d = full_models["d"]
    x = torch.rand(1, 3, 128, 128) * 2 - 1
    with torch.no_grad():
        assert d.features(x).shape == (1, 4096)
        adv, cls = d(x)
    assert d.num_features == 4096 and adv.shape == (1,) and cls.shape == (1, NUM_TAGS)


@pytest.mark.parametrize("variant", ["paper", "site"])
@pytest.mark.parametrize("resolution", RESOLUTIONS)
def test_generator_output_shape_and_range(resolution: int, variant: str) -> None:
    g = SRResNetGenerator(resolution, variant=variant, **TINY_G)
    z, c = _inputs(2)
    out = g(z * 50, c)  # large inputs push tanh to saturation: the range must still hold
    assert out.shape == (2, 3, resolution, resolution)
    assert out.min() >= -1 and out.max() <= 1
    assert len(g.upsample) == {16: 0, 32: 1, 64: 2, 128: 3}[resolution]


@pytest.mark.parametrize("resolution", RESOLUTIONS)
def test_dcgan_output_shape_and_range(resolution: int) -> None:
    g = DCGANGenerator(resolution, base_channels=4)
    out = g(*_inputs(2))
    assert out.shape == (2, 3, resolution, resolution)
    assert out.abs().max() <= 1


@pytest.mark.parametrize(
    ("resolution", "stages", "features"), [(16, 3, 32), (32, 4, 64), (64, 5, 128), (128, 5, 512)]
)
def test_discriminator_shapes(resolution: int, stages: int, features: int) -> None:
    d = ResNetDiscriminator(resolution, channels=4)  # widths 4..64 instead of 32..512
    assert d.num_stages == stages
    x = torch.rand(3, 3, resolution, resolution) * 2 - 1
    adv, cls = d(x)
    assert adv.shape == (3,) and cls.shape == (3, NUM_TAGS)
    assert d.features(x).shape == (3, features) and d.num_features == features


def test_discriminator_final_side_2_stops_at_a_2x2_map() -> None:
    assert ResNetDiscriminator(64, channels=4, final_side=2).num_stages == 4
    assert ResNetDiscriminator(32, channels=4, final_side=2).num_stages == 3


def test_discriminator_has_no_normalization_and_samples_are_independent() -> None:
    d = ResNetDiscriminator(32, channels=4)
    assert not any(isinstance(m, nn.modules.batchnorm._NormBase) for m in d.modules())
    x = torch.rand(4, 3, 32, 32)
    adv, _ = d(x)
    assert torch.allclose(adv[2:3], d(x[2:3])[0], atol=1e-6)


def _zero_trunk(g: SRResNetGenerator) -> torch.utils.hooks.RemovableHandle:
    return g.trunk_out.register_forward_hook(lambda mod, inp, out: torch.zeros_like(out))


def test_site_variant_has_no_long_skip() -> None:
    """With the trunk's output zeroed, only the long skip can carry z to the image."""
    z1, c = _inputs(2, seed=1)
    z2, _ = _inputs(2, seed=2)
    outputs = {}
    for variant in ("paper", "site"):
        g = SRResNetGenerator(32, variant=variant, **TINY_G).eval()
        _zero_trunk(g)
        with torch.no_grad():
            outputs[variant] = (g(z1, c), g(z2, c))
    assert not torch.allclose(*outputs["paper"])
    assert torch.equal(*outputs["site"])


def test_site_variant_normalizes_each_dense_feature() -> None:
    paper, site = SRResNetGenerator(16, **TINY_G), SRResNetGenerator(16, variant="site", **TINY_G)
    assert isinstance(paper.dense_norm, nn.BatchNorm2d) and paper.dense_norm.num_features == 8
    assert isinstance(site.dense_norm, nn.BatchNorm1d) and site.dense_norm.num_features == 8 * 256
    assert count_parameters(site) - count_parameters(paper) == 2 * (8 * 256 - 8)


@pytest.mark.parametrize(
    "make_g",
    [
        lambda: SRResNetGenerator(32, **TINY_G),
        lambda: SRResNetGenerator(32, variant="site", **TINY_G),
        lambda: DCGANGenerator(32, base_channels=4),
    ],
)
def test_gradient_reaches_every_generator_parameter_through_d(make_g) -> None:
    g, d = make_g(), ResNetDiscriminator(32, channels=4)
    adv, cls = d(g(*_inputs(4)))
    (adv.sum() + cls.sum()).backward()
    for name, p in g.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        if p.dim() > 1:  # conv/linear weights (biases right before a BN get ~0 by design)
            assert p.grad.abs().sum() > 0, name


def test_init_follows_the_paper() -> None:
    d = ResNetDiscriminator(16, channels=32)  # largest conv: 9*128*256 weights
    w = d.body[-2].weight
    assert w.numel() > 250_000
    assert abs(w.std().item() - 0.02) < 0.0005 and abs(w.mean().item()) < 0.0005
    g = SRResNetGenerator(16, **TINY_G)
    for m in list(d.modules()) + list(g.modules()):
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            assert torch.count_nonzero(m.bias) == 0
        if isinstance(m, nn.BatchNorm2d):
            assert torch.all(m.weight == 1) and torch.all(m.bias == 0)


def test_icnr_makes_each_upscaling_start_as_nearest_neighbour() -> None:
    g = SRResNetGenerator(64, icnr=True, **TINY_G)
    x = torch.randn(2, TINY_G["channels"], 16, 16)
    for block in g.upsample:
        y = block[1](block[0](x))  # sub-pixel conv + PixelShuffle, before BN and ReLU
        nearest = torch.nn.functional.interpolate(y[..., ::2, ::2], scale_factor=2, mode="nearest")
        assert torch.allclose(y, nearest, atol=1e-6)
        x = block(x)
    plain = SRResNetGenerator(64, **TINY_G).upsample[0]
    y = plain[1](plain[0](torch.randn(2, TINY_G["channels"], 16, 16)))
    assert not torch.allclose(y[..., ::2, ::2], y[..., 1::2, ::2])  # the default: no such start
    w = SRResNetGenerator(32, icnr=True, channels=64, num_res_blocks=1).upsample[0][0].weight
    assert abs(w.std().item() - 0.02) < 0.001  # still the paper's N(0, 0.02) values
    assert g.config()["icnr"] is True and build_generator(g.config()).config()["icnr"] is True


@pytest.mark.parametrize(
    "make",
    [
        lambda: SRResNetGenerator(100),
        lambda: SRResNetGenerator(8),
        lambda: DCGANGenerator(48),
        lambda: ResNetDiscriminator(100),
        lambda: ResNetDiscriminator(128, num_stages=7),
        lambda: ResNetDiscriminator(16, num_stages=4),
    ],
)
def test_bad_resolution_is_a_user_error(make) -> None:
    with pytest.raises(ResolutionError, match="resolution") as info:
        make()
    assert isinstance(info.value, UserError) and isinstance(info.value, ValueError)


def test_unknown_names_are_rejected() -> None:
    with pytest.raises(ValueError, match="variant"):
        SRResNetGenerator(16, variant="web")
    with pytest.raises(ValueError, match="generator"):
        build_generator({"name": "stylegan"})
    with pytest.raises(ValueError, match="discriminator"):
        build_discriminator({"name": "patchgan"})


@pytest.mark.parametrize(
    "g",
    [
        SRResNetGenerator(32, z_dim=16, variant="site", **TINY_G),
        SRResNetGenerator(32, z_dim=16, upsample="nearest", rgb_kernel=3, base=4, **TINY_G),
        SRResNetGenerator(32, z_dim=16, upsample="nearest", padding="reflect", **TINY_G),
        DCGANGenerator(32, z_dim=16, base_channels=4),
        DCGANGenerator(32, z_dim=16, base_channels=4, rgb_conv=True),
    ],
)
def test_generator_rebuilds_from_its_config(g: nn.Module) -> None:
    g2 = build_generator(g.config())
    assert type(g2) is type(g) and g2.config() == g.config()
    assert (g2.z_dim, g2.num_tags, g2.resolution) == (16, NUM_TAGS, 32)
    g2.load_state_dict(g.state_dict())
    z, c = _inputs(2, z_dim=16)
    g.eval(), g2.eval()
    assert torch.equal(g(z, c), g2(z, c))


@pytest.mark.parametrize(
    "d",
    [
        ResNetDiscriminator(64, num_tags=5, channels=4, num_stages=3),
        ResNetDiscriminator(
            64,
            num_tags=5,
            channels=4,
            num_stages=3,
            spectral_norm=True,
            projection=True,
            stem="conv3",
            down_kernel=4,
        ),
        SNDCGANDiscriminator(64, num_tags=5, channels=4),
    ],
)
def test_discriminator_rebuilds_from_its_config(d: nn.Module) -> None:
    d2 = build_discriminator(d.config())
    d2.load_state_dict(d.state_dict())
    d.eval(), d2.eval()  # spectral norm: no power iteration, the same estimate in both
    x, y = torch.rand(2, 3, 64, 64), torch.sign(torch.randn(2, 5))
    assert d2.config() == d.config() and d2.num_features == d.num_features
    assert all(torch.equal(a, b) for a, b in zip(d(x, y), d2(x, y)))


def test_options_beyond_the_paper_change_the_layers_they_name() -> None:
    nearest = SRResNetGenerator(64, upsample="nearest", **TINY_G)
    assert not any(isinstance(m, nn.PixelShuffle) for m in nearest.modules())
    assert sum(isinstance(m, nn.Upsample) for m in nearest.modules()) == 2
    assert SRResNetGenerator(64, rgb_kernel=3, **TINY_G).to_rgb[0].kernel_size == (3, 3)
    small_start = SRResNetGenerator(32, base=4, **TINY_G)
    assert len(small_start.upsample) == 3 and small_start.dense.out_features == 8 * 4 * 4
    z, c = _inputs(2)
    assert small_start(z, c).shape == (2, 3, 32, 32)
    stem = ResNetDiscriminator(32, channels=4, stem="conv3")
    first = stem.body[0]
    assert (first.kernel_size, first.stride) == ((3, 3), (1, 1))
    k4 = ResNetDiscriminator(128, channels=4, down_kernel=4)
    assert all(
        m.kernel_size == (4, 4) for m in k4.body if isinstance(m, nn.Conv2d) and m.stride == (2, 2)
    )
    baseline = DCGANGenerator(32, base_channels=8, rgb_conv=True)
    assert baseline.start_channels == 64 and baseline.deconvs[-2].kernel_size == (3, 3)
    assert baseline(z, c).shape == (2, 3, 32, 32)
    with pytest.raises(ValueError, match="upsample"):
        SRResNetGenerator(32, upsample="bilinear")
    with pytest.raises(ValueError, match="padding"):
        SRResNetGenerator(32, padding="circular")
    with pytest.raises(ValueError, match="stem"):
        ResNetDiscriminator(32, stem="patch")


def test_reflect_padding_makes_a_constant_map_give_a_constant_image() -> None:
    # with zeros the border pixels read black past the edge and differ from the interior
    for padding, flat in (("zeros", False), ("reflect", True)):
        g = SRResNetGenerator(32, upsample="nearest", padding=padding, **TINY_G).eval()
        with torch.no_grad():
            g.dense.weight.zero_()
            g.dense.bias.fill_(1.0)  # every position of the first map the same
            x = g(*_inputs(1))
        assert all(m.padding_mode == padding for m in g.modules() if isinstance(m, nn.Conv2d))
        spread = (x - x[..., 16:17, 16:17]).abs().max().item()
        assert (spread < 1e-5) == flat, (padding, spread)
