"""The dataset format: one artifact that the data stages write and training reads.

A dataset is a folder (or a zip of the same files, for moving it around)::

    dataset.json     format, version, resolution, count, tag names (schema order), source, notes
    images.npy       uint8 [N, R, R, 3] RGB, decoded once, memory-mappable
    labels.npy       uint8 [N, 34] multi-hot (1 = the image shows the tag)
    known.npy        uint8 [N, 34] known-mask (1 = the label is known; an absent tag of a
                     partly tagged source is unknown, not false)
    metadata.jsonl   one JSON object per image: id, source, year (or null), width, height
                     (original size before resizing), plus any stage-specific fields

Writes are atomic: everything goes to a temporary sibling folder that is renamed into place,
so an interrupted stage never leaves a half-written dataset; and a folder that holds anything
but an earlier dataset is refused, never replaced (:mod:`anime_gan.outputs`).
"""

import io
import json
import os
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from anime_gan.data.tags import NUM_TAGS, TAG_NAMES
from anime_gan.errors import UserError
from anime_gan.outputs import DATASET, check_output, check_output_file, staged_folder

FORMAT = "anime-gan-dataset"
VERSION = 1
_ARRAYS = ("images", "labels", "known")


@dataclass
class FaceDataset:
    """An in-memory (or memory-mapped) dataset in the project's format."""

    images: np.ndarray  # uint8 [N, R, R, 3]
    labels: np.ndarray  # uint8 [N, 34]
    known: np.ndarray  # uint8 [N, 34]
    metadata: list[dict[str, Any]]
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        images, n = self.images, len(self.images)
        square = images.ndim == 4 and images.shape[1] == images.shape[2] and images.shape[3] == 3
        tags = self.labels.shape == self.known.shape == (n, NUM_TAGS)
        if not (square and images.dtype == np.uint8 and tags and len(self.metadata) == n):
            raise ValueError(
                f"expected uint8 images [N, R, R, 3], labels and known [N, {NUM_TAGS}] and N "
                f"metadata rows, got {images.dtype} {images.shape}, {self.labels.shape}, "
                f"{self.known.shape} and {len(self.metadata)} rows"
            )

    def __len__(self) -> int:
        return len(self.images)

    @property
    def resolution(self) -> int:
        return int(self.images.shape[1])

    @property
    def ids(self) -> list[str]:
        return [str(m["id"]) for m in self.metadata]

    def subset(self, index: np.ndarray | Sequence[int]) -> "FaceDataset":
        idx = np.asarray(index, dtype=np.int64)
        return FaceDataset(
            np.ascontiguousarray(self.images[idx]),
            self.labels[idx],
            self.known[idx],
            [self.metadata[i] for i in idx],
            dict(self.info),
        )


def save_dataset(
    ds: FaceDataset, path: str | Path, inputs: dict[str, str | Path] | None = None, **info: Any
) -> Path:
    """Write ``ds`` to ``path`` (a folder, or a ``.zip`` file) atomically; returns the path.

    ``path`` must be new, empty or an earlier dataset (:mod:`anime_gan.outputs`): anything else
    is refused, never deleted. ``inputs`` (option -> path) are what the stage read from, which
    ``path`` may be neither nor contain.
    """
    path = Path(path)
    header = {
        **ds.info,
        **info,
        "format": FORMAT,
        "version": VERSION,
        "resolution": ds.resolution,
        "count": len(ds),
        "tags": list(TAG_NAMES),
    }
    if path.suffix == ".zip":
        check_dataset_output(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=f".{path.name}.", dir=path.parent) as tmp:
            folder = Path(tmp) / "ds"
            _write_files(ds, header, folder)
            staged = Path(tmp) / "ds.zip"
            with zipfile.ZipFile(staged, "w", zipfile.ZIP_STORED) as zf:
                for file in sorted(folder.iterdir()):
                    zf.write(file, file.name)
            os.replace(staged, path)
        return path
    with staged_folder(path, DATASET, inputs) as folder:
        _write_files(ds, header, folder)
    return path


def _write_files(ds: FaceDataset, header: dict[str, Any], folder: Path) -> None:
    folder.mkdir(exist_ok=True)
    (folder / "dataset.json").write_text(json.dumps(header, indent=2, default=_jsonable))
    for name in _ARRAYS:
        np.save(folder / f"{name}.npy", np.ascontiguousarray(getattr(ds, name)))
    with open(folder / "metadata.jsonl", "w") as f:
        for row in ds.metadata:
            f.write(json.dumps(row, default=_jsonable) + "\n")


def is_dataset_zip(path: Path) -> bool:
    """Whether ``path`` is a zip holding an anime-gan ``dataset.json``."""
    try:
        with zipfile.ZipFile(path) as zf:
            return json.loads(zf.read("dataset.json")).get("format") == FORMAT
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, AttributeError):
        return False


def check_dataset_output(path: str | Path, inputs: dict[str, str | Path] | None = None) -> Path:
    """Refuse, before any work, an ``out=`` that :func:`save_dataset` would refuse at the end."""
    path = Path(path)
    if path.suffix == ".zip":
        return check_output_file(path, is_dataset_zip, "an anime-gan dataset zip")
    return check_output(path, DATASET, inputs)


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, (np.generic, np.ndarray)):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON-serialisable: {type(obj).__name__}")


def load_dataset(path: str | Path, mmap: bool = True) -> FaceDataset:
    """Read a dataset folder or zip written by :func:`save_dataset`."""
    path = Path(path)
    if not path.exists():
        raise UserError(
            f"dataset {path} does not exist: build one first (e.g. `make demo-data` or "
            f"`anime-gan import source=... out={path}`)."
        )
    try:
        if path.is_dir():
            header = json.loads((path / "dataset.json").read_text())
            arrays = {
                n: np.load(path / f"{n}.npy", mmap_mode="r" if mmap else None) for n in _ARRAYS
            }
            meta_text = (path / "metadata.jsonl").read_text()
        else:
            with zipfile.ZipFile(path) as zf:
                header = json.loads(zf.read("dataset.json"))
                arrays = {n: np.load(io.BytesIO(zf.read(f"{n}.npy"))) for n in _ARRAYS}
                meta_text = zf.read("metadata.jsonl").decode()
    except (OSError, EOFError, KeyError, zipfile.BadZipFile, ValueError) as e:  # JSON's too
        raise UserError(
            f"{path} is not a readable anime-gan dataset ({e}): rebuild it with `anime-gan import` "
            f"or `anime-gan build`."
        ) from None
    if header.get("format") != FORMAT or header.get("tags") != list(TAG_NAMES):
        raise UserError(
            f"{path} is not a dataset of this anime-gan version (its dataset.json has another "
            f"format or tag schema): rebuild it with `anime-gan import` or `anime-gan build`."
        )
    metadata = [json.loads(line) for line in meta_text.splitlines() if line.strip()]
    try:
        return FaceDataset(arrays["images"], arrays["labels"], arrays["known"], metadata, header)
    except ValueError as e:
        raise UserError(f"{path} is inconsistent ({e}): rebuild it.") from None


def check_resolution(ds: FaceDataset, expected: int, path: str | Path = "the dataset") -> None:
    """Raise a clear error when a dataset's resolution is not the one a model expects."""
    if ds.resolution != expected:
        raise UserError(
            f"{path} holds {ds.resolution}x{ds.resolution} images but the model expects "
            f"{expected}x{expected}: set data.resolution={ds.resolution} (and the model's "
            f"resolution) or rebuild the dataset at {expected} px."
        )
