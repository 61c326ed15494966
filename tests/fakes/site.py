"""A local stand-in for ErogameScape and Getchu, on 127.0.0.1, for tests and offline trials.

It serves the pages of :mod:`tests.fakes.pages` and misbehaves on request: per page and
per image a ``mode`` picks a fault (404, 500 once, 429/503 with Retry-After, a stall past the
client's timeout, a body cut short or sent a byte at a time, HTML served as an image, a 1x1
placeholder, an oversize body, 500 on every try); the query form can fail with ``sql_status``
and ``robots_txt`` is served at /robots.txt (404 when None). Every request is logged with its
time and headers so tests can check politeness::

    with FakeSite([FakeGame(1291, 1, "name", "2005-03-25", [FakeImage(1, "character")])]) as site:
        run_crawl(site.crawl_settings("data/crawl-demo"))
"""

from __future__ import annotations

import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.fakes.pages import (
    FakeGame,
    FakeImage,
    make_jpeg,
    placeholder_gif,
    render_age_check,
    render_changed_layout,
    render_removed,
    render_soft_page,
    render_sql_error,
    render_sql_result,
)

if TYPE_CHECKING:
    from anime_gan.crawl.pipeline import CrawlSettings

__all__ = ["COOKIE", "SQL_PATH", "FakeGame", "FakeImage", "FakeSite", "LoggedRequest"]
SQL_PATH = "/~ap2/ero/toukei_kaiseki/sql_for_erogamer_form.php"
COOKIE = "getchu_adalt_flag=getchu.com"


@dataclass
class LoggedRequest:
    time: float
    method: str
    path: str
    headers: dict[str, str]


