"""Exploration helpers of the notebooks: tags from controls, the noise circle, the walk at fixed
tags, image bytes, and finding a checkpoint's precision report."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from anime_gan.data.priors import LabelPrior
from anime_gan.data.tags import INDEPENDENT, TAG_INDEX
from anime_gan.errors import UnknownTagError, UserError
from anime_gan.generate import explore
from anime_gan.generate.figures import fixed_condition
from anime_gan.generate.sampling import Sampler
from anime_gan.models.generator import build_generator


@pytest.fixture(scope="module")
def sampler() -> Sampler:
    torch.manual_seed(0)
    g = build_generator(
        {
            "name": "srresnet",
            "resolution": 16,
            "z_dim": 8,
            "num_tags": 34,
            "channels": 4,
            "num_res_blocks": 1,
        }
    )
    return Sampler(g, LabelPrior.training())


def test_chosen_tags_from_controls():
    assert explore.chosen_tags("Silver_Hair", "any", ["smile", "long-hair"]) == [
        "silver hair",
        "smile",
        "long hair",
    ]
    assert explore.chosen_tags() == []
    assert explore.chosen_tags(eye_color="Red Eyes") == ["red eyes"]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            {"hair_color": "blue eyes"},
            "'blue eyes' is not among the hair colors: choose one of them",
        ),
        ({"eye_color": "smile"}, "'smile' is not among the eye colors"),
        ({"on": ["red hair"]}, "'red hair' is a color: choose it as hair_color or eye_color."),
    ],
)
def test_chosen_tags_rejects_a_tag_in_the_wrong_control(kwargs, message):
    with pytest.raises(UserError, match=message):
        explore.chosen_tags(**kwargs)


def test_chosen_tags_unknown_name_is_the_schema_error():
    with pytest.raises(UnknownTagError, match="did you mean 'smile'"):
        explore.chosen_tags(on=["smiel"])


def test_noise_circle_passes_both_ends_and_keeps_the_distribution():
    gen = torch.Generator().manual_seed(0)
    z0, z1 = torch.randn(4000, 128, generator=gen), torch.randn(4000, 128, generator=gen)
    torch.testing.assert_close(explore.noise_on_circle(z0, z1, 0), z0)
    torch.testing.assert_close(explore.noise_on_circle(z0, z1, 90), z1, atol=1e-6, rtol=0)
    torch.testing.assert_close(explore.noise_on_circle(z0, z1, 360), z0, atol=1e-5, rtol=0)
    for angle in (45, 135, 200):
        z = explore.noise_on_circle(z0, z1, angle)
        assert abs(z.std().item() - 1) < 0.01 and abs(z.mean().item()) < 0.01
    middle = 0.5 * (z0 + z1)  # the straight line's midpoint is too short: std 1/sqrt(2)
    assert abs(middle.std().item() - 0.5**0.5) < 0.01


def test_noise_walk_shares_one_condition_and_turns_the_noise(sampler):
    tags = ["silver hair", "smile"]
    start = explore.noise_walk(sampler, tags, 0, n=3, seed=5)
    assert start.shape == (3, 16, 16, 3) and start.dtype == np.uint8
    c = fixed_condition(sampler, tags, 5)
    assert c[TAG_INDEX["silver hair"]] == 1 and c[TAG_INDEX["smile"]] == 1
    assert c[INDEPENDENT].sum() == 1  # every other independent tag is off
    expected = sampler.images(sampler.noise(3, 5), c.expand(3, -1))
    np.testing.assert_array_equal(start, expected)
    quarter = sampler.images(sampler.noise(3, 6), c.expand(3, -1))
    np.testing.assert_allclose(explore.noise_walk(sampler, tags, 90, n=3, seed=5), quarter, atol=1)
    still = explore.noise_walk_grid(sampler, tags, [0, 90, 180], n=3, seed=5)
    assert still.size == (80 + 3 * 4 * 18 + 8, 3 * 4 * 18 + 8)  # 16 px x4, 2 px pads x4


def test_face_row_and_image_bytes():
    images = np.zeros((3, 32, 32, 3), np.uint8)
    row = explore.face_row(images, min_size=96)
    assert row.size == (3 * 3 * 34 + 6, 3 * 36)
    png = explore.png_bytes(row)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and Image.open(io.BytesIO(png)).size == row.size
    frames = [Image.new("RGB", (8, 8), (v, v, v)) for v in (0, 128, 255)]
    gif = Image.open(io.BytesIO(explore.gif_bytes(frames)))
    assert gif.format == "GIF" and gif.n_frames == 3 and gif.info["loop"] == 0


def test_find_precision_report_where_make_report_writes(tmp_path):
    ckpt = tmp_path / "run" / "checkpoints" / "last.ckpt"
    ckpt.parent.mkdir(parents=True)
    assert explore.find_precision_report(ckpt) is None
    out = explore.report_command(ckpt, "data/demo").split("out=")[1]
    assert out == str(tmp_path / "run" / "report")
    table = tmp_path / "run" / "report" / "precision" / "precision.md"
    table.parent.mkdir(parents=True)
    table.write_text("| tag |")
    assert explore.find_precision_report(ckpt) == table.parent
    beside = tmp_path / "run" / "checkpoints" / "report" / "precision"
    beside.mkdir(parents=True)
    (beside / "precision.md").write_text("| tag |")
    assert explore.find_precision_report(ckpt) == table.parent  # the run's report first
    assert explore.find_precision_report(ckpt, tmp_path / "elsewhere") is None
    assert explore.find_precision_report(ckpt, beside.parent) == beside
