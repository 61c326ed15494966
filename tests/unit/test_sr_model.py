"""The 2x upscaler and its critic: shapes, the bicubic start, upscale_images, checkpoints, ONNX."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from anime_gan.data.transforms import to_model_range
from anime_gan.demo.render import render_dataset
from anime_gan.errors import UserError
from anime_gan.export.onnx import export_upscaler, upscaler_parity
from anime_gan.models.losses import d_adversarial_loss
from anime_gan.superres.data import downscale_2x, resize_bicubic
from anime_gan.superres.model import SRDiscriminator, SRResNet2x, load_upscaler, upscale_images

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def model() -> SRResNet2x:
    torch.manual_seed(0)
    m = SRResNet2x(channels=8, num_res_blocks=1)
    torch.nn.init.normal_(m.to_rgb.weight, std=0.02)  # a model that is not just bicubic
    return m.eval()


@pytest.mark.parametrize("shape", [(1, 8, 8), (2, 16, 16), (3, 17, 31), (1, 48, 48)])
@pytest.mark.parametrize("residual", [True, False])
def test_output_is_twice_the_input_at_any_size(shape, residual):
    n, h, w = shape
    out = SRResNet2x(channels=8, num_res_blocks=1, residual=residual).eval()(
        torch.rand(n, 3, h, w) * 2 - 1
    )
    assert out.shape == (n, 3, 2 * h, 2 * w) and torch.isfinite(out).all()
    if not residual:
        assert out.abs().max() <= 1


@pytest.mark.parametrize("side", [16, 64, 96])
def test_discriminator_reads_any_resolution(side):
    d = SRDiscriminator(channels=4)
    assert d(torch.rand(3, 3, side, side)).shape == (3,)


def test_critic_learns_to_tell_bicubic_upscales_from_originals():
    """40 steps on 16 faces. With the N(0, 0.02) init this loss stayed at 2 log 2 = 1.386."""
    hi = render_dataset(16, 32, seed=4).images
    real = to_model_range(torch.from_numpy(hi).permute(0, 3, 1, 2))
    fake = to_model_range(
        torch.from_numpy(resize_bicubic(downscale_2x(hi), 32)).permute(0, 3, 1, 2)
    )
    torch.manual_seed(0)
    d = SRDiscriminator(channels=8)
    opt = torch.optim.Adam(d.parameters(), 4e-4, betas=(0.9, 0.999))
    for _ in range(40):
        loss = d_adversarial_loss(d(real), d(fake))
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.8


def test_untrained_residual_model_is_exactly_bicubic():
    x = torch.rand(2, 3, 12, 20) * 2 - 1
    m = SRResNet2x(channels=8, num_res_blocks=2).eval()
    assert torch.equal(m(x), F.interpolate(x, scale_factor=2, mode="bicubic", align_corners=False))


def test_upscale_images_takes_and_gives_uint8(model):
    images = np.random.default_rng(0).integers(0, 256, (5, 10, 14, 3), dtype=np.uint8)
    out = upscale_images(model, images, batch_size=2)
    assert out.dtype == np.uint8 and out.shape == (5, 20, 28, 3)
    assert upscale_images(model, images[0]).shape == (1, 20, 28, 3)  # one [H, W, 3] image
    assert np.array_equal(upscale_images(model, images[:2]), out[:2])  # batch-size independent
    assert not model.training


@pytest.mark.parametrize(
    "bad, words",
    [
        (np.zeros((2, 8, 8, 4), np.uint8), "not of shape (2, 8, 8, 4)"),
        (np.zeros((2, 8, 8), np.uint8), "not of shape (2, 8, 8)"),  # a greyscale stack [N, H, W]
        (np.zeros((8, 8), np.uint8), "not of shape (8, 8)"),
        (np.zeros((1, 8, 8, 3), np.float32), "uint8"),
    ],
)
def test_upscale_images_rejects_wrong_arrays_in_one_sentence(model, bad, words):
    with pytest.raises(UserError, match="convert") as e:
        upscale_images(model, bad)
    assert words in str(e.value)


def test_load_upscaler_refuses_a_generator_checkpoint(tmp_path):
    path = tmp_path / "gan.ckpt"
    torch.save({"anime_gan": {"generator_config": {}}, "state_dict": {}}, path)
    with pytest.raises(UserError, match="not an upscaler"):
        load_upscaler(path)
    with pytest.raises(UserError, match="does not exist"):
        load_upscaler(tmp_path / "missing.ckpt")


def test_onnx_export_matches_pytorch_at_two_sizes(model, tmp_path):
    path = export_upscaler(model, tmp_path / "up.onnx")
    for shape in [(1, 3, 16, 16), (2, 3, 24, 40)]:  # dynamic batch, height and width
        check = upscaler_parity(model, path, torch.rand(*shape) * 2 - 1)
        assert check["max_abs"] < 1e-4, check
