"""`anime-gan crawl` as a user runs it: killed (SIGKILL, Ctrl-C) mid-crawl, then run again."""

from __future__ import annotations

import hashlib
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from anime_gan.crawl.manifest import read_jsonl, read_manifest
from tests.fakes.site import FakeGame, FakeImage, FakeSite

pytestmark = pytest.mark.timeout(240)
REPO = Path(__file__).resolve().parents[2]


def _command(site: FakeSite, out: Path, run_dir: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "anime_gan.cli.main",
        "crawl",
        f"out={out}",
        f"erogamescape.url='{site.sql_url}'",
        f"getchu.base_url='{site.base_url}'",
        "progress=false",
        "http.per_host_delay_s=0.005",
        "http.timeout_s=2",
        "http.concurrency=3",
        "http.backoff_base_s=0.01",
        f"hydra.run.dir={run_dir}",
        *extra,
    ]


def _records(out: Path) -> int:
    path = out / "manifest.jsonl"
    return path.read_bytes().count(b"\n") if path.exists() else 0


def _default_sigint() -> None:
    """In the child: SIGINT as a terminal delivers it, even if this test runs with it ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start_and_stop(
    cmd: list[str], out: Path, at: int, sig: int, site: FakeSite
) -> subprocess.CompletedProcess:
    """Start the crawl, send ``sig`` once ``at`` images are recorded; bounded by a deadline.
    Then open the site's picture gate, so requests held there end and the crawl can stop."""
    proc = subprocess.Popen(
        cmd,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_sigint,
    )
    deadline = time.monotonic() + 90  # a loaded CI machine starts Python slowly
    while time.monotonic() < deadline and proc.poll() is None and _records(out) < at:
        time.sleep(0.01)
    proc.send_signal(sig)
    time.sleep(0.2)
    site.image_limit = None
    stdout, stderr = proc.communicate(timeout=90)
    return subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)


def test_killed_crawl_resumes_without_loss_or_duplicates(tmp_path: Path) -> None:
    games = [
        FakeGame(
            2000 + g,
            g,
            f"game {g}",
            f"{2010 + g}-01-01",
            [FakeImage(10 * g + n, f"キャラ{n}") for n in range(1, 7)],
        )
        for g in range(6)
    ]
    expected = {
        f"/brandnew/{2000 + g}/c{2000 + g}chara{n}.jpg" for g in range(6) for n in range(1, 7)
    }
    out = tmp_path / "crawl"
    with FakeSite(games, image_delay_s=0.02) as site:
        # the site holds pictures past a limit, so each stop lands mid-crawl at a known point
        site.image_limit = 6
        killed = _start_and_stop(
            _command(site, out, tmp_path / "run1"), out, 6, signal.SIGKILL, site
        )
        assert killed.returncode == -signal.SIGKILL
        after_kill = _records(out)
        # the limit counts from here: the killed run's held requests were released by then
        site.image_limit = site.images_served + site.images_held + 8
        interrupted = _start_and_stop(
            _command(site, out, tmp_path / "run2"), out, after_kill + 8, signal.SIGINT, site
        )
        site.image_limit = None
        assert interrupted.returncode == 130, interrupted.stderr
        assert "run the same command to resume" in interrupted.stderr
        after_interrupt = _records(out)
        final = subprocess.run(
            _command(site, out, tmp_path / "run3"),
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
        )
        posts = sum(r.method == "POST" for r in site.requests)
    assert final.returncode == 0, final.stderr
    assert 6 <= after_kill < after_interrupt < 36  # both stops landed mid-crawl
    assert "crawl summary" in final.stdout and "manifest 36 images" in final.stdout
    assert posts == 1  # the game list was fetched once, then reused

    records = read_manifest(out)
    urls = [r["url"].removeprefix(site.base_url) for r in records]
    assert sorted(urls) == sorted(expected)  # nothing lost, nothing twice
    assert len({r["sha256"] for r in records}) == 36
    files = {p.relative_to(out).as_posix() for p in (out / "images").rglob("*") if p.is_file()}
    assert files == {r["path"] for r in records}  # no orphan, no .part, no missing file
    for r in records:
        assert hashlib.sha256((out / r["path"]).read_bytes()).hexdigest() == r["sha256"]
    assert Counter(p["status"] for p in read_jsonl(out / "pages.jsonl"))["ok"] >= 6


def test_cli_reports_a_bad_query_in_one_line(tmp_path: Path) -> None:
    with FakeSite([], sql_error=True) as site:
        result = subprocess.run(
            _command(site, tmp_path / "crawl", tmp_path / "run"),
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert (
        lines[-1].startswith("error: ErogameScape rejected the SQL query")
        and "Traceback" not in result.stderr
    )
