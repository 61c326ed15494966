"""One character image: fetch it with the page as Referer and check that it is a real picture.

Checks, in order: HTTP status, size cap (in the client), Content-Type, magic bytes, a full
decode with Pillow (catches bodies cut short), and Getchu's 1x1 placeholder for a missing
picture. Each rejection has a cause; the final ones are not tried again on a rerun.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image

from anime_gan.crawl.client import FetchError, PoliteClient
from anime_gan.limits import DEFAULT_MAX_PIXELS, TooLarge, check_pixels

#: Rejections that another try would not change (a rerun skips them).
FINAL_IMAGE_CAUSES = frozenset({"placeholder", "duplicate", "too_large", "not_found"})
_MAGIC = (
    (b"\xff\xd8\xff", "jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "png", ".png"),
    (b"GIF87a", "gif", ".gif"),
    (b"GIF89a", "gif", ".gif"),
    (b"BM", "bmp", ".bmp"),
)


@dataclass
class ImageSettings:
    """``images.*`` in conf/crawl.yaml."""

    max_bytes: int = 5_000_000  # Getchu character pictures are ~20-200 kB
    placeholder_max_side: int = 1  # a picture this small on both sides is a placeholder
    max_pixels: int = DEFAULT_MAX_PIXELS  # larger pictures are not decoded (too_large)


@dataclass
class ImageInfo:
    """What the checks found out about a good image."""

    format: str  # jpeg, png, gif, webp, bmp
    ext: str  # the file extension that matches the bytes
    width: int
    height: int


class ImageRejected(FetchError):
    """An image URL that gave no usable picture; ``cause`` is its summary key, final when in
    :data:`FINAL_IMAGE_CAUSES`."""


def sniff(body: bytes) -> tuple[str, str] | None:
    """(format, extension) from the magic bytes, or None when the bytes are not a known image."""
    if body[:4] == b"RIFF" and body[8:12] == b"WEBP":
        return "webp", ".webp"
    for magic, fmt, ext in _MAGIC:
        if body.startswith(magic):
            return fmt, ext
    return None


def inspect_image(
    body: bytes,
    content_type: str,
    url: str,
    placeholder_max_side: int = 1,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> ImageInfo:
    """Check a downloaded body; raise :class:`ImageRejected` with the reason when it is no good."""
    content_type = content_type.split(";")[0].strip().lower()
    if content_type and not content_type.startswith(("image/", "application/octet-stream")):
        raise ImageRejected("not_image", url, f"Content-Type {content_type}")
    kind = sniff(body)
    if kind is None:
        raise ImageRejected("not_image", url, f"starts with {body[:16]!r}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(body)) as im:
                check_pixels(im, max_pixels, "images.max_pixels")
                im.load()  # decodes everything: a body cut short fails here
    except TooLarge as e:
        raise ImageRejected("too_large", url, str(e)) from e
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as e:
        cause = "truncated" if "truncated" in str(e).lower() else "bad_image"
        raise ImageRejected(cause, url, str(e)) from e
    if max(im.size) <= placeholder_max_side:
        raise ImageRejected("placeholder", url, f"{im.width}x{im.height}")
    return ImageInfo(*kind, im.width, im.height)


def fetch_image(
    client: PoliteClient, url: str, referer: str, settings: ImageSettings
) -> tuple[bytes, ImageInfo]:
    """Download and check one image; raise :class:`FetchError` (an :class:`ImageRejected` for
    a bad picture) when it gives none."""
    response = client.get(url, headers={"Referer": referer}, max_bytes=settings.max_bytes)
    if response.status in (404, 410):
        raise ImageRejected("not_found", url, f"HTTP {response.status}")
    if response.status != 200:
        raise ImageRejected(f"http_{response.status}", url)
    content_type = response.headers.get("Content-Type") or ""
    info = inspect_image(
        response.body, content_type, url, settings.placeholder_max_side, settings.max_pixels
    )
    return response.body, info
