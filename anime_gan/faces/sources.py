"""The images the detect stage reads: a crawl folder (with ``manifest.jsonl``) or any folder.

With a crawl manifest, each row gives the image's path (relative to the crawl folder), its URL,
game id and release year. Any other folder is walked for image files; the release year is then
unknown, or parsed from the relative path by a configurable regular expression (its named group
``year`` if it has one, else the whole match), e.g. ``'(?<!\\d)(?:19[89]\\d|20[0-4]\\d)(?!\\d)'``.

Every source has a ``key`` (its relative path, the resume key) and an ``id`` (the file stem,
made filesystem-safe; a stem that two files share gets a short hash of the path appended) from
which its faces are named ``<id>_<k>``.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from anime_gan.crawl.manifest import MANIFEST, read_manifest
from anime_gan.errors import UserError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff")


@dataclass(frozen=True)
class Source:
    """One input image and what is known about it."""

    key: str  # path relative to the input folder (POSIX): the resume key
    path: str  # absolute path
    id: str  # face ids are f"{id}_{k}"
    source: str  # crawl URL, else the relative path
    year: int | None = None
    game_id: Any = None
    release_date: str | None = None
    sha256: str | None = None


def list_sources(
    input_dir: str | Path, year_regex: str | None = None, exclude: Iterable[str | Path] = ()
) -> tuple[list[Source], list[str]]:
    """Sources under ``input_dir`` (sorted by key) and the manifest paths that are missing."""
    root = Path(input_dir)
    if not root.is_dir():
        raise UserError(
            f"the input folder {root} does not exist: run `make crawl` or pass input=FOLDER "
            f"(any folder of character images)."
        )
    if (root / MANIFEST).exists():
        rows, missing = _from_manifest(root)
    else:
        rows, missing = _from_folder(root, year_regex, [Path(e).resolve() for e in exclude]), []
    return _with_ids(rows), missing


def _from_manifest(root: Path) -> tuple[list[dict[str, Any]], list[str]]:
    rows, missing, seen = [], [], set()
    for row in read_manifest(root):
        rel = row.get("path")
        if not rel or rel in seen:
            continue
        seen.add(rel)
        if not (root / rel).is_file():
            missing.append(str(rel))
            continue
        date = row.get("release_date")
        year = row.get("year")
        if year is None and isinstance(date, str) and re.match(r"\d{4}", date):
            year = int(date[:4])
        rows.append(
            {
                "key": Path(rel).as_posix(),
                "path": str((root / rel).resolve()),
                "source": str(row.get("url") or Path(rel).as_posix()),
                "year": int(year) if year is not None else None,
                "game_id": row.get("game_id"),
                "release_date": date,
                "sha256": row.get("sha256"),
            }
        )
    return rows, missing


def _from_folder(root: Path, year_regex: str | None, exclude: list[Path]) -> list[dict[str, Any]]:
    pattern = re.compile(year_regex) if year_regex else None
    rows = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if (
            path.suffix.lower() not in IMAGE_SUFFIXES
            or any(p.startswith(".") for p in rel.parts)
            or any(path.resolve().is_relative_to(e) for e in exclude)
            or not path.is_file()
        ):
            continue
        key = rel.as_posix()
        rows.append(
            {
                "key": key,
                "path": str(path.resolve()),
                "source": key,
                "year": parse_year(key, pattern),
            }
        )
    return rows


def parse_year(text: str, pattern: re.Pattern[str] | None) -> int | None:
    """The year that ``pattern`` finds in ``text`` (named group ``year``, else the match)."""
    match = pattern.search(text) if pattern else None
    if not match:
        return None
    value = match.group("year") if "year" in pattern.groupindex else match.group(0)
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _safe_stem(key: str) -> str:
    stem = Path(key).stem
    return re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip(".-") or "image"


def _with_ids(rows: list[dict[str, Any]]) -> list[Source]:
    stems = Counter(_safe_stem(r["key"]) for r in rows)
    sources = []
    for r in rows:
        stem = _safe_stem(r["key"])
        if stems[stem] > 1:
            stem = f"{stem}-{hashlib.sha1(r['key'].encode()).hexdigest()[:6]}"
        sources.append(Source(id=stem, **r))
    return sorted(sources, key=lambda s: s.key)
