"""The 34 tags from Illustration2Vec's 1,539 probabilities (paper 3.2), and the tags file format.

Selection rules (paper 3.2): within hair color and within eye color exactly one tag, the most
probable (argmax; a tie goes to the lowest index, which is both the schema's and
Illustration2Vec's order); every other tag is true when its probability is strictly above 0.25,
as in Illustration2Vec's own ``estimate_plausible_tags`` (a probability of exactly 0.25 is false).
Every label is known: the tagger decides all 34.

``tags.jsonl`` has one row per image, ``{"id", "file", "probs": [34], "labels": [34]}``, in the
schema order of :data:`anime_gan.data.tags.TAG_NAMES`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from anime_gan.data.tags import EXCLUSIVE_GROUPS, I2V_INDICES, NUM_TAGS
from anime_gan.errors import UserError
from anime_gan.jsonl import read_jsonl, repair_tail
from anime_gan.tagging.illust2vec import NUM_I2V_TAGS

THRESHOLD = 0.25
TAGS_FILE = "tags.jsonl"
BAD_LINE_FIX = "delete the file (or that line) and run the tag stage again."


@dataclass(frozen=True)
class TagSelection:
    """Tags of N images in schema order: probabilities and hard labels (every one is known)."""

    probs: np.ndarray  # float32 [N, 34]
    labels: np.ndarray  # uint8 [N, 34]


def labels_from_probs(probs: np.ndarray, threshold: float = THRESHOLD) -> np.ndarray:
    """Hard labels [N, 34] from schema-ordered probabilities [N, 34] by the paper's rules."""
    probs = np.asarray(probs, dtype=np.float32)
    if probs.ndim != 2 or probs.shape[1] != NUM_TAGS:
        raise ValueError(f"expected probabilities of shape [N, {NUM_TAGS}], got {probs.shape}")
    labels = (probs > threshold).astype(np.uint8)
    rows = np.arange(len(probs))
    for idx in EXCLUSIVE_GROUPS.values():
        labels[:, idx] = 0
        labels[rows, idx[np.argmax(probs[:, idx], axis=1)]] = 1  # argmax: first of equals
    return labels


def select_tags(i2v_probs: np.ndarray | torch.Tensor, threshold: float = THRESHOLD) -> TagSelection:
    """The 34 tags from Illustration2Vec's outputs: [N, 1539] (or one [1539] vector)."""
    if isinstance(i2v_probs, torch.Tensor):
        i2v_probs = i2v_probs.detach().float().cpu().numpy()
    full = np.atleast_2d(np.asarray(i2v_probs, dtype=np.float32))
    if full.ndim != 2 or full.shape[1] != NUM_I2V_TAGS:
        raise ValueError(
            f"expected Illustration2Vec probabilities [N, {NUM_I2V_TAGS}], got {full.shape}"
        )
    probs = np.ascontiguousarray(full[:, list(I2V_INDICES)])
    return TagSelection(probs, labels_from_probs(probs, threshold))


def tag_rows(
    ids: Iterable[str], files: Iterable[str], selection: TagSelection
) -> list[dict[str, Any]]:
    """``tags.jsonl`` rows; probabilities rounded to 6 decimals (the labels are exact)."""
    return [
        {"id": i, "file": f, "probs": [round(float(p), 6) for p in p34], "labels": l34.tolist()}
        for i, f, p34, l34 in zip(ids, files, selection.probs, selection.labels, strict=True)
    ]


def _tags_path(path: str | Path) -> Path:
    path = Path(path)
    return path / TAGS_FILE if path.is_dir() else path


def finished_ids(path: str | Path) -> set[str]:
    """Ids already in a tags file, cutting off a torn last line so appending can resume."""
    path = _tags_path(path)
    repair_tail(path)
    return {str(row["id"]) for row in read_jsonl(path, BAD_LINE_FIX)}


def read_tags(path: str | Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """id -> (probs float32 [34], labels uint8 [34]) from ``tags.jsonl`` (or its folder).

    A torn last line (an interrupted run) is ignored; a later row for the same id wins.
    """
    path = _tags_path(path)
    if not path.is_file():
        raise UserError(f"no tags file at {path}: run `anime-gan tag` first (make tag).")
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for row in read_jsonl(path, BAD_LINE_FIX):
        try:
            probs = np.asarray(row["probs"], dtype=np.float32)
            labels = np.asarray(row["labels"], dtype=np.uint8)
            ident = str(row["id"])
        except (KeyError, TypeError, ValueError):
            raise UserError(
                f"{path} has a row without id/probs/labels ({str(row)[:60]}): delete "
                f"it and run the tag stage again."
            ) from None
        if probs.shape != (NUM_TAGS,) or labels.shape != (NUM_TAGS,):
            raise UserError(
                f"{path} has a row for {ident} without {NUM_TAGS} tags: it was written "
                f"by another schema, so delete it and run the tag stage again."
            )
        out[ident] = (probs, labels)
    return out
