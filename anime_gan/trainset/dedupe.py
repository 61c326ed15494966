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
    t = max(0, min(int(max_distance), 31))
    edges = [int(e) for e in np.linspace(0, 64, t + 2)]
    chunks = [(lo, (1 << (hi - lo)) - 1) for lo, hi in zip(edges, edges[1:])]  # (shift, mask)
    buckets: list[dict[int, list[int]]] = [{} for _ in chunks]
    first: dict[str, int] = {}
    dupes: dict[int, int] = {}
    for i, digest in enumerate(digests):
        if digest in first:
            dupes[i] = first[digest]
            continue
        if hashes is not None:
            value = int(hashes[i])
            keys = [(value >> shift) & mask for shift, mask in chunks]
            near = [
                j
                for key, bucket in zip(keys, buckets)
                for j in bucket.get(key, ())
                if (value ^ int(hashes[j])).bit_count() <= t
            ]
            if near:
                dupes[i] = min(near)
                continue
            for key, bucket in zip(keys, buckets):
                bucket.setdefault(key, []).append(i)
        first[digest] = i
    return dupes
