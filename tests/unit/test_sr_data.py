"""Training pairs and the resampling kernels: Pillow-exact bicubic, held-out split, batches."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from anime_gan.data.datamodule import split_by_hash
from anime_gan.data.dataset import load_dataset
from anime_gan.demo.render import render_dataset
from anime_gan.errors import UserError
from anime_gan.superres.data import SRDataModule, downscale_2x, resize_bicubic, resize_pil
from tests.helpers import tiny_dataset

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def faces() -> np.ndarray:
    return render_dataset(6, 32, seed=1).images


def _pil(images: np.ndarray, size: int, resample=Image.BICUBIC) -> np.ndarray:
    return np.stack(
        [np.asarray(Image.fromarray(im).resize((size, size), resample)) for im in images]
    )


@pytest.mark.parametrize("size", [16, 64, 48])  # down by 2 (the pairs), up by 2 (the baseline), 1.5
def test_bicubic_matches_pillow_within_one_level(faces, size):
    ours = resize_bicubic(faces, size).astype(int)
    ref = _pil(faces, size).astype(int)
    diff = np.abs(ours - ref)
    assert ours.shape == ref.shape and ours.dtype == int
    assert diff.max() <= 2 and diff.mean() < 0.05, (diff.max(), diff.mean())
    assert (diff <= 1).mean() > 0.9999


def test_lanczos_is_pillows_and_differs_from_bicubic(faces):
    assert np.array_equal(resize_pil(faces, 64), _pil(faces, 64, Image.LANCZOS))
    assert not np.array_equal(resize_pil(faces, 64), resize_bicubic(faces, 64))


def test_downscale_halves_and_refuses_odd_sides(faces):
    assert downscale_2x(faces).shape == (6, 16, 16, 3)
    with pytest.raises(UserError, match="cannot be halved"):
        downscale_2x(np.zeros((1, 15, 15, 3), np.uint8))


def test_datamodule_pairs_split_and_batches(tmp_path):
    path = tiny_dataset(tmp_path / "ds", n=24, resolution=16)
    dm = SRDataModule(str(path), resolution=16, batch_size=4, val_fraction=0.25, max_val=100)
    dm.setup()
    ids = load_dataset(path).ids
    _, val_idx = split_by_hash(ids, 0.25, 0)
    assert len(dm.val_hi) == len(val_idx) > 0 and len(dm.train_hi) == 24 - len(val_idx)
    assert np.array_equal(dm.val_hi, load_dataset(path).images[val_idx])
    assert np.array_equal(dm.val_lo, resize_bicubic(dm.val_hi, 8))
    lo, hi = dm.on_after_batch_transfer(next(iter(dm.train_dataloader())), 0)
    assert lo.shape == (4, 3, 8, 8) and hi.shape == (4, 3, 16, 16)
    assert lo.dtype == torch.float32 and -1 <= lo.min() and hi.max() <= 1
    val = [dm.on_after_batch_transfer(b, 0) for b in dm.val_dataloader()]
    assert sum(len(v[0]) for v in val) == len(val_idx)


def test_datamodule_names_a_wrong_resolution(tmp_path):
    path = tiny_dataset(tmp_path / "ds", n=8, resolution=16)
    with pytest.raises(UserError, match="data.resolution=16"):
        SRDataModule(str(path), resolution=64).setup()
