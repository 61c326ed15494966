"""Decode one image file into a square RGB uint8 array, the way every import does it (our own
code around Pillow: it names why a file is unusable, and puts alpha on white, not black).

Robust by design, because imported folders come from the wild: a file that is empty, not an
image, truncated or otherwise undecodable raises :class:`DecodeError` with a short ``reason``
(the importer counts and skips it). Any Pillow mode becomes RGB; transparency is composited on
white (so a transparent background looks like the white background of most character art),
16-bit and float greys are rescaled rather than clipped. A non-square image is center-cropped
or padded with white to a square, then resized with Lanczos.
"""

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from anime_gan.limits import DEFAULT_MAX_PIXELS, TooLarge, check_pixels

#: Why a file is skipped, in the order reports list them ("unreadable": the file or archive
#: member could not be read at all, e.g. a zip CRC error; the importer assigns that one).
SKIP_REASONS = ("empty", "unreadable", "not_an_image", "truncated", "corrupt", "too_large")
CROP_MODES = ("center", "pad")


class DecodeError(Exception):
    """An image file that cannot be used; ``reason`` is one of :data:`SKIP_REASONS`."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


@dataclass
class DecodedImage:
    pixels: np.ndarray  # uint8 [R, R, 3]
    width: int  # original size, before cropping and resizing
    height: int
    converted_from: str | None  # the original mode when not RGB ("P+transparency": such a palette)


def decode_face(
    data: bytes, resolution: int, crop: str = "center", max_pixels: int = DEFAULT_MAX_PIXELS
) -> DecodedImage:
    """Decode encoded image bytes into a ``resolution`` x ``resolution`` RGB array; an image of
    more than ``max_pixels`` is refused from its header, before it is decoded."""
    if not data:
        raise DecodeError("empty", "zero bytes")
    try:
        image = Image.open(io.BytesIO(data))
        check_pixels(image, max_pixels)
        image.load()  # the first frame of an animation
        image = ImageOps.exif_transpose(image)
    except UnidentifiedImageError as e:
        raise DecodeError("not_an_image", str(e)) from None
    except (Image.DecompressionBombError, TooLarge) as e:
        raise DecodeError("too_large", str(e)) from None
    except Exception as e:  # OSError, SyntaxError, EOFError, struct.error, ... from a bad file
        reason = "truncated" if "truncated" in str(e).lower() else "corrupt"
        raise DecodeError(reason, str(e)) from None
    rgb, converted_from = to_rgb(image)  # Pillow refuses a width or height of 0 on opening
    pixels = np.asarray(square_resize(rgb, resolution, crop))
    return DecodedImage(pixels, *image.size, converted_from)


def to_rgb(image: Image.Image) -> tuple[Image.Image, str | None]:
    """Any Pillow mode -> RGB, and the original mode when a conversion was needed.

    Alpha (``RGBA``, ``LA``, ``PA``, ...) and a palette entry or grey level marked transparent
    (``P``/``L`` with ``transparency``, reported as ``"P+transparency"``) are composited on white;
    integer and float greys are rescaled; every other mode is Pillow's plain conversion.

    Pillow's own conversion of greys clips (a 16-bit 60000 becomes 255), which turns most
    16-bit images white. Here: ``I;16*`` is 0-65535; ``I`` is 0-65535 when any value exceeds
    255, else 0-255; ``F`` is 0-1 when no value exceeds 1, else 0-255 (clipped).
    """
    mode = image.mode
    if mode == "RGB":
        return image, None
    if mode.startswith(("I", "F")):
        values = np.asarray(image, dtype=np.float64)
        if mode.startswith("I;16") or (mode.startswith("I") and values.max() > 255):
            values = values / 257.0
        elif mode.startswith("F") and values.max() <= 1.0:
            values = values * 255.0
        grey = np.clip(np.rint(values), 0, 255).astype(np.uint8)
        return Image.fromarray(grey).convert("RGB"), mode
    keyed = mode in ("P", "L") and "transparency" in image.info
    label = f"{mode}+transparency" if keyed or mode == "PA" else mode
    if keyed or mode.endswith(("A", "a")):
        background = Image.new("RGBA", image.size, "white")
        return Image.alpha_composite(background, image.convert("RGBA")).convert("RGB"), label
    return image.convert("RGB"), label  # L, 1, P, CMYK, YCbCr, LAB, HSV, RGBX, ...


def square_resize(image: Image.Image, resolution: int, crop: str) -> Image.Image:
    """Center-crop (``crop="center"``) or white-pad (``"pad"``) to a square, then resize (a
    square image is cropped or padded to itself, and Pillow's resize to the same size copies)."""
    width, height = image.size
    if crop == "center":
        side = min(width, height)
        left, top = (width - side) // 2, (height - side) // 2
        image = image.crop((left, top, left + side, top + side))
    else:  # "pad"; import_images checks crop
        side = max(width, height)
        canvas = Image.new("RGB", (side, side), "white")
        canvas.paste(image, ((side - width) // 2, (side - height) // 2))
        image = canvas
    return image.resize((resolution, resolution), Image.Resampling.LANCZOS, reducing_gap=3.0)
