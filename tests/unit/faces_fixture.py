"""A detect output folder made by hand (crops + faces.jsonl + done.jsonl), for review and build tests."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from anime_gan.data.tags import NUM_TAGS


def crop_pixels(seed: int, size: int = 64) -> np.ndarray:
    """A distinct, smooth uint8 RGB crop for each seed (smooth so that resizing keeps it apart)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(small).resize((size, size), Image.Resampling.BILINEAR))


def make_faces(
    root: Path,
    years: Sequence[int | None],
    pixels: Sequence[np.ndarray] | None = None,
    short_edges: Sequence[int] | None = None,
) -> list[dict[str, Any]]:
    """Write one face per year (id f"src{i:03d}_0"); returns the face rows."""
    (root / "crops").mkdir(parents=True, exist_ok=True)
    rows = []
    with open(root / "faces.jsonl", "w") as faces, open(root / "done.jsonl", "w") as done:
        for i, year in enumerate(years):
            fid = f"src{i:03d}_0"
            img = pixels[i] if pixels is not None else crop_pixels(i)
            Image.fromarray(img).save(root / "crops" / f"{fid}.png")
            edge = short_edges[i] if short_edges is not None else 100 + i
            row = {
                "id": fid,
                "file": f"crops/{fid}.png",
                "source_path": f"src{i:03d}.jpg",
                "source": f"https://example.test/src{i:03d}.jpg",
                "box": [10, 10, 20, 20],
                "crop_box": [5, 5, 5 + edge, 5 + edge],
                "short_edge": edge,
                "padded": False,
                "year": year,
                "game_id": i,
                "release_date": None,
            }
            rows.append(row)
            faces.write(json.dumps(row) + "\n")
            done.write(
                json.dumps({"source_path": row["source_path"], "faces": 1, "status": "ok"}) + "\n"
            )
    return rows


def labels_for(i: int) -> list[int]:
    """A valid label vector: one hair colour, one eye colour, and tag 13 (long hair) on odd i."""
    labels = [0] * NUM_TAGS
    labels[i % 13] = 1
    labels[24 + i % 10] = 1
    labels[13] = i % 2
    return labels


def write_tags(path: Path, ids: Sequence[str]) -> dict[str, list[int]]:
    """tags.jsonl rows in the tag stage's format; returns id -> labels."""
    path.parent.mkdir(parents=True, exist_ok=True)
    out = {}
    with open(path, "w") as f:
        for i, fid in enumerate(ids):
            labels = labels_for(i)
            probs = [0.9 if v else 0.05 for v in labels]
            row = {"id": fid, "file": f"crops/{fid}.png", "probs": probs, "labels": labels}
            f.write(json.dumps(row) + "\n")
            out[fid] = labels
    return out
