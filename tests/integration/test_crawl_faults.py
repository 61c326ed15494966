"""Crawler faults against the local fake site: 5xx on every try, Retry-After above the cap and
as an HTTP date, a body sent a byte at a time, a failing ErogameScape query, and robots.txt.
Each ends bounded, recorded, and with nothing already crawled lost."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import pytest

from anime_gan.crawl.manifest import read_jsonl, read_manifest
from anime_gan.crawl.pipeline import run_crawl
from anime_gan.errors import UserError
from tests.fakes.site import FakeGame, FakeImage, FakeSite

pytestmark = pytest.mark.timeout(60)


def one_game(*modes: str, game_id: int = 1291) -> list[FakeGame]:
    images = [FakeImage(k + 1, f"c{k}", mode) for k, mode in enumerate(modes)]
    return [FakeGame(game_id, 1, "g", "2008-01-01", images)]


def image_hits(site: FakeSite) -> dict[str, int]:
    return {p.rsplit("/", 1)[1]: n for p, n in site.hits.items() if p.startswith("/brandnew/")}


def failures(out: Path) -> dict[str, str]:
    return {r["url"].rsplit("/", 1)[1]: r["cause"] for r in read_jsonl(out / "failures.jsonl")}


def test_5xx_on_every_try_is_bounded_and_retried_next_run(tmp_path):
    with FakeSite(one_game("ok", "error_always")) as site:
        summary = run_crawl(site.crawl_settings(tmp_path, max_attempts=3))
        assert image_hits(site) == {"c1291chara1.jpg": 1, "c1291chara2.jpg": 3}
        assert summary["images"]["failed"] == {"http_500": 1}
        again = run_crawl(site.crawl_settings(tmp_path, max_attempts=3))
        assert image_hits(site)["c1291chara2.jpg"] == 6  # the rerun tries it again
    assert again["images"]["already_done"] == 1 and len(read_manifest(tmp_path)) == 1
    assert failures(tmp_path) == {"c1291chara2.jpg": "http_500"}


def test_retry_after_above_the_cap_gives_the_request_up_for_this_run(tmp_path):
    with FakeSite(one_game("busy_once"), retry_after="3600") as site:
        start = time.monotonic()
        summary = run_crawl(site.crawl_settings(tmp_path, max_retry_after_s=5.0))
        assert time.monotonic() - start < 5  # neither the hour nor the cap was waited
        assert image_hits(site) == {"c1291chara1.jpg": 1}
    assert summary["images"]["failed"] == {"retry_after": 1}
    assert failures(tmp_path) == {"c1291chara1.jpg": "retry_after"}


def test_retry_after_as_an_http_date_is_honoured(tmp_path):
    when = datetime.now(timezone.utc) + timedelta(seconds=2)
    with FakeSite(
        one_game("unavailable_once"), retry_after=format_datetime(when, usegmt=True)
    ) as site:
        summary = run_crawl(site.crawl_settings(tmp_path))
        times = [r.time for r in site.requests if r.path.startswith("/brandnew/")]
    assert summary["images"]["downloaded"] == 1 and len(times) == 2
    assert times[1] - times[0] >= 0.5  # waited for the date (1-2 s: the date has whole seconds)


def test_a_body_sent_a_byte_at_a_time_hits_the_deadline(tmp_path):
    with FakeSite(one_game("ok", "slow_drip"), drip_s=0.05) as site:
        start = time.monotonic()
        summary = run_crawl(site.crawl_settings(tmp_path, timeout_s=0.5, deadline_s=0.6))
        elapsed = time.monotonic() - start
        assert image_hits(site)["c1291chara2.jpg"] == 1  # given up, not retried in this run
    assert elapsed < 5 and summary["images"]["failed"] == {"deadline": 1}
    assert summary["images"]["downloaded"] == 1 and failures(tmp_path) == {
        "c1291chara2.jpg": "deadline"
    }


def test_a_failing_erogamescape_query_is_one_sentence_and_keeps_the_crawl(tmp_path):
    with FakeSite(one_game("ok", "ok")) as site:
        settings = site.crawl_settings(tmp_path)
        run_crawl(settings)
        before = {
            p.relative_to(tmp_path).as_posix(): p.read_bytes()
            for p in tmp_path.rglob("*")
            if p.is_file() and p.name != "summary.json"
        }
        site.sql_status = 503
        settings.refresh_games = True
        with pytest.raises(UserError) as info:
            run_crawl(settings)
        posts = sum(r.method == "POST" for r in site.requests)
    message = str(info.value)
    assert message.startswith("could not get the game list from ErogameScape (http_503 at ")
    assert message.endswith("run the crawl again.") and "\n" not in message
    assert posts == 1 + settings.http.max_attempts  # the first crawl's query, then bounded tries
    after = {
        p.relative_to(tmp_path).as_posix(): p.read_bytes()
        for p in tmp_path.rglob("*")
        if p.is_file() and p.name != "summary.json"
    }
    assert after == before


def test_robots_txt_is_read_per_host_and_a_disallowed_path_is_never_fetched(tmp_path):
    games = one_game("ok", game_id=1291) + one_game("ok", "ok", game_id=1294)
    robots = "User-agent: *\nDisallow: /brandnew/1294/\n"
    with FakeSite(games, robots_txt=robots) as site:
        summary = run_crawl(site.crawl_settings(tmp_path))
        paths = [r.path for r in site.requests]
    assert paths.count("/robots.txt") == 1 and paths[0] == "/robots.txt"
    assert not [p for p in paths if p.startswith("/brandnew/1294/")]
    assert summary["images"]["downloaded"] == 1 and summary["images"]["failed"] == {"robots": 2}


def test_a_disallowed_query_form_is_never_posted(tmp_path):
    with FakeSite(one_game("ok"), robots_txt="User-agent: *\nDisallow: /~ap2/\n") as site:
        with pytest.raises(UserError, match="robots.txt disallows its query form"):
            run_crawl(site.crawl_settings(tmp_path))
        assert not [r for r in site.requests if r.method == "POST"]
