"""robots.txt, read once per host and obeyed by every request of the crawl.

The standard library's parser decides; how the file was answered decides what it means, as
``urllib.robotparser`` itself reads it: 200 is parsed, 401/403 forbid the whole host, any other
4xx (no robots.txt) allows everything, and a 5xx forbids the whole host for this run (a rerun
asks again). A robots.txt that gives no answer at all (a refused connection, a timeout) fails
the request that needed it with that cause, and is asked for again by the next one.
"""

from __future__ import annotations

import logging
import threading
import urllib.parse
import urllib.robotparser
from collections.abc import Callable

log = logging.getLogger("anime_gan.crawl")

#: Fetches a URL: (status, body text); raises on a failure (with a ``status`` attribute when
#: the server answered, e.g. a 503 on every try).
Fetch = Callable[[str], tuple[int, str]]


class RobotsRules:
    """The robots.txt rules of each host a crawl talks to, read through ``fetch`` on first use."""

    def __init__(self, fetch: Fetch, user_agent: str) -> None:
        self._fetch, self.user_agent = fetch, user_agent
        self._rules: dict[str, urllib.robotparser.RobotFileParser] = {}
        self._lock = threading.Lock()  # one read per host, even with several workers

    def allowed(self, url: str) -> bool:
        """Whether this crawler may fetch ``url``."""
        parts = urllib.parse.urlsplit(url)
        with self._lock:
            rules = self._rules.get(parts.netloc)
            if rules is None:
                rules = self._rules[parts.netloc] = self._read(f"{parts.scheme}://{parts.netloc}")
        return rules.can_fetch(self.user_agent, url)

    def _read(self, origin: str) -> urllib.robotparser.RobotFileParser:
        url = f"{origin}/robots.txt"
        rules = urllib.robotparser.RobotFileParser(url)
        try:
            status, text = self._fetch(url)
        except Exception as e:
            status, text = getattr(e, "status", None), ""
            if status is None:
                raise  # no answer: the request fails with this cause, the next one asks again
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
