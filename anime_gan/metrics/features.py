"""Feature extractors for FID/KID, fingerprints, and the on-disk cache of real-set statistics.

Our own code beside torchmetrics: its FID/KID take any extractor, but not our weights' hashes,
the cache, or one forward pass shared by FID and KID.

A feature extractor follows the torchmetrics contract: an ``nn.Module`` that is frozen, in eval
mode, has ``num_features``, and maps images in the generator's range [-1, 1] (NCHW float) to
``[N, num_features]``; :class:`MetricFeatures` hands one to torchmetrics'
``FrechetInceptionDistance`` and ``KernelInceptionDistance`` as their ``feature``. The paper's
is Illustration2Vec's ``encode1`` (4,096-d), loaded from its converted safetensors file; the
other is a trained judge's pooled features.

Real statistics are cached as ``<cache_dir>/<key>.npz`` where the key hashes the dataset
(its pixels, labels and known-mask), the extractor's weights, and the protocol's choice of images,
as stylegan's metrics do: a changed dataset or extractor can never reuse stale numbers.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

from anime_gan.data.dataset import FaceDataset


def _hash_array(h: hashlib._Hash, array: np.ndarray) -> None:
    h.update(f"{array.dtype}{array.shape}".encode())
    h.update(np.ascontiguousarray(array))  # the buffer itself: a memory-mapped set is not copied


def dataset_fingerprint(ds: FaceDataset) -> str:
    """A hash of a dataset's pixels, labels and known-mask (16 hex digits)."""
    h = hashlib.blake2b(digest_size=8)
    for array in (ds.images, ds.labels, ds.known):
        _hash_array(h, np.asarray(array))
    return h.hexdigest()


def module_fingerprint(module: nn.Module) -> str:
    """A hash of a module's class, parameter and buffer values (16 hex digits).

    A module may carry a precomputed ``fingerprint`` attribute (e.g. the hash of its weights
    file) to skip hashing hundreds of megabytes.
    """
    given = getattr(module, "fingerprint", None)
    if isinstance(given, str):
        return given
    h = hashlib.blake2b(digest_size=8)
    h.update(type(module).__name__.encode())
    for name, tensor in sorted(module.state_dict().items()):
        h.update(name.encode())
        _hash_array(h, tensor.detach().cpu().contiguous().numpy())
    return h.hexdigest()


def cache_key(*parts: object) -> str:
    """A file-name-safe key from any printable parts (fingerprints, protocol name, seeds)."""
    return hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=10).hexdigest()


class StatsCache:
    """Named arrays by key: in memory, and as ``<folder>/<key>.npz`` when a folder is given."""

    def __init__(self, folder: str | Path | None = None) -> None:
        self.folder = Path(folder) if folder else None
        self.memory: dict[str, dict[str, np.ndarray]] = {}

    def load(self, key: str) -> dict[str, np.ndarray] | None:
        path = self.folder / f"{key}.npz" if self.folder else None
        if key not in self.memory and path is not None and path.is_file():
            with np.load(path) as data:
                self.memory[key] = dict(data)
        return self.memory.get(key)

    def save(self, key: str, arrays: dict[str, np.ndarray]) -> None:
        """Keep in memory; write atomically (temp file + rename) so a killed run leaves no
        broken entry."""
        self.memory[key] = arrays
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = self.folder / f".{key}.{os.getpid()}.tmp.npz"
            np.savez(tmp, **arrays)
            os.replace(tmp, self.folder / f"{key}.npz")


def file_fingerprint(path: str | Path) -> str:
    """A hash of a file's bytes (16 hex digits): a weights file's ``fingerprint``."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, lambda: hashlib.blake2b(digest_size=8)).hexdigest()


def load_i2v_features(path: str | Path, device: torch.device | str = "cpu") -> nn.Module:
    """Illustration2Vec's FID feature network from its converted safetensors file.

    Its fingerprint is the hash of the file's bytes (read once), so cache keys follow the weights.
    """
    from anime_gan.tagging.illust2vec import load_features

    net = load_features(path, device)
    net.fingerprint = file_fingerprint(path)
    return net


class MetricFeatures(nn.Module):
    """An extractor as torchmetrics' ``feature``: float64 features (FID and KID are computed in
    float64), and one forward pass per batch when FID and KID are fed the same images (or KID
    a first part of them). The extractor must keep the torchmetrics contract: an integer
    ``num_features``, eval mode, frozen."""

    def __init__(self, extractor: nn.Module) -> None:
        super().__init__()
        name = type(extractor).__name__
        if not isinstance(getattr(extractor, "num_features", None), int):
            raise TypeError(f"{name} has no integer num_features")
        if extractor.training:
            raise ValueError(f"{name} must be in eval mode (call .eval())")
        if any(p.requires_grad for p in extractor.parameters()):
            raise ValueError(f"{name} must be frozen (requires_grad_(False))")
        self.extractor, self.num_features = extractor, int(extractor.num_features)
        self._last: tuple[torch.Tensor, torch.Tensor] | None = None

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if self._last is not None:
            whole, features = self._last
            # ``images`` is ``whole[:k]`` (the same memory), e.g. KID's share of a batch
            if (
                images.data_ptr() == whole.data_ptr()
                and images.shape[1:] == whole.shape[1:]
                and len(images) <= len(whole)
                and images.stride() == whole.stride()
            ):
                return features[: len(images)]
        with torch.no_grad():
            self._last = images, self.extractor(images).double()
        return self._last[1]
