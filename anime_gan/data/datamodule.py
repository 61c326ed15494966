"""LightningDataModule over the dataset format: decoded once, held in memory as uint8.

Batches come from :class:`InMemoryBatches`, a stateful iterable rather than a DataLoader:
indexing one uint8 tensor per batch is faster than collating items, the tensor can live on the
GPU (``device="cuda"``: no per-step host decode or copy), and its position is saved in
checkpoints, so a resumed run sees exactly the batches an uninterrupted run would have seen.
Under DDP each rank takes its own slice of every epoch's permutation.
"""

import hashlib
from collections.abc import Iterator
from pathlib import Path

import lightning as L
import numpy as np
import torch

from anime_gan.data.dataset import FaceDataset, check_resolution, load_dataset
from anime_gan.data.priors import LabelPrior
from anime_gan.data.transforms import to_model_range

Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


def split_by_hash(ids: list[str], val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Train/val indices from a seeded hash of each image id (stable when images are added)."""
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    digests = b"".join(hashlib.blake2b(f"{seed}:{i}".encode(), digest_size=8).digest() for i in ids)
    val = np.frombuffer(digests, dtype="<u8") / 2**64 < val_fraction  # uniform in [0, 1)
    return np.flatnonzero(~val), np.flatnonzero(val)


def load_split(
    path: str | Path, resolution: int | None, val_fraction: float, seed: int
) -> tuple[FaceDataset, np.ndarray, np.ndarray]:
    """A dataset (memory-mapped, its resolution checked when given) and its hash split."""
    ds = load_dataset(path, mmap=True)
    if resolution is not None:
        check_resolution(ds, resolution, path)
    return (ds, *split_by_hash(ds.ids, val_fraction, seed))


class InMemoryBatches:
    """Shuffled batches (images uint8 NHWC, labels float, known float) from in-memory tensors.

    The permutation of epoch ``e`` depends only on (seed, e); ``state_dict`` records the epoch
    and the batches already taken, which Lightning saves with the checkpoint.
    """

    def __init__(
        self,
        images: torch.Tensor,
        labels: torch.Tensor,
        known: torch.Tensor,
        batch_size: int,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        if len(images) < batch_size * world_size:
            raise ValueError(
                f"the dataset has {len(images)} images, fewer than one batch of {batch_size} per "
                f"process: lower data.batch_size or use a larger dataset."
            )
        self.images, self.labels, self.known = images, labels, known
        self.batch_size, self.seed = batch_size, seed
        self.rank, self.world_size = rank, world_size
        self.epoch, self.taken = 0, 0
        self._restored = False

    def __len__(self) -> int:
        return len(self.images) // self.world_size // self.batch_size

    def _order(self, epoch: int) -> torch.Tensor:
        n = len(self.images)
        order = torch.randperm(
            n, generator=torch.Generator().manual_seed(self.seed * 100003 + epoch)
        )
        per_rank = n // self.world_size
        return order[self.rank * per_rank : (self.rank + 1) * per_rank]

    def __iter__(self) -> Iterator[Batch]:
        if self._restored:  # continue the interrupted epoch where the checkpoint left it
            self._restored = False
        elif self.taken:  # a new pass after a finished one
            self.epoch, self.taken = self.epoch + 1, 0
        order = self._order(self.epoch).to(self.images.device)
        for b in range(self.taken, len(self)):
            idx = order[b * self.batch_size : (b + 1) * self.batch_size]
            self.taken = b + 1
            yield self.images[idx], self.labels[idx], self.known[idx]
        self.taken = len(self)

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "taken": self.taken}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.epoch, self.taken = int(state["epoch"]), int(state["taken"])
        if self.taken >= len(self):
            self.epoch, self.taken = self.epoch + 1, 0
        self._restored = True


class FaceDataModule(L.LightningDataModule):
    """Training data for the GAN: batches of (image in [-1, 1] NCHW, labels, known-mask).

    Args:
        path: a dataset folder or zip in the project's format.
        resolution: the resolution the model expects (checked against the dataset), or None.
        batch_size: images per batch and per process.
        val_fraction: share of images held out (by a seeded hash of their id) for metrics.
        flip: random horizontal flips (off by default, as in the paper).
        device: "cpu" keeps the uint8 set in host memory; "auto"/"cuda" puts it on the GPU.
    """

    def __init__(
        self,
        path: str,
        resolution: int | None = None,
        batch_size: int = 64,
        val_fraction: float = 0.02,
        split_seed: int = 0,
        seed: int = 0,
        flip: bool = False,
        device: str = "cpu",
    ) -> None:
        super().__init__()
        self.path, self.resolution, self.batch_size = Path(path), resolution, batch_size
        self.val_fraction, self.split_seed, self.seed = val_fraction, split_seed, seed
        self.flip, self.device = flip, device
        self.train_set: FaceDataset | None = None
        self.val_set: FaceDataset | None = None
        self._batches: InMemoryBatches | None = None

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is not None:
            return
        ds, train_idx, val_idx = load_split(
            self.path, self.resolution, self.val_fraction, self.split_seed
        )
        self.train_set, self.val_set = ds.subset(train_idx), ds.subset(val_idx)

    @property
    def empirical_prior(self) -> LabelPrior:
        """The training split's own label distribution (for evaluation and export)."""
        return LabelPrior.empirical(self.train_set.labels, self.train_set.known)

    def train_dataloader(self) -> InMemoryBatches:
        if self._batches is None:  # called by Lightning's Trainer, after setup()
            trainer, ds = self.trainer, self.train_set
            dev = trainer.strategy.root_device if self.device == "auto" else self.device
            self._batches = InMemoryBatches(
                torch.from_numpy(np.ascontiguousarray(ds.images)).to(dev),
                torch.from_numpy(ds.labels.astype(np.float32)).to(dev),
                torch.from_numpy(ds.known.astype(np.float32)).to(dev),
                self.batch_size,
                seed=self.seed,
                rank=trainer.global_rank,
                world_size=trainer.world_size,
            )
        return self._batches

    def on_after_batch_transfer(self, batch: Batch, dataloader_idx: int) -> Batch:
        """uint8 NHWC -> float NCHW in [-1, 1] on the device (and the optional flip)."""
        images, labels, known = batch
        images = to_model_range(images.permute(0, 3, 1, 2)).contiguous(
            memory_format=torch.channels_last
        )
        if self.flip and self.trainer.training:
            flip = torch.rand(images.shape[0], device=images.device) < 0.5
            images = torch.where(flip[:, None, None, None], images.flip(3), images)
        return images, labels, known
