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
import logging
import os
import posixpath
import threading
import urllib.parse
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from anime_gan.crawl.download import ImageInfo
from anime_gan.crawl.manifest import MANIFEST, JsonlAppender, read_jsonl, repair_tail, write_jsonl
from anime_gan.errors import UserError
from anime_gan.outputs import CRAWL, check_output

try:
    import fcntl
except ImportError:  # Windows: no folder lock
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("anime_gan.crawl")


class CrawlStore:
    """State of a crawl folder, safe to share between worker threads."""

    def __init__(self, out: Path) -> None:
        self.out = Path(out)
        self.images_dir = self.out / "images"
        self._lock = threading.Lock()
        self._lock_file: Any = None
        self.records: list[dict[str, Any]] = []
        self.by_sha: dict[str, str] = {}
        self.paths: set[str] = set()
        self.done_urls: set[str] = set()
        self.skipped_urls: set[str] = set()
        self.cleaned: dict[str, int] = {}

    def open(self) -> CrawlStore:
        """Lock the folder, repair what a kill left, load what is done, open the appenders.

        The folder must be new, empty or a crawl folder (:mod:`anime_gan.outputs`): the repair
        deletes files under ``images/`` that the manifest does not list.
        """
        check_output(self.out, CRAWL)
        self.out.mkdir(parents=True, exist_ok=True)
        self._acquire_lock()
        try:
            for name in (MANIFEST, "pages.jsonl", "skipped.jsonl", "failures.jsonl"):
                repair_tail(self.out / name)
            self._reconcile()
            skipped_path = self.out / "skipped.jsonl"
            skipped = read_jsonl(skipped_path) if skipped_path.exists() else []
            self.skipped_urls = {r["url"] for r in skipped if "url" in r}
            self.manifest = JsonlAppender(self.out / MANIFEST)
            self.pages = JsonlAppender(self.out / "pages.jsonl")
            self.skipped = JsonlAppender(skipped_path)
            self.failures = JsonlAppender(self.out / "failures.jsonl")
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        for name in ("manifest", "pages", "skipped", "failures"):
            if hasattr(self, name):
                getattr(self, name).close()
        if self._lock_file is not None:
            self._lock_file.close()  # releases the flock
            self._lock_file = None

    def __enter__(self) -> CrawlStore:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def page_records(self) -> list[dict[str, Any]]:
        path = self.out / "pages.jsonl"
        return read_jsonl(path) if path.exists() else []

    def add_image(
        self, body: bytes, info: ImageInfo, meta: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        """Save and record a checked image: ("saved", record) or ("duplicate", earlier record)."""
        sha = hashlib.sha256(body).hexdigest()
        with self._lock:
            if sha in self.by_sha:
                return "duplicate", {
                    "url": meta["url"],
                    "sha256": sha,
                    "duplicate_of": self.by_sha[sha],
                }
            rel = self._free_path(meta["game_id"], meta["url"], info.ext, sha)
            target = self.out / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(target.name + ".part")
            with open(tmp, "wb") as f:
                f.write(body)
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
                "downloaded_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            }
            self.manifest.append(record)
            self._remember(record)
            return "saved", record

    def skip(self, url: str, cause: str, **extra: Any) -> None:
        """Record an image URL that a rerun should not try again."""
        with self._lock:
            if url not in self.skipped_urls:
                self.skipped_urls.add(url)
                self.skipped.append({"url": url, "cause": cause, **extra})

    def _free_path(self, game_id: int, url: str, ext: str, sha: str) -> str:
        stem = (
            posixpath.splitext(posixpath.basename(urllib.parse.urlsplit(url).path))[0] or sha[:16]
        )
        stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in stem)
        rel = f"images/{game_id}/{stem}{ext}"
        return rel if rel not in self.paths else f"images/{game_id}/{stem}-{sha[:8]}{ext}"

    def _remember(self, record: dict[str, Any]) -> None:
        self.records.append(record)
        self.by_sha.setdefault(record["sha256"], record["path"])
        self.paths.add(record["path"])
        self.done_urls.add(record["url"])

    def _reconcile(self) -> None:
        """Make manifest and files agree after a kill: drop records without files and vice versa."""
        path = self.out / MANIFEST
        records = read_jsonl(path) if path.exists() else []
        kept, seen = [], set()
        for r in records:
            file = self.out / str(r.get("path", ""))
            if r.get("url") in seen or not file.is_file() or file.stat().st_size != r.get("bytes"):
                continue
            seen.add(r["url"])
            kept.append(r)
        if len(kept) != len(records):
            write_jsonl(path, kept)
        for r in kept:
            self._remember(r)
        parts = orphans = 0
        if self.images_dir.exists():
            for file in sorted(self.images_dir.rglob("*")):
                if not file.is_file():
                    continue
                rel = file.relative_to(self.out).as_posix()
                if file.name.endswith(".part"):
                    parts += 1
                elif rel not in self.paths:
                    orphans += 1
                else:
                    continue
                file.unlink()
        self.cleaned = {
            "dropped_records": len(records) - len(kept),
            "orphan_files": orphans,
            "partial_files": parts,
        }
        if any(self.cleaned.values()):
            log.info("crawl folder repaired after an interruption: %s", self.cleaned)

    def _acquire_lock(self) -> None:
        if fcntl is None:
            return
        self._lock_file = open(self.out / ".lock", "w")
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            self._lock_file.close()
            self._lock_file = None
            raise UserError(
                f"another crawl is writing to {self.out} (it holds {self.out / '.lock'}); "
                f"wait for it to finish or give this one another out= folder."
            ) from e
