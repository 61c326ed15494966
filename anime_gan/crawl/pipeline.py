"""The crawl stage: game list -> Getchu pages -> character images, resumable at any point.

Each step appends to files in the crawl folder, so a rerun of the same command skips what is
done and tries again what failed: pages whose status is not final (failed, age_gate) and images
that are neither in the manifest nor finally skipped. Layout (``out``, default data/crawl)::

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

import fcntl
import hashlib
import logging
import os
import posixpath
import threading
import urllib.parse
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from anime_gan.crawl.client import FetchError, HttpSettings, PoliteClient
from anime_gan.crawl.download import FINAL_IMAGE_CAUSES, ImageInfo, ImageSettings, fetch_image
from anime_gan.crawl.erogamescape import Game, QuerySettings, fetch_games, getchu_page_url
from anime_gan.crawl.getchu import FINAL_PAGE_STATUSES, GetchuSettings, fetch_page
from anime_gan.crawl.manifest import MANIFEST, read_jsonl, write_jsonl
from anime_gan.errors import UserError
from anime_gan.jsonl import append_jsonl, repair_tail
from anime_gan.outputs import CRAWL, check_output, write_json_atomic

log = logging.getLogger("anime_gan.crawl")


@dataclass
class CrawlSettings:
    """Everything the crawl stage reads from conf/crawl.yaml."""

    out: str | Path = Path("data/crawl")
    max_games: int | None = None  # a trial run: only the first N games (after the year filter)
    year_min: int | None = None  # inclusive; games without a known year are left out when set
    year_max: int | None = None
    refresh_games: bool = False  # query ErogameScape again even if games.jsonl exists
    progress: bool = True
    erogamescape: QuerySettings = field(default_factory=QuerySettings)
    getchu: GetchuSettings = field(default_factory=GetchuSettings)
    http: HttpSettings = field(default_factory=HttpSettings)
    images: ImageSettings = field(default_factory=ImageSettings)


def run_crawl(settings: CrawlSettings, client: PoliteClient | None = None) -> dict[str, Any]:
    """Run (or resume) a crawl into ``settings.out``; return the summary (also summary.json)."""
    client = client or PoliteClient(settings.http)
    out = Path(settings.out)
    with CrawlStore(out) as store:
        games = game_list(client, settings, out)
        selected = select_games(games, settings.max_games, settings.year_min, settings.year_max)
        summary: dict[str, Any] = {"games": {"listed": len(games), "selected": len(selected)}}
        pages = crawl_pages(client, settings, store, selected, summary)
        crawl_images(client, settings, store, selected, pages, summary)
        summary["manifest"] = {"images": len(store.records), "repaired": store.cleaned}
    summary["finished_at"] = utc_now()
    write_json_atomic(out / "summary.json", summary)
    print(format_summary(summary, out))
    return summary


def game_list(client: PoliteClient, settings: CrawlSettings, out: Path) -> list[Game]:
    """The games a previous run saved for the same query, else a fresh list from ErogameScape."""
    path, sql_path = out / "games.jsonl", out / "games.sql"
    sql = settings.erogamescape.sql.strip()
    same_query = sql_path.exists() and sql_path.read_text(encoding="utf-8").strip() == sql
    if path.exists() and same_query and not settings.refresh_games:
        try:
            games = [Game(**record) for record in read_jsonl(path)]
        except TypeError as e:
            raise UserError(
                f"{path} holds a record that is not a game ({e}); delete the file "
                f"(or set refresh_games=true) to query ErogameScape again."
            ) from e
        log.info("game list: %d games from %s (refresh_games=true asks again)", len(games), path)
    else:
        games = fetch_games(client, settings.erogamescape, settings.getchu.base_url)
        if not games:
            raise UserError(
                "the ErogameScape query returned no games with a Getchu link; check "
                "erogamescape.sql in conf/crawl.yaml."
            )
        write_jsonl(path, [asdict(game) for game in games])
        sql_path.write_text(sql + "\n", encoding="utf-8")
        log.info("game list: %d games saved to %s", len(games), path)
    for game in games:  # follow getchu.base_url even when the list was saved under another one
        game.page_url = getchu_page_url(settings.getchu.base_url, game.game_id)
    return games


def select_games(
    games: list[Game], max_games: int | None, year_min: int | None, year_max: int | None
) -> list[Game]:
    """Games within the year range (inclusive), then the first ``max_games`` of them."""
    if year_min is not None or year_max is not None:
        games = [
            g
            for g in games
            if g.year is not None
            and (year_min is None or g.year >= year_min)
            and (year_max is None or g.year <= year_max)
        ]
    return games[:max_games]


def crawl_pages(
    client: PoliteClient,
    settings: CrawlSettings,
    store: CrawlStore,
    games: list[Game],
    summary: dict[str, Any],
) -> dict[int, dict[str, Any]]:
    """Fetch the pages not final yet; return the latest page record of every selected game."""
    latest = {r["game_id"]: r for r in read_jsonl(store.out / "pages.jsonl")}  # later lines win
    todo = [g for g in games if latest.get(g.game_id, {}).get("status") not in FINAL_PAGE_STATUSES]

    def fetch(game: Game) -> dict[str, Any]:
        record = {**fetch_page(client, game, settings.getchu), "fetched_at": utc_now()}
        if record["cause"] != "cancelled":
            store.append("pages.jsonl", record)
        if record["status"] in _PAGE_NOTES:
            log.warning("%s: %s", record["page_url"], _PAGE_NOTES[record["status"]])
        return record

    for record in run_pool(fetch, todo, client, settings, "pages"):
        if record["cause"] != "cancelled":
            latest[record["game_id"]] = record
    selected = {g.game_id: latest[g.game_id] for g in games if g.game_id in latest}
    statuses = Counter(r["status"] for r in selected.values())
    summary["pages"] = {"fetched": len(todo), **{s: statuses[s] for s in _PAGE_ORDER}}
    summary["page_failures"] = dict(
        Counter(r["cause"] for r in selected.values() if r["status"] == "failed")
    )
    return selected


def crawl_images(
    client: PoliteClient,
    settings: CrawlSettings,
    store: CrawlStore,
    games: list[Game],
    pages: dict[int, dict[str, Any]],
    summary: dict[str, Any],
) -> None:
    """Download every character image of the ok pages that is neither done nor finally skipped."""
    found: dict[str, dict[str, Any]] = {}  # url -> what the manifest will say about the image
    for game in games:
        page = pages.get(game.game_id, {})
        for image in page["images"] if page.get("status") == "ok" else []:
            found.setdefault(image["url"], {
                "url": image["url"], "game_id": game.game_id, "egs_id": game.egs_id,
                "game_name": game.name, "release_date": game.release_date, "year": game.year,
                "page_url": game.page_url, "character": image["character"],
            })  # fmt: skip
    done = sum(u in store.records for u in found)
    skipped_before = sum(u in store.skipped_urls and u not in store.records for u in found)
    todo = [m for u, m in found.items() if u not in store.records and u not in store.skipped_urls]

    def download(meta: dict[str, Any]) -> tuple[str, str]:
        """Fetch, check and store one image; ("saved" | "skipped" | "failed", cause)."""
        url, game_id = meta["url"], meta["game_id"]
        try:
            body, info = fetch_image(client, url, meta["page_url"], settings.images)
        except FetchError as e:
            if e.cause in FINAL_IMAGE_CAUSES:
                store.skip(url, e.cause, detail=e.detail, game_id=game_id)
                return "skipped", e.cause
            if e.cause != "cancelled":
                failure = {"url": url, "cause": e.cause, "detail": e.detail, "game_id": game_id,
                           "page_url": meta["page_url"]}  # fmt: skip
                store.append("failures.jsonl", failure)
            return "failed", e.cause
        if store.add_image(body, info, meta)[0] == "duplicate":
            return "skipped", "duplicate"
        return "saved", ""

    outcomes = Counter(run_pool(download, todo, client, settings, "images"))
    summary["images"] = {
        "found": len(found),
        "already_done": done,
        "already_skipped": skipped_before,
        "downloaded": outcomes[("saved", "")],
        "placeholders": outcomes[("skipped", "placeholder")],
        "duplicates": outcomes[("skipped", "duplicate")],
        "skipped": {c: n for (o, c), n in sorted(outcomes.items()) if o == "skipped"},
        "failed": {c: n for (o, c), n in sorted(outcomes.items()) if o == "failed"},
    }


def run_pool(
    fn: Callable[[Any], Any],
    items: list[Any],
    client: PoliteClient,
    settings: CrawlSettings,
    desc: str,
) -> list[Any]:
    """``fn`` over ``items`` on ``http.concurrency`` threads, results in the order they finish,
    with a progress bar (unless ``progress`` is off).

    On Ctrl-C (or any error) the client is cancelled, so the running tasks end after at most
    the request in flight, and the rest end at once as "cancelled"; what finished is already
    recorded.
    """
    results: list[Any] = []
    if not items:
        return results
    workers = settings.http.concurrency
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"crawl-{desc}") as executor:
        bar = tqdm(total=len(items), desc=desc, unit=desc[:-1], disable=not settings.progress)
        try:
            with bar, logging_redirect_tqdm():  # log lines print above the bar, not through it
                for future in as_completed([executor.submit(fn, item) for item in items]):
                    results.append(future.result())
                    bar.update()
        except BaseException:
            client.cancel()  # before the executor waits for the tasks still queued or running
            raise
    return results


_PAGE_ORDER = ("ok", "no_images", "removed", "age_gate", "failed")
_PAGE_NOTES = {
    "no_images": "no character images found (no characters listed, or the page layout changed)",
    "age_gate": "Getchu showed its age check despite the cookie and gc=gc; a rerun tries again",
    "removed": "the page is gone",
}


def format_summary(summary: dict[str, Any], out: Path) -> str:
    """The end-of-run report: pages by status, images, placeholders, failures by cause."""
    g, p, i = summary["games"], summary["pages"], summary["images"]

    def counts(d: dict[str, int]) -> str:
        return ", ".join(f"{c} {n}" for c, n in d.items()) or "none"

    kept = i["already_done"] + i["downloaded"]
    skipped = i["already_skipped"] + sum(i["skipped"].values())
    return "\n".join([
        f"crawl summary ({out})",
        f"  games    listed {g['listed']}, selected {g['selected']}",
        f"  pages    {', '.join(f'{s} {p[s]}' for s in _PAGE_ORDER)} (fetched now: {p['fetched']})",
        f"           page failures: {counts(summary['page_failures'])}",
        f"  images   {i['found']} on the pages: {kept} saved, {skipped} skipped for good, "
        f"{sum(i['failed'].values())} to retry",
        f"  this run downloaded {i['downloaded']}, placeholders {i['placeholders']}, "
        f"duplicates {i['duplicates']}; skipped: {counts(i['skipped'])}",
        f"           failed (the next run retries them): {counts(i['failed'])}",
        f"  manifest {summary['manifest']['images']} images in {out / 'manifest.jsonl'}",
    ])  # fmt: skip


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
            # held until close(), so two crawls never share the folder
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
                self._files[name] = open(self.out / name, "a", encoding="utf-8")
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        """Close the files (every record is on disk already), and release the folder lock last."""
        with self._lock:
            for f in reversed(self._files.values()):
                f.close()
            self._files.clear()

    def __enter__(self) -> CrawlStore:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def append(self, name: str, record: dict[str, Any]) -> None:
        """Append ``record`` to the append-only file ``name`` and push it to disk, from any thread."""
        with self._lock:
            append_jsonl(self._files[name], [record], ensure_ascii=False)

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
