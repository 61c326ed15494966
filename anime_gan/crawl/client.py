"""A polite HTTP client: per-host delay, bounded retries with backoff, Retry-After, a size cap.

Standard library only (urllib). One client is shared by all worker threads of a crawl, so the
per-host delay holds for the crawl as a whole, not per thread. Every loop here is bounded: at
most ``max_attempts`` tries per request, each limited by ``timeout_s`` per read and by
``deadline_s`` in all (a body sent a byte at a time), and every wait capped. Each host's
robots.txt is read first and obeyed (:mod:`anime_gan.crawl.robots`).
"""

from __future__ import annotations

import email.utils
import http.client
import random
import re
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message

from anime_gan.crawl.robots import RobotsRules

DEFAULT_USER_AGENT = (
    "anime-gan/0.1 (MakeGirlsMoe reproduction, research crawler; one request per second per host)"
)
#: Statuses worth another try: the server is busy or broken for a moment.
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


@dataclass
class HttpSettings:
    """Politeness and robustness knobs (``http.*`` in conf/crawl.yaml)."""

    user_agent: str = DEFAULT_USER_AGENT
    concurrency: int = 2  # worker threads; the per-host delay still spaces their requests
    per_host_delay_s: float = 1.0  # minimum gap between two requests to one host
    timeout_s: float = 30.0  # connect and per-read timeout of one try
    deadline_s: float = 120.0  # wall-clock limit of one try, however the body trickles in
    max_attempts: int = 4  # tries per request, the first one included
    backoff_base_s: float = 2.0  # wait before try k+1: base * 2**(k-1), jittered, capped
    backoff_max_s: float = 60.0
    jitter: float = 0.5  # the wait is scaled by a uniform factor in [1 - jitter, 1]
    max_retry_after_s: float = 300.0  # a longer Retry-After: give the request up for this run
    obey_robots: bool = True  # read each host's robots.txt and never fetch what it disallows


@dataclass
class Response:
    """A complete response: final URL (after redirects), status, headers and the whole body."""

    url: str
    status: int
    headers: Message
    body: bytes
    elapsed_s: float = 0.0

    @property
    def content_type(self) -> str:
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()

    def text(self, default_encoding: str = "utf-8") -> str:
        """Decode the body: the header's charset, else the page's <meta> charset, else the default.

        EUC-JP falls back on its superset EUC-JIS-2004 (Getchu pages use NEC extras such as ①);
        an undecodable byte becomes U+FFFD rather than an error.
        """
        declared = self.headers.get_content_charset() or _meta_charset(self.body)
        for encoding in _candidates(declared or default_encoding):
            try:
                return self.body.decode(encoding)
            except (UnicodeDecodeError, LookupError):
                continue
        return self.body.decode(_normal(declared or default_encoding), errors="replace")


class FetchError(Exception):
    """A request that did not produce a usable response; ``cause`` is a short summary key."""

    def __init__(self, cause: str, url: str, detail: str = "", status: int | None = None) -> None:
        super().__init__(f"{cause}: {url} ({detail})" if detail else f"{cause}: {url}")
        self.cause, self.url, self.detail, self.status = cause, url, detail, status


class HostThrottle:
    """Spaces requests to each host by ``delay_s`` across all threads; Retry-After defers a host."""

    def __init__(
        self, delay_s: float, clock: Callable[[], float], sleep: Callable[[float], object]
    ):
        self.delay_s, self._clock, self._sleep = delay_s, clock, sleep
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, host: str) -> None:
        """Block until this host may be asked again, and book the following slot."""
        with self._lock:
            now = self._clock()
            start = max(now, self._next.get(host, now))
            self._next[host] = start + self.delay_s
        if start > now:
            self._sleep(start - now)

    def defer(self, host: str, seconds: float) -> None:
        """No request to ``host`` for ``seconds`` from now (the server asked us to wait)."""
        with self._lock:
            self._next[host] = max(self._next.get(host, 0.0), self._clock() + seconds)


