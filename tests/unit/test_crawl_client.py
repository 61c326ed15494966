"""Politeness arithmetic of the HTTP client, on a fake clock: throttle, backoff, Retry-After."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from anime_gan.crawl.client import HostThrottle, HttpSettings, PoliteClient, parse_retry_after


class FakeClock:
    """time.monotonic and time.sleep that only move when something sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_throttle_spaces_requests_per_host_and_defers_on_request() -> None:
    clock = FakeClock()
    throttle = HostThrottle(1.0, clock, clock.sleep)
    starts = []
    for host in ["a", "a", "b", "a"]:
        throttle.wait(host)
        starts.append((host, clock.now))
    assert starts == [("a", 0.0), ("a", 1.0), ("b", 1.0), ("a", 2.0)]
    throttle.defer("a", 30.0)  # a Retry-After: 30 at t=2
    throttle.wait("a")
    assert clock.now == pytest.approx(32.0)


def test_backoff_is_exponential_jittered_and_capped() -> None:
    settings = HttpSettings(backoff_base_s=2.0, backoff_max_s=10.0, jitter=0.5)
    client = PoliteClient(settings, rng=random.Random(0))
    for attempt, full in [(1, 2.0), (2, 4.0), (3, 8.0), (4, 10.0), (9, 10.0)]:
        waits = [client.backoff(attempt) for _ in range(200)]
        assert all(full * 0.5 <= w <= full for w in waits)
        assert max(waits) - min(waits) > 0.3 * full * 0.5  # jitter spreads them
    assert PoliteClient(HttpSettings(jitter=0.0)).backoff(2) == 4.0


def test_retry_after_seconds_and_dates() -> None:
    now = datetime.now(timezone.utc)
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True)) == (
        pytest.approx(30.0, abs=2.0)
    )
    assert parse_retry_after("Mon, 01 Jan 2024 11:00:00 GMT") == 0.0  # in the past
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_unreachable_host_fails_after_bounded_tries() -> None:
    """A refused connection: max_attempts tries, the backoff waits between them, then an error."""
    import socket

    from anime_gan.crawl.client import FetchError

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    clock = FakeClock()
    client = PoliteClient(
        HttpSettings(max_attempts=3, backoff_base_s=1.0, jitter=0.0, timeout_s=1.0),
        clock=clock,
        sleep=clock.sleep,
    )
    with pytest.raises(FetchError) as info:
        client.get(f"http://127.0.0.1:{port}/x")
    assert info.value.cause == "connection"
    assert clock.sleeps == [
        1.0,
        2.0,
    ]  # one per failed try before the last (the 1 s host delay is used up)


def test_robots_txt_is_read_once_per_host_and_its_answer_decides(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from anime_gan.crawl.client import FetchError, Response

    def answer(host: str, status: int, text: str = "") -> Response:
        return Response(f"http://{host}.test/robots.txt", status, {}, text.encode())

    answers = {
        "http://a.test/robots.txt": answer("a", 200, "User-agent: *\nDisallow: /private/\n"),
        "http://b.test/robots.txt": answer("b", 404),
        "http://c.test/robots.txt": answer("c", 403),
        "http://d.test/robots.txt": FetchError("http_503", "d", "retries exhausted", 503),
        "http://e.test/robots.txt": FetchError("connection", "e", "refused"),
    }
    asked: list[str] = []

    def attempt(url: str, *_: object) -> Response:  # one try over the network
        asked.append(url)
        if isinstance(answers[url], Exception):
            raise answers[url]
        return answers[url]

    client = PoliteClient(HttpSettings(max_attempts=1, user_agent="anime-gan/0.1"))
    monkeypatch.setattr(client, "_attempt", attempt)
    assert client.allowed("http://a.test/x.jpg") and not client.allowed("http://a.test/private/y")
    assert client.allowed("http://b.test/anything")
    assert not client.allowed("http://c.test/x") and not client.allowed("http://d.test/x")
    for _ in range(2):  # no answer at all: that request fails, the next one asks again
        with pytest.raises(FetchError, match="connection"):
            client.allowed("http://e.test/x")
    with pytest.raises(FetchError, match="robots"):  # a disallowed URL is never requested
        client.get("http://a.test/private/z")
    assert asked == [f"http://{h}.test/robots.txt" for h in "abcdee"]
