"""The crawl folder: what is done, and the one place that writes images and records.

Layout (``out``, default data/crawl)::

    games.jsonl      the game list from ErogameScape, and games.sql the query that gave it: reruns
                     with the same query reuse it (refresh_games=true asks again)
    pages.jsonl      one record per page fetch: status ok / age_gate / removed / no_images / failed
    images/<game_id>/<file>   the pictures (file name from the URL, extension from the bytes)
    manifest.jsonl   one record per finished image (see anime_gan.crawl.manifest)
    skipped.jsonl    image URLs not to try again: placeholder, duplicate, too_large, not_found
    failures.jsonl   image failures of each run (retried by the next run), for reading
    summary.json     the last run's summary
    .lock            held while a crawl runs, so two crawls never share a folder

An image is written to ``<file>.part`` and renamed, then its manifest line is appended. A kill
between the two leaves a file without a record: :meth:`CrawlStore.open` deletes such orphans
(and ``.part`` leftovers), so the files on disk always match the manifest and the image is
fetched again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import posixpath
import threading
import urllib.parse
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from anime_gan.crawl.download import ImageInfo
from anime_gan.crawl.manifest import MANIFEST, read_jsonl, write_jsonl
from anime_gan.errors import UserError
from anime_gan.jsonl import repair_tail
from anime_gan.outputs import CRAWL, check_output

try:
    import fcntl
except ImportError:  # Windows: no folder lock
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("anime_gan.crawl")


def utc_now() -> str:
    """The time of a record: UTC, ISO 8601, whole seconds."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class CrawlStore:
    """State of a crawl folder, safe to share between worker threads."""

    def __init__(self, out: Path) -> None:
        self.out = Path(out)
        self._lock = threading.RLock()
        self._files: dict[str, Any] = {}  # the open files: .lock, then the append-only ones
        self.records: dict[str, dict[str, Any]] = {}  # url -> manifest record
        self.by_sha: dict[str, str] = {}  # sha256 -> path of the first image with those bytes
        self.paths: set[str] = set()
        self.skipped_urls: set[str] = set()
        self.cleaned: dict[str, int] = {}

    def open(self) -> CrawlStore:
        """Lock the folder, repair what a kill left, load what is done, open the files.

        The folder must be new, empty or a crawl folder (:mod:`anime_gan.outputs`): the repair
        deletes files under ``images/`` that the manifest does not list.
        """
        check_output(self.out, CRAWL)
        self.out.mkdir(parents=True, exist_ok=True)
        try:
            if fcntl is not None:  # held until close(), so two crawls never share the folder
                self._files[".lock"] = open(self.out / ".lock", "wb")
                try:
                    fcntl.flock(self._files[".lock"], fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError as e:
                    raise UserError(
                        f"another crawl is writing to {self.out} (it holds {self.out / '.lock'}); "
                        f"wait for it to finish or give this one another out= folder."
                    ) from e
            self._reconcile()
            self.skipped_urls = {r["url"] for r in read_jsonl(self.out / "skipped.jsonl")}
            for name in (MANIFEST, "pages.jsonl", "skipped.jsonl", "failures.jsonl"):
                repair_tail(self.out / name)
                self._files[name] = open(self.out / name, "ab", buffering=0)
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        """Flush the records to disk, close the files, and release the folder lock last."""
        with self._lock:
            for f in reversed(self._files.values()):
                os.fsync(f.fileno())
                f.close()
            self._files.clear()

    def __enter__(self) -> CrawlStore:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def append(self, name: str, record: dict[str, Any]) -> None:
        """Append ``record`` to the append-only file ``name``, from any thread."""
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        with self._lock:
            self._files[name].write(line)

    def add_image(
        self, body: bytes, info: ImageInfo, meta: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        """Save and record a checked image: ("saved", manifest record), or ("duplicate", skip
        record) when the same bytes are already saved."""
        sha = hashlib.sha256(body).hexdigest()
        with self._lock:
            if sha in self.by_sha:
                return "duplicate", self.skip(
                    meta["url"], "duplicate", duplicate_of=self.by_sha[sha], sha256=sha,
                    game_id=meta["game_id"],
                )  # fmt: skip
            url_path = urllib.parse.urlsplit(meta["url"]).path
            stem = posixpath.splitext(posixpath.basename(url_path))[0] or sha[:16]
            stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in stem)
            rel = f"images/{meta['game_id']}/{stem}{info.ext}"
            if rel in self.paths:  # the same file name from another URL
                rel = f"images/{meta['game_id']}/{stem}-{sha[:8]}{info.ext}"
            target = self.out / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(target.name + ".part")
            tmp.write_bytes(body)
            os.replace(tmp, target)
            record = {
                "url": meta["url"],
                "path": rel,
                "sha256": sha,
                "bytes": len(body),
                "format": info.format,
                "width": info.width,
                "height": info.height,
                **{k: v for k, v in meta.items() if k != "url"},
                "downloaded_at": utc_now(),
            }
            self.append(MANIFEST, record)
            self._remember(record)
            return "saved", record

    def skip(self, url: str, cause: str, **extra: Any) -> dict[str, Any]:
        """Record (once) an image URL that a rerun should not try again; return the record."""
        record = {"url": url, "cause": cause, **extra}
        with self._lock:
            if url not in self.skipped_urls:
                self.skipped_urls.add(url)
                self.append("skipped.jsonl", record)
        return record

    def _remember(self, record: dict[str, Any]) -> None:
        self.records[record["url"]] = record
        self.by_sha.setdefault(record["sha256"], record["path"])
        self.paths.add(record["path"])

    def _reconcile(self) -> None:
        """Make manifest and files agree after a kill: drop records without files and vice versa."""
        path = self.out / MANIFEST
        records = read_jsonl(path)
        for r in records:
            file = self.out / r["path"]
            if (
                r["url"] not in self.records
                and file.is_file()
                and file.stat().st_size == r["bytes"]
            ):
                self._remember(r)
        if len(self.records) != len(records):
            write_jsonl(path, list(self.records.values()))
        files = [f for f in (self.out / "images").rglob("*") if f.is_file()]
        partial = [f for f in files if f.suffix == ".part"]
        orphans = [
            f
            for f in files
            if f.suffix != ".part" and f.relative_to(self.out).as_posix() not in self.paths
        ]
        for file in partial + orphans:
            file.unlink()
        self.cleaned = {
            "dropped_records": len(records) - len(self.records),
            "orphan_files": len(orphans),
            "partial_files": len(partial),
        }
        if any(self.cleaned.values()):
            log.info("crawl folder repaired after an interruption: %s", self.cleaned)
