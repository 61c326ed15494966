"""The crawler's HTTP client: urllib3 (pools, timeouts, redirects) and tenacity (bounded retries
with backoff), plus what neither gives: per-host spacing shared by all worker threads, a capped
Retry-After that defers the host for every thread, and a body read under a size cap and a
wall-clock deadline (a body sent a byte at a time).

Each host's robots.txt is read once, on first use, and obeyed by every request of the crawl;
the standard library's parser decides, and how the file was answered decides what it means,
as ``urllib.robotparser`` itself reads it: 200 is parsed, 401/403 forbid the whole host, any
other 4xx (no robots.txt) allows everything, and a 5xx forbids the whole host for this run (a
rerun asks again). A robots.txt that gives no answer at all (a refused connection, a timeout)
fails the request that needed it with that cause, and is asked for again by the next one.
"""

from __future__ import annotations

import codecs
import logging
import random
import re
import threading
import time
import urllib.parse
import urllib.robotparser
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import tenacity
import urllib3
from urllib3.exceptions import HTTPError, InvalidHeader, NewConnectionError
from urllib3.exceptions import TimeoutError as Urllib3Timeout

log = logging.getLogger("anime_gan.crawl")
#: Statuses worth another try: the server is busy or broken for a moment.
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
#: Failures that another try cannot mend.
FINAL_CAUSES = frozenset({"too_large", "deadline", "cancelled", "retry_after"})


@dataclass
class HttpSettings:
    """Politeness and robustness knobs (``http.*`` in conf/crawl.yaml)."""

    user_agent: str = "anime-gan/0.1 (MakeGirlsMoe reproduction, research crawler; one request per second per host)"
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
    headers: Mapping[str, str]  # case-insensitive (urllib3's HTTPHeaderDict)
    body: bytes

    def text(self, default_encoding: str = "utf-8") -> str:
        """Decode the body: the header's charset, else the page's <meta> charset, else the default.

        EUC-JP falls back on its superset EUC-JIS-2004 (Getchu pages use NEC extras such as ①);
        an undecodable byte becomes U+FFFD rather than an error.
        """
        declared = _CHARSET.search(self.headers.get("Content-Type") or "") or _CHARSET.search(
            self.body[:4096].decode("latin-1")
        )
        name = declared.group(1).lower() if declared else default_encoding
        try:
            encoding = codecs.lookup(_ALIASES.get(name, name)).name
        except LookupError:
            encoding = codecs.lookup(default_encoding).name
        try:
            return self.body.decode(encoding)
        except UnicodeDecodeError:
            return self.body.decode(_SUPERSETS.get(encoding, encoding), errors="replace")


