"""The crawl against a local fake ErogameScape + Getchu that misbehaves as the real sites can."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest

from anime_gan.crawl.manifest import read_jsonl, read_manifest
from anime_gan.crawl.pipeline import run_crawl
from anime_gan.errors import UserError
from tests.fakes.site import COOKIE, FakeGame, FakeImage, FakeSite

pytestmark = pytest.mark.timeout(60)
MANIFEST_KEYS = {
    "url",
    "path",
    "sha256",
    "bytes",
    "format",
    "width",
    "height",
    "game_id",
    "egs_id",
    "game_name",
    "release_date",
    "year",
    "page_url",
    "character",
    "downloaded_at",
}


def mixed_games() -> list[FakeGame]:
    """Real Getchu ids (../shared sample) with one fault of each kind."""
    img = FakeImage
    return [
        FakeGame(
            1291,
            101,
            "はじめての ① ゲーム",
            "2005-03-25",
            [img(1, "春日野 穹"), img(2, "①番目の子"), img(3, "三人目", "placeholder")],
        ),
        FakeGame(
            1294,
            102,
            "二本目 & more",
            "2006-07-14",
            [
                img(1, "同じ絵"),
                img(4, mode="error_once"),
                img(5, mode="busy_once"),
                img(6, mode="html"),
                img(7, mode="truncated"),
            ],
        ),
        FakeGame(
            483285,
            103,
            "三本目",
            "2010-01-01",
            [
                img(8, mode="stall_once"),
                img(9, mode="stall"),
                img(10, mode="oversize"),
                img(11, mode="oversize_unsized"),
                img(12, mode="missing"),
                img(13, mode="unavailable_once"),
            ],
        ),
        FakeGame(645725, 104, "消えた", "2012-01-01", [img(20)], mode="removed"),
        FakeGame(31449, 105, "404", "2013-01-01", [img(21)], mode="gone"),
        FakeGame(1300, 106, "新レイアウト", "2030-01-01", [img(22)], mode="layout"),
        FakeGame(1301, 107, "一度だけ500", "2014-02-02", [img(14, "ひとり")], mode="error_once"),
    ]


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """One crawl of the mixed site, shared by the assertions below (then one rerun test)."""
    out = tmp_path_factory.mktemp("crawl")
    with FakeSite(mixed_games(), stall_s=1.0, oversize_bytes=120_000) as site:
        settings = site.crawl_settings(out, timeout_s=0.3, per_host_delay_s=0.01)
        settings.images.max_bytes = 100_000
        start = time.monotonic()
        summary = run_crawl(settings)
        elapsed = time.monotonic() - start
        yield site, settings, summary, elapsed


def test_summary_counts_every_outcome(crawled) -> None:  # noqa: ANN001
    _, _, summary, elapsed = crawled
    assert summary["games"] == {"listed": 7, "selected": 7}
    assert summary["pages"] == {
        "fetched": 7,
        "ok": 4,
        "no_images": 1,
        "removed": 2,
        "age_gate": 0,
        "failed": 0,
    }
    images = summary["images"]
    assert (
        images["found"],
        images["downloaded"],
        images["placeholders"],
        images["duplicates"],
    ) == (15, 7, 1, 1)
    assert images["skipped"] == {"duplicate": 1, "not_found": 1, "placeholder": 1, "too_large": 2}
    assert images["failed"] == {"not_image": 1, "timeout": 1, "truncated": 1}
    assert summary["manifest"]["images"] == 7
    assert (
        elapsed < 15
    )  # bounded: 3 tries x 0.3 s timeout for the stalled image, 1 s Retry-After twice


def test_manifest_matches_files(crawled) -> None:  # noqa: ANN001
    site, settings, _, _ = crawled
    out = settings.out
    records = read_manifest(out)
    assert all(MANIFEST_KEYS <= set(r) for r in records)
    assert len({r["url"] for r in records}) == len({r["sha256"] for r in records}) == 7
    on_disk = {p.relative_to(out).as_posix() for p in (out / "images").rglob("*") if p.is_file()}
    assert on_disk == {r["path"] for r in records}
    for r in records:
        data = (out / r["path"]).read_bytes()
        assert (hashlib.sha256(data).hexdigest(), len(data)) == (r["sha256"], r["bytes"])
        assert r["path"].startswith(f"images/{r['game_id']}/")
    first = next(r for r in records if r["url"].endswith("/c1291chara2.jpg"))
    assert (first["character"], first["release_date"], first["year"], first["egs_id"]) == (
        "①番目の子",
        "2005-03-25",
        2005,
        101,
    )
    assert first["page_url"] == f"{site.base_url}/soft.phtml?id=1291"
    assert first["game_name"] == "はじめての ① ゲーム"


def test_polite_headers(crawled) -> None:  # noqa: ANN001
    site, settings, _, _ = crawled
    pages = [r for r in site.requests if r.path.startswith("/soft.phtml")]
    images = [r for r in site.requests if r.path.startswith("/brandnew/")]
    assert all(COOKIE in r.headers.get("Cookie", "") for r in pages)
    for r in images:
        game_id = r.path.split("/")[2]
        assert r.headers["Referer"] == f"{site.base_url}/soft.phtml?id={game_id}"
    assert {r.headers["User-Agent"] for r in site.requests} == {settings.http.user_agent}
    assert "anime-gan" in settings.http.user_agent


def test_retries_are_bounded_and_retry_after_is_honoured(crawled) -> None:  # noqa: ANN001
    site, _, _, _ = crawled
    hits = {
        path.rsplit("/", 1)[1]: n for path, n in site.hits.items() if path.startswith("/brandnew/")
    }
    assert hits["c1294chara2.jpg"] == 2  # 500, then the picture
    assert hits["c483285chara1.jpg"] == 2  # stalled past the timeout, then the picture
    assert hits["c483285chara2.jpg"] == 3  # stalls every time: max_attempts tries, then "timeout"
    assert hits["c1294chara5.jpg"] == 3  # truncated every time
    assert hits["c1294chara4.jpg"] == hits["c483285chara5.jpg"] == 1  # 404 and HTML: no retry
    assert site.hits["/soft.phtml?id=1301"] == 2  # the page's 500, then the page
    for name in ("c1294chara3.jpg", "c483285chara6.jpg"):  # 429 / 503 with Retry-After: 1
        times = [r.time for r in site.requests if r.path.endswith(name)]
        assert len(times) == 2 and times[1] - times[0] >= 0.95


def test_rerun_fetches_only_what_failed(crawled) -> None:  # noqa: ANN001
    site, settings, _, _ = crawled
    before = dict(site.hits)
    summary = run_crawl(settings)
    again = {p: n - before.get(p, 0) for p, n in site.hits.items() if n != before.get(p, 0)}
    retried = {
        "/brandnew/1294/c1294chara4.jpg": 1,
        "/brandnew/1294/c1294chara5.jpg": 3,
        "/brandnew/483285/c483285chara2.jpg": 3,
        "/robots.txt": 1,  # read once per run and host
    }  # html, truncated, stalled: tried again
    assert again == retried  # no page, no done image, no placeholder/duplicate/404/oversize again
    assert summary["pages"]["fetched"] == 0
    assert (summary["images"]["already_done"], summary["images"]["already_skipped"]) == (7, 5)
    assert summary["images"]["downloaded"] == 0 and summary["manifest"]["images"] == 7
    assert sum(r.method == "POST" for r in site.requests) == 1  # games.jsonl reused, no new query
    assert len(read_jsonl(settings.out / "failures.jsonl")) == 6  # 3 per run


def test_age_gate_without_cookie_falls_back_to_gc(tmp_path: Path) -> None:
    games = [FakeGame(1291, 1, "x", "2005-01-01", [FakeImage(1)])]
    with FakeSite(games, accept_cookie=False) as site:
        summary = run_crawl(site.crawl_settings(tmp_path))
        pages = [r.path for r in site.requests if r.path.startswith("/soft")]
    assert pages == ["/soft.phtml?id=1291", "/soft.phtml?id=1291&gc=gc"]
    assert summary["pages"]["ok"] == 1 and summary["images"]["downloaded"] == 1


def test_age_gate_that_stays_is_reported_and_retried(tmp_path: Path) -> None:
    games = [
        FakeGame(1291, 1, "x", "2005-01-01", [FakeImage(1)]),
        FakeGame(1294, 2, "y", "2006-01-01", [FakeImage(2)]),
    ]
    with FakeSite(games, accept_cookie=False, accept_gc=False) as site:
        first = run_crawl(site.crawl_settings(tmp_path))
        site.accept_cookie = True  # e.g. the user fixed getchu.cookie
        second = run_crawl(site.crawl_settings(tmp_path))
    assert first["pages"]["age_gate"] == 2 and first["images"]["found"] == 0
    assert second["pages"] == {
        "fetched": 2,
        "ok": 2,
        "no_images": 0,
        "removed": 0,
        "age_gate": 0,
        "failed": 0,
    }
    assert second["images"]["downloaded"] == 2


def test_limits_for_a_trial_run(tmp_path: Path) -> None:
    games = [FakeGame(100 + y, y, f"g{y}", f"{y}-04-01", [FakeImage(y)]) for y in range(2001, 2011)]
    with FakeSite(games) as site:
        settings = site.crawl_settings(tmp_path)
        settings.year_min, settings.year_max, settings.max_games = 2004, 2008, 3
        summary = run_crawl(settings)
        pages = sorted(r.path for r in site.requests if r.path.startswith("/soft"))
    assert pages == [f"/soft.phtml?id={100 + y}" for y in (2004, 2005, 2006)]
    assert summary["games"] == {"listed": 10, "selected": 3}
    assert sorted(r["year"] for r in read_manifest(tmp_path)) == [2004, 2005, 2006]
    assert len(read_jsonl(tmp_path / "games.jsonl")) == 10  # the whole list is kept for later runs


def test_game_list_is_asked_again_only_for_a_new_query(tmp_path: Path) -> None:
    with FakeSite([FakeGame(1291, 1, "x", "2005-01-01", [FakeImage(1)])]) as site:
        settings = site.crawl_settings(tmp_path)
        run_crawl(settings)
        run_crawl(settings)
        settings.erogamescape.sql += " LIMIT 10"
        run_crawl(settings)
        settings.refresh_games = True
        run_crawl(settings)
        posts = sum(r.method == "POST" for r in site.requests)
        images = sum(r.path.startswith("/brandnew/") for r in site.requests)
    assert (posts, images) == (3, 1)


def test_sql_error_stops_with_one_sentence(tmp_path: Path) -> None:
    with FakeSite([], sql_error=True) as site:
        with pytest.raises(
            UserError, match=r"ErogameScape rejected the SQL query .* erogamescape\.sql"
        ):
            run_crawl(site.crawl_settings(tmp_path))
    assert not (tmp_path / "games.jsonl").exists()


def test_per_host_delay_spaces_all_workers(tmp_path: Path) -> None:
    games = [FakeGame(1291, 1, "x", "2005-01-01", [FakeImage(n) for n in range(1, 6)])]
    with FakeSite(games) as site:
        run_crawl(site.crawl_settings(tmp_path, per_host_delay_s=0.1, concurrency=4))
        times = sorted(r.time for r in site.requests)
    assert len(times) == 8  # robots.txt, the query, the page, 5 pictures
    # One throttle for all 4 workers books 6 gaps of 0.1 s: the last request cannot reach the
    # server before 0.6 s after the first one's slot. Per-worker throttles would send the
    # pictures side by side (~0.3 s in all). The span, unlike the smallest gap, does not depend
    # on how promptly a loaded machine runs the server's threads.
    assert times[-1] - times[0] >= 0.45
