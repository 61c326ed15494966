"""Face box geometry: the paper's 1.5x zoom about the box centre and crops at image borders.

The detector's box is tight around the face; the paper zooms it out 1.5x about its centre so
that the crop shows the hair (paper 3.1, Fig. 1). A zoomed box can leave the image (a face near
the top edge of a standing picture is common). Border policies:

- ``"pad"``: keep the face; the missing part is filled by repeating the edge pixels
  (``pad_mode="replicate"``, the default: character art mostly sits on a flat background) or
  with a constant colour (``pad_mode="constant"``, ``pad_value``, white by default);
- ``"skip"``: drop the face, so that every crop is made of real pixels only.

Because the detector's box lies inside the image, the zoomed box leaves it by at most a quarter
of the box side on each side (one sixth of the crop).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

BORDER_POLICIES = ("pad", "skip")
PAD_MODES = ("replicate", "constant")


def zoom_box(box: tuple[int, int, int, int], scale: float = 1.5) -> tuple[int, int, int, int]:
    """The square ``(x0, y0, x1, y1)`` of side ``round(scale * max(w, h))`` centred on ``box``.

    ``box`` is the detector's ``(x, y, w, h)``. Coordinates are integers (half-pixels round
    up), so the crop's centre is within half a pixel of the box centre.
    """
    x, y, w, h = box
    side = int(math.floor(scale * max(w, h) + 0.5))
    x0 = int(math.floor(x + w / 2 - side / 2 + 0.5))
    y0 = int(math.floor(y + h / 2 - side / 2 + 0.5))
    return x0, y0, x0 + side, y0 + side


def inside(crop_box: tuple[int, int, int, int], width: int, height: int) -> bool:
    """Whether ``crop_box`` lies entirely inside a ``width`` x ``height`` image."""
    x0, y0, x1, y1 = crop_box
    return x0 >= 0 and y0 >= 0 and x1 <= width and y1 <= height


def crop_box_pixels(
    image: np.ndarray,
    crop_box: tuple[int, int, int, int],
    border: str = "pad",
    pad_mode: str = "replicate",
    pad_value: int = 255,
) -> np.ndarray | None:
    """The pixels of ``crop_box`` in ``image`` (uint8 [H, W, 3]); None when ``border="skip"``
    and the box leaves the image. See the module docstring for the policies."""
    height, width = image.shape[:2]
    x0, y0, x1, y1 = crop_box
    if inside(crop_box, width, height):
        return np.ascontiguousarray(image[y0:y1, x0:x1])
    if border == "skip":
        return None
    cx0, cy0, cx1, cy1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
    kind = cv2.BORDER_REPLICATE if pad_mode == "replicate" else cv2.BORDER_CONSTANT
    part = image[cy0:cy1, cx0:cx1]  # not empty: the detector's box lies inside the image
    return cv2.copyMakeBorder(
        part, cy0 - y0, y1 - cy1, cx0 - x0, x1 - cx1, kind, value=(pad_value,) * 3
    )


def resize_square(pixels: np.ndarray, size: int) -> np.ndarray:
    """Resize a square crop to ``size`` px: area averaging when shrinking, Lanczos when growing."""
    if pixels.shape[0] == size:
        return pixels
    interp = cv2.INTER_AREA if pixels.shape[0] > size else cv2.INTER_LANCZOS4
    return cv2.resize(pixels, (size, size), interpolation=interp)
