"""Reading the files a user upscales: every wrong input gets one sentence naming it."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from anime_gan.errors import UserError
from anime_gan.superres.images import list_inputs, read_rgb


def _save(path, mode: str, size=(6, 4)):
    Image.new(mode, size).save(path)
    return path


def test_rgb_grey_and_palette_are_read_as_rgb(tmp_path):
    for mode in ("RGB", "L", "P"):
        pixels = read_rgb(_save(tmp_path / f"{mode}.png", mode))
        assert pixels.shape == (4, 6, 3) and pixels.dtype == np.uint8


@pytest.mark.parametrize(
    "mode, words",
    [("RGBA", "4 channel(s) (RGBA)"), ("LA", "2 channel(s) (LA)"), ("CMYK", "4 channel(s) (CMYK)")],
)
def test_other_channel_counts_are_refused(tmp_path, mode, words):
    path = _save(tmp_path / f"x.{'jpg' if mode == 'CMYK' else 'png'}", mode)
    with pytest.raises(UserError, match="3-channel RGB") as e:
        read_rgb(path)
    assert words in str(e.value) and str(path) in str(e.value)


def test_not_an_image(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("hello")
    with pytest.raises(UserError, match="notes.png is not an image"):
        read_rgb(path)


def test_inputs_from_a_file_a_folder_or_nothing(tmp_path):
    a, b = _save(tmp_path / "b.png", "RGB"), _save(tmp_path / "a.jpg", "RGB")
    (tmp_path / "readme.txt").write_text("not an image")
    assert list_inputs(a) == [a]
    assert list_inputs(tmp_path) == [b, a]
    with pytest.raises(UserError, match="does not exist"):
        list_inputs(tmp_path / "missing")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UserError, match="holds no image files"):
        list_inputs(empty)