@dataclass
class PoliteClient:
    """Thread-safe GET/POST with the politeness rules of :class:`HttpSettings`.

    Returns every final response (404 included: what it means is the caller's call); raises
    :class:`FetchError` once the tries are spent on timeouts, connection errors, truncated
    bodies or retryable statuses, and at once for a body over ``max_bytes``.
    """

    settings: HttpSettings = field(default_factory=HttpSettings)
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], object] | None = None  # default: a wait that cancel() cuts short
    rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        self._cancelled = threading.Event()
        self._sleep: Callable[[float], object] = self.sleep or self._cancelled.wait
        self.throttle = HostThrottle(self.settings.per_host_delay_s, self.clock, self._sleep)
        self._opener = urllib.request.build_opener()
        self.robots = RobotsRules(self._fetch_robots, self.settings.user_agent)

    def cancel(self) -> None:
        """Stop: waits end now, and every request not yet sent fails with cause "cancelled"."""
        self._cancelled.set()

    def get(
        self, url: str, headers: dict[str, str] | None = None, max_bytes: int = 20_000_000
    ) -> Response:
        """GET ``url`` (see :meth:`request`)."""
        return self.request(url, None, headers or {}, max_bytes)

    def post_form(
        self,
        url: str,
        form: dict[str, str],
        headers: dict[str, str] | None = None,
        max_bytes: int = 20_000_000,
    ) -> Response:
        """POST ``form`` URL-encoded, as a browser submits an HTML form (see :meth:`request`)."""
        data = urllib.parse.urlencode(form).encode("utf-8")
        hdrs = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        return self.request(url, data, hdrs, max_bytes)

    def request(
        self, url: str, data: bytes | None, headers: dict[str, str], max_bytes: int
    ) -> Response:
        """One request with up to ``max_attempts`` tries (none where robots.txt says no)."""
        if self.settings.obey_robots and not self.robots.allowed(url):
            raise FetchError("robots", url, "disallowed by the host's robots.txt")
        return self._tries(url, data, headers, max_bytes)

    def _tries(
        self, url: str, data: bytes | None, headers: dict[str, str], max_bytes: int
    ) -> Response:
        host = urllib.parse.urlsplit(url).netloc
        attempts = max(1, self.settings.max_attempts)
        for attempt in range(1, attempts + 1):
            self.throttle.wait(host)
            if self._cancelled.is_set():
                raise FetchError("cancelled", url)
            try:
                response = self._once(url, data, headers, max_bytes)
            except FetchError as error:
                if error.cause in ("too_large", "deadline") or attempt == attempts:
                    raise
                self._sleep(self.backoff(attempt))
                continue
            if response.status not in RETRY_STATUSES:
                return response
            if attempt == attempts:
                raise FetchError(
                    f"http_{response.status}", url, "retries exhausted", response.status
                )
            retry_after = parse_retry_after(response.headers.get("Retry-After"), time.time())
            if retry_after is not None and retry_after > self.settings.max_retry_after_s:
                raise FetchError("retry_after", url, f"asked to wait {retry_after:.0f} s, over "
                                 f"max_retry_after_s={self.settings.max_retry_after_s:g}",
                                 response.status)
            if retry_after is not None:
                self.throttle.defer(host, retry_after)
            else:
                self._sleep(self.backoff(attempt))
        raise AssertionError("unreachable")

    def _fetch_robots(self, url: str) -> tuple[int, str]:
        response = self._tries(url, None, {}, 500_000)
        return response.status, response.text("utf-8")

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter before try ``attempt + 1``."""
        s = self.settings
        base = min(s.backoff_max_s, s.backoff_base_s * 2 ** (attempt - 1))
        return base * (1.0 - s.jitter * self.rng.random())

    def _once(
        self, url: str, data: bytes | None, headers: dict[str, str], max_bytes: int
    ) -> Response:
        req = urllib.request.Request(
            url, data=data, headers={"User-Agent": self.settings.user_agent, **headers}
        )
        start = self.clock()
        try:
            with self._opener.open(req, timeout=self.settings.timeout_s) as resp:
                return self._read(resp, resp.status, max_bytes, start)
        except urllib.error.HTTPError as resp:  # a 4xx/5xx still has headers and a body
            with resp:
                return self._read(resp, resp.code, max_bytes, start)
        except FetchError:
            raise
        except TimeoutError as e:
            raise FetchError("timeout", url, str(e)) from e
        except urllib.error.URLError as e:
            cause = (
                "timeout" if isinstance(e.reason, TimeoutError | socket.timeout) else "connection"
            )
            raise FetchError(cause, url, str(e.reason)) from e
        except http.client.IncompleteRead as e:
            raise FetchError("truncated", url, f"{len(e.partial)} bytes received") from e
        except (ConnectionError, http.client.HTTPException, OSError) as e:
            raise FetchError("connection", url, f"{type(e).__name__}: {e}") from e

    def _read(self, resp, status: int, max_bytes: int, start: float) -> Response:  # noqa: ANN001
        url = resp.geturl()
        length = _int_or_none(resp.headers.get("Content-Length"))
        if length is not None and length > max_bytes:
            raise FetchError("too_large", url, f"Content-Length {length} > {max_bytes}", status)
        body = self._body(resp, url, status, max_bytes, start)
        if len(body) > max_bytes:
            raise FetchError("too_large", url, f"more than {max_bytes} bytes", status)
        if length is not None and len(body) < length:
            raise FetchError("truncated", url, f"{len(body)} of {length} bytes", status)
        return Response(url, status, resp.headers, body, self.clock() - start)


    def _body(self, resp, url: str, status: int, max_bytes: int, start: float) -> bytes:  # noqa: ANN001
        """At most ``max_bytes + 1`` bytes of the body, read before ``deadline_s`` runs out."""
        read = getattr(resp, "read1", None) or resp.read
        parts, total, deadline = [], 0, start + self.settings.deadline_s
        while total <= max_bytes:
            if self.clock() > deadline:
                raise FetchError("deadline", url, f"{total} bytes after deadline_s="
                                 f"{self.settings.deadline_s:g}", status)
            chunk = read(min(1 << 16, max_bytes + 1 - total))
            if not chunk:
                break
            parts.append(chunk)
            total += len(chunk)
        return b"".join(parts)


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), else None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now) if when is not None else None


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value and value.strip().isdigit() else None


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)


def _meta_charset(body: bytes) -> str | None:
    match = _META_CHARSET.search(body[:4096])
    return match.group(1).decode("ascii") if match else None


def _normal(encoding: str) -> str:
    return encoding.strip().lower().replace("_", "-")


def _candidates(encoding: str) -> list[str]:
    enc = _normal(encoding)
    if enc in ("euc-jp", "x-euc-jp", "eucjp"):
        return ["euc_jp", "euc_jis_2004"]
    if enc in ("shift-jis", "sjis", "x-sjis", "shift_jis"):
        return ["shift_jis", "cp932"]
    return [enc]
