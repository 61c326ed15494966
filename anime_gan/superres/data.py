"""Training pairs for the upscaler: (image downscaled by 2, image), and the resampling kernels.

The downscaling kernel is **bicubic with antialiasing, exactly as Pillow's**
``Image.resize(size, Image.BICUBIC)`` (Keys cubic with a = -0.5, the filter support widened by
the scale factor, a horizontal pass then a vertical one, each rounded to uint8). It is written
in PyTorch so that it runs batched; :func:`resize_bicubic` matches Pillow to within one grey
level, two in rare pixels (tests/unit/test_sr_data.py). The low-resolution inputs are rounded to uint8, like any
stored image a user would upscale. The same function upscaling by 2 is the *bicubic baseline*
the measurements compare with; Lanczos (Pillow's, a = 3) is the other baseline.

:class:`SRDataModule` has its own constructor rather than subclassing ``FaceDataModule``: it
shares the split (``load_split``) and the batches (``InMemoryBatches``), not the labels, prior
or device placement.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import DataLoader, TensorDataset

from anime_gan.data.datamodule import InMemoryBatches, load_split
from anime_gan.data.transforms import to_model_range
from anime_gan.errors import UserError


def resize_bicubic(images: np.ndarray, size: int) -> np.ndarray:
    """uint8 ``[N, H, W, 3]`` -> uint8 ``[N, size, size, 3]``, Pillow's antialiased bicubic in
    PyTorch (in chunks of 512 images, to bound the float copy)."""
    out = []
    for x in torch.as_tensor(images).permute(0, 3, 1, 2).split(512):
        x = F.interpolate(
            x.float(), size=(x.shape[2], size), mode="bicubic", align_corners=False, antialias=True
        )
        x = x.round_().clamp_(0, 255)  # Pillow stores the horizontal pass as uint8
        x = F.interpolate(x, size=(size, size), mode="bicubic", align_corners=False, antialias=True)
        out.append(x.round_().clamp_(0, 255).to(torch.uint8).permute(0, 2, 3, 1))
    return torch.cat(out).numpy()


def resize_pil(images: np.ndarray, size: int) -> np.ndarray:
    """uint8 ``[N, H, W, 3]`` resized one by one with Pillow's Lanczos (the other baseline)."""
    return np.stack(
        [np.asarray(Image.fromarray(im).resize((size, size), Image.LANCZOS)) for im in images]
    )


def downscale_2x(images: np.ndarray) -> np.ndarray:
    """The low-resolution inputs of training and measurement: half the side, Pillow bicubic."""
    side = images.shape[1]
    if side % 2:
        raise UserError(
            f"images of {side} px cannot be halved exactly: use a dataset with an even "
            f"resolution (e.g. anime-gan render resolution=64 or import resolution=96)."
        )
    return resize_bicubic(images, side // 2)


class SRDataModule(L.LightningDataModule):
    """(input, original) pairs from a dataset in the project's format, held in memory as uint8.

    Training batches come from the main training's :class:`InMemoryBatches` (its resume-exact
    position is saved in checkpoints), with the low-resolution images in its ``labels`` slot.
    The held-out split is the same seeded hash split as the GAN's (:func:`split_by_hash`).

    Args:
        path: a dataset folder or zip; resolution: its side (checked), the output size.
        batch_size: pairs per batch. val_fraction, split_seed: the held-out split.
        max_val: at most this many held-out pairs are used for validation and measurement.
        flip: random horizontal flips of training pairs (off by default: they draw from the global
            random stream, which a resume does not restore, so a resumed run would differ).
    """

    def __init__(
        self,
        path: str,
        resolution: int | None = None,
        batch_size: int = 16,
        val_fraction: float = 0.05,
        split_seed: int = 0,
        seed: int = 0,
        max_val: int = 256,
        flip: bool = False,
    ) -> None:
        super().__init__()
        self.path, self.resolution, self.batch_size = Path(path), resolution, batch_size
        self.val_fraction, self.split_seed, self.seed = val_fraction, split_seed, seed
        self.max_val, self.flip = max_val, flip
        self.train_hi = self._batches = None

    def setup(self, stage: str | None = None) -> None:
        if self.train_hi is not None:
            return
        ds, train_idx, val_idx = load_split(
            self.path, self.resolution, self.val_fraction, self.split_seed
        )
        self.train_hi = ds.images[train_idx]  # fancy indexing: an in-memory copy
        self.val_hi = ds.images[val_idx[: self.max_val]]
        self.train_lo, self.val_lo = downscale_2x(self.train_hi), downscale_2x(self.val_hi)

    def describe(self) -> dict[str, Any]:
        """What the measurements were made on (recorded next to them)."""
        return {
            "path": str(self.path),
            "resolution": self.train_hi.shape[1],
            "train_pairs": len(self.train_hi),
            "val_pairs": len(self.val_hi),
            "val_fraction": self.val_fraction,
            "split_seed": self.split_seed,
            "downscale": "Pillow-compatible antialiased bicubic (a = -0.5), rounded to uint8",
        }

    def train_dataloader(self) -> InMemoryBatches:
        if self._batches is None:
            hi, lo = torch.from_numpy(self.train_hi), torch.from_numpy(self.train_lo)
            self._batches = InMemoryBatches(
                hi, lo, torch.zeros(len(hi), 0), self.batch_size, seed=self.seed
            )
        return self._batches

    def val_dataloader(self) -> DataLoader:
        """The held-out pairs in a fixed order (original, input), as the training batches."""
        pairs = TensorDataset(torch.from_numpy(self.val_hi), torch.from_numpy(self.val_lo))
        return DataLoader(pairs, batch_size=self.batch_size, shuffle=False)

    def on_after_batch_transfer(
        self, batch: Any, dataloader_idx: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """uint8 NHWC (original, input) -> float NCHW in [-1, 1] (input, original), maybe flipped."""
        hi, lo = (to_model_range(t.permute(0, 3, 1, 2)).contiguous() for t in batch[:2])
        if self.flip and self.trainer is not None and self.trainer.training:
            flip = (torch.rand(hi.shape[0], device=hi.device) < 0.5)[:, None, None, None]
            hi, lo = torch.where(flip, hi.flip(3), hi), torch.where(flip, lo.flip(3), lo)
        return lo, hi
