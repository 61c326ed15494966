"""Ordered parallel map on threads, for the image stages (decode, crop, resize).

Pillow releases the GIL while it decodes and resizes, so threads use the cores without the
start-up cost and pickling of processes.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def ordered_map(fn: Callable[[T], Any], items: Iterable[T], workers: int) -> Iterator[Any]:
    """``map(fn, items)`` on ``workers`` threads: results in input order, a bounded queue.

    At most ``8 * workers`` items are in flight, so a huge folder is never read into memory at
    once. An exception in ``fn`` (Ctrl-C included) comes out of the iteration at its position,
    and work still queued is cancelled. ``workers <= 1`` runs in the calling thread.
    """
    if workers <= 1:
        yield from map(fn, items)
        return
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="anime-gan")
    pending: deque[Future[Any]] = deque()
    try:
        for item in items:
            pending.append(pool.submit(fn, item))
            if len(pending) >= 8 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