class FakeSite:
    """The server: ``with FakeSite(games) as site:`` serves on ``site.base_url`` in the block."""

    def __init__(
        self,
        games: list[FakeGame],
        *,
        accept_cookie: bool = True,
        accept_gc: bool = True,
        sql_error: bool = False,
        stall_s: float = 2.0,
        retry_after: str = "1",
        oversize_bytes: int = 300_000,
        image_delay_s: float = 0.0,
        sql_status: int | None = None,
        robots_txt: str | None = None,
        drip_s: float = 0.05,
    ) -> None:
        self.games = {g.getchu_id: g for g in games}
        self.accept_cookie, self.accept_gc, self.sql_error = accept_cookie, accept_gc, sql_error
        self.stall_s, self.retry_after, self.oversize_bytes = stall_s, retry_after, oversize_bytes
        self.image_delay_s, self.sql_status, self.robots_txt = image_delay_s, sql_status, robots_txt
        self.drip_s = drip_s
        # Serve at most image_limit pictures, then hold further picture requests until the limit
        # is raised or cleared: lets a test stop a crawl at a known point, whatever the timing.
        self.image_limit: int | None = None
        self.images_served = 0
        self.images_held = 0  # requests waiting at the gate now (a killed client's included)
        self.requests: list[LoggedRequest] = []
        self.hits: Counter[str] = Counter()
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.site = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def sql_url(self) -> str:
        return self.base_url + SQL_PATH

    def __enter__(self) -> FakeSite:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def crawl_settings(self, out: str | Path, **http: Any) -> CrawlSettings:
        """Crawl settings aimed at this site, with delays and timeouts small enough for tests."""
        from anime_gan.crawl.client import HttpSettings
        from anime_gan.crawl.erogamescape import QuerySettings
        from anime_gan.crawl.getchu import GetchuSettings
        from anime_gan.crawl.pipeline import CrawlSettings

        fast = {
            "per_host_delay_s": 0.005,
            "timeout_s": 0.5,
            "max_attempts": 3,
            "backoff_base_s": 0.01,
            "backoff_max_s": 0.05,
            "max_retry_after_s": 5.0,
            "concurrency": 3,
            **http,
        }
        return CrawlSettings(
            out=Path(out),
            progress=False,
            erogamescape=QuerySettings(url=self.sql_url),
            getchu=GetchuSettings(base_url=self.base_url),
            http=HttpSettings(**fast),
        )

    def log(self, method: str, path: str, headers: dict[str, str]) -> int:
        """Record a request; return how many times this path was asked for, this one included."""
        with self._lock:
            self.requests.append(LoggedRequest(time.monotonic(), method, path, headers))
            self.hits[path] += 1
            return self.hits[path]

    def image(self, getchu_id: int, file: str) -> FakeImage | None:
        game = self.games.get(getchu_id)
        return dict(zip(game.files(), game.images, strict=True)).get(file) if game else None


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeGetchu/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    @property
    def site(self) -> FakeSite:
        return self.server.site  # type: ignore[attr-defined]

    def do_POST(self) -> None:
        self.site.log("POST", self.path, dict(self.headers))
        length = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(length).decode("utf-8"))
        if self.path != SQL_PATH:
            return self._send(404, b"not found", "text/plain")
        if self.site.sql_status is not None:
            return self._send(self.site.sql_status, b"<html>down</html>", "text/html")
        sql = form.get("sql", [""])[0]
        bad = self.site.sql_error or "FROM" not in sql.upper()
        self._send(
            200,
            render_sql_error() if bad else render_sql_result(list(self.site.games.values())),
            "text/html; charset=UTF-8",
        )

    def do_GET(self) -> None:
        n = self.site.log("GET", self.path, dict(self.headers))
        url = urllib.parse.urlsplit(self.path)
        try:
            if url.path == "/soft.phtml":
                return self._page(url, n)
            if url.path == "/robots.txt" and self.site.robots_txt is not None:
                return self._send(200, self.site.robots_txt.encode(), "text/plain")
            parts = url.path.strip("/").split("/")
            if len(parts) == 3 and parts[0] == "brandnew" and parts[1].isdigit():
                return self._image(self.site.image(int(parts[1]), parts[2]), n)
            self._send(404, b"not found", "text/plain")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout): nothing to answer

    def _page(self, url: urllib.parse.SplitResult, n: int) -> None:
        query = urllib.parse.parse_qs(url.query)
        game = self.site.games.get(int(query.get("id", ["0"])[0] or 0))
        if game is None or game.mode == "gone":
            return self._send(404, render_removed(), "text/html; charset=EUC-JP")
        if game.mode == "error_once" and n == 1:
            return self._send(500, b"<html>Internal Server Error</html>", "text/html")
        has_cookie = COOKIE in (self.headers.get("Cookie") or "") and self.site.accept_cookie
        has_gc = query.get("gc") == ["gc"] and self.site.accept_gc
        if game.mode == "age_gate" or not (has_cookie or has_gc):
            return self._send(200, render_age_check(self.path), "text/html; charset=EUC-JP")
        if game.mode == "removed":
            body = render_removed()
        elif game.mode == "layout":
            body = render_changed_layout(game)
        else:
            body = render_soft_page(game)
        self._send(200, body, "text/html; charset=EUC-JP")

    def _image(self, image: FakeImage | None, n: int) -> None:
        site = self.site
        held = False
        while True:  # the image_limit gate (bounded: ends when the site stops)
            with site._lock:
                if site.image_limit is None or site.images_served < site.image_limit:
                    site.images_served += 1
                    site.images_held -= held
                    break
                if not held:
                    site.images_held, held = site.images_held + 1, True
            if site.stopping.wait(0.02):
                return
        if site.image_delay_s:
            site.stopping.wait(site.image_delay_s)
        mode = image.mode if image else "missing"
        if mode == "stall" or (mode == "stall_once" and n == 1):
            site.stopping.wait(site.stall_s)
        if mode == "missing":
            return self._send(404, b"<html>404 Not Found</html>", "text/html")
        if mode == "error_always" or (mode == "error_once" and n == 1):
            return self._send(500, b"<html>error</html>", "text/html")
        if mode in ("busy_once", "unavailable_once") and n == 1:
            status = 429 if mode == "busy_once" else 503
            return self._send(status, b"slow down", "text/plain", {"Retry-After": site.retry_after})
        assert image is not None
        jpeg = make_jpeg(image.seed)
        if mode == "placeholder":
            return self._send(200, placeholder_gif(), "image/gif")
        if mode == "html":
            return self._send(200, b"<html><body>Access denied</body></html>", "image/jpeg")
        if mode == "truncated":
            return self._send(
                200, jpeg[: len(jpeg) // 2], "image/jpeg", {"Content-Length": str(len(jpeg))}
            )
        if mode == "slow_drip":
            return self._drip(jpeg)
        if mode in ("oversize", "oversize_unsized"):
            big = jpeg + b"\0" * (site.oversize_bytes - len(jpeg))
            length = None if mode == "oversize_unsized" else str(len(big))
            return self._send(200, big, "image/jpeg", {"Content-Length": length})
        self._send(200, jpeg, "image/jpeg")

    def _drip(self, body: bytes) -> None:
        """The whole Content-Length, then the body one byte per ``drip_s`` (bounded by its
        length; ends early when the client hangs up or the site stops)."""
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        for k in range(len(body)):
            if self.site.stopping.wait(self.site.drip_s):
                return
            self.wfile.write(body[k : k + 1])
            self.wfile.flush()

    def _send(
        self, status: int, body: bytes, ctype: str, headers: dict[str, str | None] | None = None
    ) -> None:
        headers = {"Content-Length": str(len(body)), **(headers or {})}
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        for key, value in headers.items():
            if value is not None:
                self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
