"""The detect stage's output folder and its JSON-lines records.

::

    <faces>/crops/<id>.png   one face per file, square, at the master resolution
    <faces>/faces.jsonl      one row per face: id, file, source_path, source, box, crop_box, ...
    <faces>/done.jsonl       one row per processed source image (faces found, or why none)
    <faces>/detect.json      the manifest: the input and settings the crops were made with (a
                             rerun must use the same), and the counts of the last run

A source is finished once its ``done`` row is written, after its crops and face rows. Readers
therefore keep only the face rows of finished sources (the last row per id wins), and skip any
line that is not JSON (a torn last write, which the next run cuts off before it appends:
:mod:`anime_gan.jsonl`), so an interrupted run leaves nothing half-counted and resumes cleanly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from anime_gan.errors import UserError
from anime_gan.jsonl import read_jsonl

FACES_FILE = "faces.jsonl"
DONE_FILE = "done.jsonl"
CROPS_DIR = "crops"
SUMMARY_FILE = "detect.json"


def read_done(faces_dir: str | Path) -> dict[str, dict[str, Any]]:
    """Finished sources of a detect folder: ``source_path`` (the resume key) -> its ``done`` row."""
    rows = read_jsonl(Path(faces_dir) / DONE_FILE)
    return {str(r["source_path"]): r for r in rows if "source_path" in r}


def read_faces(faces_dir: str | Path) -> list[dict[str, Any]]:
    """Face rows of the finished sources of a detect folder, sorted by id."""
    faces_dir = Path(faces_dir)
    if not (faces_dir / FACES_FILE).exists():
        raise UserError(
            f"{faces_dir / FACES_FILE} does not exist: run `make detect` (or `anime-gan detect "
            f"out={faces_dir}`) first."
        )
    done = read_done(faces_dir)
    rows = {
        str(row["id"]): row  # the last row of an id wins
        for row in read_jsonl(faces_dir / FACES_FILE)
        if "id" in row and str(row.get("source_path")) in done
    }
    return [rows[k] for k in sorted(rows)]


def crop_path(faces_dir: str | Path, row: dict[str, Any]) -> Path:
    """Absolute path of a face row's crop PNG."""
    return Path(faces_dir) / row["file"]
