"""The crawl stage: game list -> Getchu pages -> character images, resumable at any point.

Each step appends to files in the crawl folder (see :mod:`anime_gan.crawl.store`), so a rerun
of the same command skips what is done and tries again what failed: pages whose status is not
final (failed, age_gate) and images that are neither in the manifest nor finally skipped.
"""

from __future__ import annotations

import functools
import logging
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from anime_gan.crawl.client import FetchError, HttpSettings, PoliteClient
from anime_gan.crawl.download import FINAL_IMAGE_CAUSES, ImageSettings, fetch_image
from anime_gan.crawl.erogamescape import (
    Game,
    QuerySettings,
    fetch_games,
    getchu_page_url,
    load_games,
    save_games,
)
from anime_gan.crawl.getchu import FINAL_PAGE_STATUSES, GetchuSettings, fetch_page
from anime_gan.crawl.manifest import read_jsonl
from anime_gan.crawl.store import CrawlStore, utc_now
from anime_gan.errors import UserError
from anime_gan.outputs import write_json_atomic

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
        games = load_games(path)
        log.info("game list: %d games from %s (refresh_games=true asks again)", len(games), path)
    else:
        games = fetch_games(client, settings.erogamescape, settings.getchu.base_url)
        if not games:
            raise UserError(
                "the ErogameScape query returned no games with a Getchu link; check "
                "erogamescape.sql in conf/crawl.yaml."
            )
        save_games(games, path)
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
        record = {**asdict(fetch_page(client, game, settings.getchu)), "fetched_at": utc_now()}
        if record["cause"] != "cancelled":
            store.append("pages.jsonl", record)
        if record["status"] in _PAGE_NOTES:
            log.warning("%s: %s", record["page_url"], _PAGE_NOTES[record["status"]])
        return record

    for record in run_pool(
        fetch, todo, client, settings.http.concurrency, "pages", settings.progress
    ):
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
    fn = functools.partial(download_one, client, settings.images, store)
    workers = settings.http.concurrency
    outcomes = Counter(run_pool(fn, todo, client, workers, "images", settings.progress))
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


def download_one(
    client: PoliteClient, settings: ImageSettings, store: CrawlStore, meta: dict[str, Any]
) -> tuple[str, str]:
    """Fetch, check and store one image; ("saved" | "skipped" | "failed", cause)."""
    url, game_id = meta["url"], meta["game_id"]
    try:
        body, info = fetch_image(client, url, meta["page_url"], settings)
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


def run_pool(
    fn: Callable[[Any], Any],
    items: list[Any],
    client: PoliteClient,
    workers: int,
    desc: str,
    progress: bool,
) -> list[Any]:
    """``fn`` over ``items`` on ``workers`` threads, results in the order they finish, with a
    progress bar.

    On Ctrl-C (or any error) the client is cancelled, so the running tasks end after at most
    the request in flight, and the rest end at once as "cancelled"; what finished is already
    recorded.
    """
    results: list[Any] = []
    if not items:
        return results
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"crawl-{desc}") as executor:
        bar = tqdm(total=len(items), desc=desc, unit=desc[:-1], disable=not progress)
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
