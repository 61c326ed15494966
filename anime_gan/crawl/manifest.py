"""The crawl's JSON-lines files: the manifest, the reader, and the atomic rewrite.

``manifest.jsonl`` has one object per finished image (the detect stage reads it with
:func:`read_manifest`)::

    url, path (relative to the crawl folder), sha256, bytes, format, width, height,
    game_id (Getchu id), egs_id, game_name, release_date ("YYYY-MM-DD" or null),
    year (int or null), page_url, character (name or null), downloaded_at (UTC ISO time)

Each record is one ``write`` of one line (:meth:`anime_gan.crawl.pipeline.CrawlStore.append`),
appended after its image file is in place, so a kill leaves at worst a torn last line, which
the readers skip and :func:`anime_gan.jsonl.repair_tail` cuts off before the next append.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from anime_gan import jsonl
from anime_gan.errors import UserError

MANIFEST = "manifest.jsonl"
BAD_LINE_FIX = "remove that line and run the crawl again, which redoes what it recorded."


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
    """All records of a crawl JSON-lines file (:func:`anime_gan.jsonl.read_jsonl`): a torn last
    line is skipped, another bad line stops the crawl with a sentence."""
    return jsonl.read_jsonl(path, BAD_LINE_FIX)


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> None:
    """Replace ``path`` with ``records``, atomically (temporary file, then rename)."""
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "w", encoding="utf-8") as f:
        jsonl.append_jsonl(f, records, ensure_ascii=False)
    tmp.replace(path)
