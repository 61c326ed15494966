"""Bounded reads of what comes from outside: file and archive-member sizes, image pixel counts.

A 1.5 MB zip can hold a 1.5 GiB member of zeros, and a small PNG can declare 100 megapixels;
reading either whole costs gigabytes. Each stage that reads such input takes its limits from its
config (``max_member_bytes``, ``max_pixels``, ``images.max_pixels``) and calls these helpers,
which refuse the input before the expensive part. The default pixel cap is Pillow's own warning
size, so every image between Pillow's warning and its error (twice that) is refused too.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

from PIL import Image

#: Pillow's DecompressionBombWarning size (about 89.5 megapixels, 1/2 of its error size).
DEFAULT_MAX_PIXELS = 89_478_485
#: Larger image files or archive members are not read (no illustration comes near).
DEFAULT_MAX_BYTES = 100_000_000


class TooLarge(ValueError):
    """An input over a configured limit; the message says which limit and how to raise it."""


def check_pixels(image: Image.Image, max_pixels: int, option: str = "max_pixels") -> None:
    """Raise :class:`TooLarge` for an opened (not yet decoded) image over ``max_pixels``."""
    width, height = image.size
    if width * height > max_pixels:
        raise TooLarge(
            f"{width}x{height} = {width * height:,} pixels, over {option}={max_pixels:,}"
        )


def read_capped(
    stream: IO[bytes], max_bytes: int, what: str, option: str = "max_member_bytes"
) -> bytes:
    """The whole of ``stream`` if it holds at most ``max_bytes``, else :class:`TooLarge`; never
    reads more than ``max_bytes + 1`` bytes, whatever size a header claims."""
    parts, total = [], 0
    while chunk := stream.read(min(1 << 20, max_bytes + 1 - total)):
        parts.append(chunk)
        total += len(chunk)
        if total > max_bytes:
            raise TooLarge(f"{what} is over {option}={max_bytes:,} bytes")
    return b"".join(parts)


def read_file_capped(path: str | Path, max_bytes: int, option: str = "max_member_bytes") -> bytes:
    """A file's bytes, refused (:class:`TooLarge`) when it is larger than ``max_bytes``."""
    path = Path(path)
    size = path.stat().st_size
    if size > max_bytes:
        raise TooLarge(f"{path.name} has {size:,} bytes, over {option}={max_bytes:,}")
    with open(path, "rb") as f:
        return read_capped(f, max_bytes, path.name, option)
