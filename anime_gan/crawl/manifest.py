"""The crawl's JSON-lines files: an append-only writer that a kill cannot corrupt, and readers.

``manifest.jsonl`` has one object per finished image (the detect stage reads it with
:func:`read_manifest`)::

    url, path (relative to the crawl folder), sha256, bytes, format, width, height,
    game_id (Getchu id), egs_id, game_name, release_date ("YYYY-MM-DD" or null),
    year (int or null), page_url, character (name or null), downloaded_at (UTC ISO time)

Each record is one ``write`` of one line, appended after its image file is in place, so a kill
leaves at worst a torn last line, which the readers skip and the writer cuts off before it
appends again.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from anime_gan.errors import UserError
from anime_gan.jsonl import repair_tail

MANIFEST = "manifest.jsonl"


def read_manifest(path: str | Path) -> list[dict[str, Any]]:
    """The finished images of a crawl: ``path`` is the crawl folder or its manifest.jsonl."""
    path = Path(path)
    if path.is_dir():
        path = path / MANIFEST
    if not path.exists():
        raise UserError(
            f"no crawl manifest at {path}; run `make crawl` first or point to the crawl "
            f"folder that holds manifest.jsonl."
        )
    return read_jsonl(path)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """All records of a JSON-lines file; a torn last line (a kill mid-write) is ignored."""
    data = path.read_bytes()
    lines = data.split(b"\n")
    records = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as e:
            if number == len(lines):  # the last line, without its newline: torn by a kill
                break
            raise UserError(
                f"line {number} of {path} is not valid JSON ({e}); remove that line and run the "
                f"crawl again, which redoes what it recorded."
            ) from e
        if isinstance(record, dict):
            records.append(record)
    return records


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> None:
    """Replace ``path`` with ``records``, atomically (temporary file, then rename)."""
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "w", encoding="utf-8") as f:
        f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)


class JsonlAppender:
    """Appends records to a JSON-lines file, one unbuffered write per line, from any thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        repair_tail(path)
        self._file = open(path, "ab", buffering=0)
        self._lock = threading.Lock()

    def append(self, record: dict[str, Any]) -> None:
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        with self._lock:
            self._file.write(line)

    def close(self) -> None:
        with self._lock:
            if not self._file.closed:
                os.fsync(self._file.fileno())
                self._file.close()

    def __enter__(self) -> JsonlAppender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def latest_by(records: list[dict[str, Any]], key: str) -> dict[Any, dict[str, Any]]:
    """The last record for each value of ``key`` (append-only files: later lines win)."""
    return {r[key]: r for r in records if key in r}
