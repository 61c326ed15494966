"""Duplicate crops: exact (same pixels) and near (same tiny perceptual hash, within a distance).

Character images repeat across a crawl (a game re-released, a page that shows the same
picture twice), and so do their crops. ``exact`` compares the SHA-256 of the decoded crop
pixels: safe, it only drops true copies. ``near`` also compares a 64-bit difference hash
(dHash: the crop shrunk to 9x8 grey, one bit per horizontal neighbour pair) and drops a crop
whose hash is within ``max_distance`` bits of a kept one: it catches re-encoded or slightly
resized copies, but at large distances it can also merge two genuinely different pictures of
one character, hence off by default. The search is exact and fast by pigeonhole: two hashes
within ``t`` bits agree entirely on at least one of ``t + 1`` bit chunks, so only crops sharing
a chunk are compared.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import cv2
import numpy as np

DEDUPE_MODES = ("none", "exact", "near")


def pixel_sha256(pixels: np.ndarray) -> str:
    """SHA-256 of an image's shape and pixel bytes."""
    arr = np.ascontiguousarray(pixels)
    return hashlib.sha256(repr(arr.shape).encode() + arr.tobytes()).hexdigest()


def dhash(pixels: np.ndarray) -> int:
    """64-bit difference hash of an RGB (or grey) uint8 image."""
    gray = cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY) if pixels.ndim == 3 else pixels
    small = cv2.resize(gray, (9, 8), interpolation=cv2.INTER_AREA).astype(np.int16)
    bits = (small[:, 1:] > small[:, :-1]).reshape(-1)
    return int(sum(1 << i for i, b in enumerate(bits) if b))


def find_duplicates(
    digests: Sequence[str],
    hashes: Sequence[int] | None = None,
    max_distance: int = 0,
) -> dict[int, int]:
    """Index of each duplicate -> index of the earlier item it repeats (the first is kept).

    ``digests`` are exact keys (e.g. :func:`pixel_sha256`); with ``hashes`` (e.g. :func:`dhash`)
    an item within ``max_distance`` bits of a kept item is a duplicate too.
    """
    if hashes is not None and len(hashes) != len(digests):
        raise ValueError("digests and hashes must have the same length")
    first: dict[str, int] = {}
    dupes: dict[int, int] = {}
    t = max(0, min(int(max_distance), 31))
    edges = [int(e) for e in np.linspace(0, 64, t + 2)]
    chunks = list(zip(edges[:-1], edges[1:]))
    buckets: list[dict[int, list[int]]] = [{} for _ in chunks]
    for i, digest in enumerate(digests):
        if digest in first:
            dupes[i] = first[digest]
            continue
        if hashes is not None:
            match = _near(int(hashes[i]), hashes, chunks, buckets, t)
            if match is not None:
                dupes[i] = match
                continue
            for (lo, hi), bucket in zip(chunks, buckets):
                bucket.setdefault(_chunk(int(hashes[i]), lo, hi), []).append(i)
        first[digest] = i
    return dupes


def _chunk(value: int, lo: int, hi: int) -> int:
    return (value >> lo) & ((1 << (hi - lo)) - 1)


def _near(value: int, hashes: Sequence[int], chunks: list, buckets: list, t: int) -> int | None:
    """The earliest kept item whose hash is within ``t`` bits of ``value``, if any."""
    best = None
    for (lo, hi), bucket in zip(chunks, buckets):
        for j in bucket.get(_chunk(value, lo, hi), ()):
            if (best is None or j < best) and bin(value ^ int(hashes[j])).count("1") <= t:
                best = j
    return best