class FetchError(Exception):
    """A request that did not produce a usable response; ``cause`` is a short summary key."""

    def __init__(
        self,
        cause: str,
        url: str,
        detail: str = "",
        status: int | None = None,
        retry_after: float | None = None,  # the server's Retry-After, already booked
    ) -> None:
        super().__init__(f"{cause}: {url} ({detail})" if detail else f"{cause}: {url}")
        self.cause, self.detail, self.status, self.retry_after = cause, detail, status, retry_after


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
        s = self.settings
        self._cancelled = threading.Event()
        self._sleep: Callable[[float], object] = self.sleep or self._cancelled.wait
        self.throttle = HostThrottle(s.per_host_delay_s, self.clock, self._sleep)
        # urllib3 follows redirects and raises transport errors as they are; tenacity retries
        no_retries = urllib3.Retry(total=None, connect=False, read=False, other=0, redirect=5)
        self._pool = urllib3.PoolManager(
            maxsize=s.concurrency, retries=no_retries, timeout=urllib3.Timeout(s.timeout_s)
        )
        self._robots: dict[str, urllib.robotparser.RobotFileParser] = {}  # by host
        self._robots_lock = threading.Lock()  # one read per host, even with several workers

    def cancel(self) -> None:
        """Stop: waits end now, and every request not yet sent fails with cause "cancelled"."""
        self._cancelled.set()

    def get(
        self, url: str, headers: dict[str, str] | None = None, max_bytes: int = 20_000_000
    ) -> Response:
        """GET ``url`` with up to ``max_attempts`` tries (none where robots.txt says no)."""
        return self._request(url, None, headers or {}, max_bytes)

    def post_form(self, url: str, form: dict[str, str]) -> Response:
        """POST ``form`` URL-encoded, as a browser submits the form of the page at ``url`` (see
        :meth:`get`)."""
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Referer": url}
        return self._request(url, urllib.parse.urlencode(form).encode(), headers, 20_000_000)

    def _request(
        self,
        url: str,
        data: bytes | None,
        headers: dict[str, str],
        max_bytes: int,
        check_robots: bool = True,
    ) -> Response:
        if check_robots and self.settings.obey_robots and not self.allowed(url):
            raise FetchError("robots", url, "disallowed by the host's robots.txt")
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.settings.max_attempts),
            retry=tenacity.retry_if_exception(
                lambda e: getattr(e, "cause", "") not in FINAL_CAUSES
            ),
            wait=self._wait,
            sleep=self._sleep,
            reraise=True,
        )
        return retrying(self._attempt, url, data, headers, max_bytes)

    def allowed(self, url: str) -> bool:
        """Whether the host's robots.txt lets this crawler fetch ``url``."""
        parts = urllib.parse.urlsplit(url)
        with self._robots_lock:
            if parts.netloc not in self._robots:
                origin = f"{parts.scheme}://{parts.netloc}"
                self._robots[parts.netloc] = self._read_robots(f"{origin}/robots.txt")
        return self._robots[parts.netloc].can_fetch(self.settings.user_agent, url)

    def _read_robots(self, url: str) -> urllib.robotparser.RobotFileParser:
        rules = urllib.robotparser.RobotFileParser(url)
        try:
            response = self._request(url, None, {}, 500_000, check_robots=False)
            status, text = response.status, response.text()
        except FetchError as e:
            if e.status is None:
                raise  # no answer: the request fails with this cause, the next one asks again
            status, text = e.status, ""
        if status == 200:
            rules.parse(text.splitlines())
        elif status in (401, 403) or status >= 500:
            rules.disallow_all = True
            log.warning(
                "%s answered HTTP %d: nothing is fetched from this host in this run", url, status
            )
        else:
            rules.allow_all = True
        return rules

    def _wait(self, state: tenacity.RetryCallState) -> float:
        """No wait after a Retry-After (the throttle holds the host), else :meth:`backoff`."""
        error = state.outcome.exception()  # type: ignore[union-attr]
        if getattr(error, "retry_after", None) is not None:
            return 0.0
        return self.backoff(state.attempt_number)

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter before try ``attempt + 1``."""
        s = self.settings
        base = min(s.backoff_max_s, s.backoff_base_s * 2 ** (attempt - 1))
        return base * (1.0 - s.jitter * self.rng.random())

    def _attempt(
        self, url: str, data: bytes | None, headers: dict[str, str], max_bytes: int
    ) -> Response:
        """One try after the host's turn. A retryable status raises; its Retry-After defers the
        host (or, over the cap, gives the request up for this run)."""
        host = urllib.parse.urlsplit(url).netloc
        self.throttle.wait(host)
        if self._cancelled.is_set():
            raise FetchError("cancelled", url)
        start = self.clock()
        try:
            resp = self._pool.request(
                "GET" if data is None else "POST",
                url,
                body=data,
                headers={"User-Agent": self.settings.user_agent, **headers},
                preload_content=False,
            )
            try:
                response = self._read(resp, url, max_bytes, start)
            finally:
                resp.release_conn()
        except (HTTPError, OSError) as e:
            # urllib3 derives a refused connection (NewConnectionError) from its timeout errors
            timed_out = isinstance(e, Urllib3Timeout | TimeoutError)
            cause = (
                "timeout" if timed_out and not isinstance(e, NewConnectionError) else "connection"
            )
            if "IncompleteRead" in str(e):
                cause = "truncated"
            raise FetchError(cause, url, f"{type(e).__name__}: {e}") from e
        if response.status not in RETRY_STATUSES:
            return response
        wait = parse_retry_after(response.headers.get("Retry-After"))
        if wait is not None and wait > self.settings.max_retry_after_s:
            raise FetchError(
                "retry_after",
                response.url,
                f"asked to wait {wait:.0f} s, over "
                f"max_retry_after_s={self.settings.max_retry_after_s:g}",
                response.status,
            )
        if wait is not None:
            self.throttle.defer(host, wait)
        status = response.status
        raise FetchError(f"http_{status}", response.url, "retries exhausted", status, wait)

    def _read(
        self, resp: urllib3.BaseHTTPResponse, url: str, max_bytes: int, start: float
    ) -> Response:
        """The whole body, at most ``max_bytes``, read before ``deadline_s`` runs out; urllib3
        raises on a body shorter than its Content-Length."""
        history = resp.retries.history  # type: ignore[union-attr]  # the redirects, if any
        if history:
            url = urllib.parse.urljoin(history[-1].url, history[-1].redirect_location)
        length, status = resp.length_remaining, resp.status
        if length is not None and length > max_bytes:
            raise FetchError("too_large", url, f"Content-Length {length} > {max_bytes}", status)
        body = bytearray()
        while len(body) <= max_bytes:
            if self.clock() > start + self.settings.deadline_s:
                raise FetchError(
                    "deadline",
                    url,
                    f"{len(body)} bytes after deadline_s={self.settings.deadline_s:g}",
                    status,
                )
            chunk = resp.read1(min(1 << 16, max_bytes + 1 - len(body)))
            if not chunk:
                return Response(url, status, resp.headers, bytes(body))
            body += chunk
        raise FetchError("too_large", url, f"more than {max_bytes} bytes", status)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), else None."""
    try:
        return float(urllib3.Retry().parse_retry_after(value)) if value else None
    except InvalidHeader:
        return None


_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)
#: Charset names that pages use and Python does not know.
_ALIASES = {"x-euc-jp": "euc_jp", "x-sjis": "shift_jis"}
#: A superset for bytes the declared charset lacks (Getchu pages use NEC extras such as ①).
_SUPERSETS = {"euc_jp": "euc_jis_2004", "shift_jis": "cp932"}
