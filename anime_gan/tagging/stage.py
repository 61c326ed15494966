"""The tag stage: Illustration2Vec tags for every image of a folder (paper 3.2).

Writes into ``out``:

    tags.jsonl     one row per image (see :mod:`anime_gan.tagging.tagger`), appended and synced
                   batch by batch: a rerun skips the ids already there
    tags.json      the manifest: tag names, Illustration2Vec indices, threshold, weights, counts
    skipped.jsonl  images of the last run that could not be read ({"file", "reason"})
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from anime_gan.data.tags import I2V_INDICES, TAG_NAMES
from anime_gan.device import resolve_device
from anime_gan.errors import UserError
from anime_gan.faces.sources import IMAGE_SUFFIXES
from anime_gan.jsonl import append_jsonl
from anime_gan.limits import DEFAULT_MAX_PIXELS, check_pixels
from anime_gan.outputs import TAG, check_output, write_json_atomic
from anime_gan.tagging.illust2vec import Illust2VecTagger, load_tagger
from anime_gan.tagging.preprocess import preprocess
from anime_gan.tagging.tagger import (
    TAGS_FILE,
    THRESHOLD,
    finished_ids,
    select_tags,
    tag_rows,
)

log = logging.getLogger(__name__)

MANIFEST_FILE = "tags.json"


@dataclass
class TagRun:
    """What a run of the tag stage did."""

    out: Path
    tagged: int = 0
    already_done: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)


def list_images(folder: Path) -> list[tuple[str, Path]]:
    """(id, path) of every image under ``folder``, sorted; the id is the file stem."""
    if not folder.is_dir():
        raise UserError(f"no image folder at {folder}: run `make detect` first or pass input=PATH.")
    paths = sorted(
        p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
    )
    if not paths:
        raise UserError(
            f"{folder} holds no images ({', '.join(IMAGE_SUFFIXES)}): pass input=PATH "
            f"to the folder of face crops."
        )
    seen: dict[str, Path] = {}
    for path in paths:
        if path.stem in seen:
            raise UserError(
                f"two images share the id {path.stem!r} ({seen[path.stem]} and "
                f"{path}): rename one, since ids are file stems."
            )
        seen[path.stem] = path
    return list(seen.items())


class _ImageFiles(Dataset):
    """Decoded and preprocessed images; an unreadable file yields its error instead."""

    def __init__(
        self, items: list[tuple[str, Path]], size: int, max_pixels: int = DEFAULT_MAX_PIXELS
    ) -> None:
        self.items, self.size, self.max_pixels = items, size, max_pixels

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> tuple[int, torch.Tensor | None, str]:
        try:
            with Image.open(self.items[i][1]) as image:
                check_pixels(image, self.max_pixels)  # before decoding a huge picture
                rgb = np.asarray(image.convert("RGB"))  # grey -> 3 channels, alpha dropped
        except Exception as e:  # PIL's decoders fail in many ways; each is this one file's problem
            return i, None, f"{type(e).__name__}: {e}"
        return i, preprocess(rgb, self.size)[0], ""


def _collate(
    samples: list[tuple[int, torch.Tensor | None, str]],
) -> tuple[list[int], torch.Tensor | None, list[tuple[int, str]]]:
    """(indices of the decoded images, their stacked tensors, (index, reason) of the others)."""
    good = [(i, x) for i, x, _ in samples if x is not None]
    failed = [(i, reason) for i, x, reason in samples if x is None]
    return [i for i, _ in good], torch.stack([x for _, x in good]) if good else None, failed


def _write_manifest(out: Path, weights: Path, net: Illust2VecTagger, count: int) -> None:
    write_json_atomic(
        out / MANIFEST_FILE,
        {
            "format": "anime-gan-tags",
            "version": 1,
            "tag_names": list(TAG_NAMES),
            "i2v_indices": list(I2V_INDICES),
            "threshold": THRESHOLD,
            "weights": weights.name,
            "input_size": net.arch.input_size,
            "count": count,
        },
    )


def tag_folder(
    input_dir: str | Path,
    out: str | Path,
    weights: str | Path,
    batch_size: int = 32,
    device: str = "auto",
    num_workers: int = 0,
    progress: bool = True,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> TagRun:
    """Tag every image under ``input_dir`` into ``out`` (resuming what a previous run finished);
    an image over ``max_pixels`` is skipped (listed in skipped.jsonl) without being decoded."""
    root, run, weights = Path(input_dir), TagRun(Path(out)), Path(weights)
    if batch_size < 1:
        raise UserError(f"batch_size must be at least 1, got {batch_size}: fix batch_size=... .")
    check_output(run.out, TAG, {"input": root})
    images = list_images(root)
    dev = resolve_device(device)
    net = load_tagger(weights, dev)
    run.out.mkdir(parents=True, exist_ok=True)
    manifest, tags = run.out / MANIFEST_FILE, run.out / TAGS_FILE
    if tags.exists() and manifest.exists():
        before = json.loads(manifest.read_text()).get("weights")
        if before not in (None, weights.name):
            raise UserError(
                f"{tags} was made with {before}, not {weights.name}: pass "
                f"the same weights to resume, or a new out=FOLDER."
            )
    done = finished_ids(tags)
    pending = [(k, p) for k, p in images if k not in done]
    run.already_done = len(images) - len(pending)
    _write_manifest(run.out, weights, net, len(done))
    loader = DataLoader(
        _ImageFiles(pending, net.arch.input_size, max_pixels),
        batch_size=batch_size,
        num_workers=num_workers,
        collate_fn=_collate,
        pin_memory=dev.type == "cuda",
    )
    try:
        with (
            open(tags, "a", encoding="utf-8") as handle,
            tqdm(total=len(pending), unit="img", desc="tag", disable=not progress) as bar,
        ):
            for indices, x, failed in loader:
                run.skipped += [(str(pending[i][1]), reason) for i, reason in failed]
                if x is not None:
                    with torch.inference_mode():
                        probs = net.forward_preprocessed(x.to(dev, non_blocking=True))
                    chosen = [pending[i] for i in indices]
                    files = [path.relative_to(root).as_posix() for _, path in chosen]
                    rows = tag_rows([k for k, _ in chosen], files, select_tags(probs))
                    append_jsonl(handle, rows, separators=(",", ":"))
                    run.tagged += len(indices)
                bar.update(len(indices) + len(failed))
    finally:
        _write_manifest(run.out, weights, net, len(done) + run.tagged)
        with open(run.out / "skipped.jsonl", "w", encoding="utf-8") as f:
            f.writelines(json.dumps({"file": p, "reason": r}) + "\n" for p, r in run.skipped)
    for path, reason in run.skipped:
        log.warning("skipped %s (%s)", path, reason)
    return run
