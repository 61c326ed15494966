"""A supersampled drawing surface in image-fraction coordinates, and curve helpers.

Every shape of the face renderer is placed in fractions of the image side (0..1), drawn with
Pillow at ``SUPERSAMPLE`` times the output size and downscaled with LANCZOS, which gives smooth,
anti-aliased edges at any output resolution. Line widths have a floor in output pixels, so thin
lines (glasses, mouths) stay visible at 32 px. Own code because Pillow has no Bezier curves,
tapered strokes or round-capped polylines, and takes no fractional coordinates.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from PIL import Image, ImageDraw

from anime_gan.demo.params import RGB

Point = tuple[float, float]
Points = Sequence[Point] | np.ndarray  # a list of (x, y) or an array [n, 2]
SUPERSAMPLE = 4


class Canvas:
    """Pillow image + draw in fraction coordinates; ``result()`` downscales to the output size."""

    def __init__(self, resolution: int, background: RGB) -> None:
        self.resolution = resolution
        self.size = resolution * SUPERSAMPLE
        self.image = Image.new("RGB", (self.size, self.size), background)
        self.draw = ImageDraw.Draw(self.image)

    def _xy(self, points: Points) -> list[tuple[float, float]]:
        return [(x * self.size, y * self.size) for x, y in points]

    def polygon(
        self,
        points: Points,
        fill: RGB,
        outline: RGB | None = None,
        width: float = 0.0,
    ) -> None:
        self.draw.polygon(self._xy(points), fill=fill)
        if outline is not None:
            self.line([*points, points[0]], outline, width)

    def ellipse(
        self,
        center: Point,
        rx: float,
        ry: float,
        fill: RGB,
        outline: RGB | None = None,
        width: float = 0.0,
    ) -> None:
        x, y = center
        self.draw.ellipse(self._xy([(x - rx, y - ry), (x + rx, y + ry)]), fill=fill)
        if outline is not None:
            self.line(ellipse_points(center, rx, ry, 0.0, 2 * np.pi, 48), outline, width)

    def line(self, points: Points, fill: RGB, width: float, min_px: float = 0.6) -> None:
        """A polyline with round joints and round caps, ``width`` of the side but at least
        ``min_px`` output pixels wide."""
        w = round(max(width * self.size, min_px * SUPERSAMPLE))
        xy = self._xy(points)
        self.draw.line(xy, fill=fill, width=w, joint="curve")
        if w > 2:
            h = w / 2 - 0.5
            for x, y in (xy[0], xy[-1]):
                self.draw.ellipse((x - h, y - h, x + h, y + h), fill=fill)

    def result(self) -> np.ndarray:
        """The picture at the output resolution, uint8 [R, R, 3]."""
        small = self.image.resize((self.resolution, self.resolution), Image.LANCZOS)
        return np.asarray(small)


def ellipse_points(
    center: Point, rx: float, ry: float, a0: float, a1: float, n: int = 24, rotation: float = 0.0
) -> list[Point]:
    """Points on an ellipse from angle ``a0`` to ``a1`` (radians, y pointing down, 0 = +x)."""
    a = np.linspace(a0, a1, n)
    x, y = rx * np.cos(a), ry * np.sin(a)
    c, s = np.cos(rotation), np.sin(rotation)
    return [(center[0] + c * u - s * v, center[1] + s * u + c * v) for u, v in zip(x, y)]


def bezier(p0: Point, p1: Point, p2: Point, n: int) -> np.ndarray:
    """``n`` points of the quadratic Bezier curve p0 -> p2 pulled towards p1, shape [n, 2]."""
    t = np.linspace(0.0, 1.0, n)[:, None]
    a, b, c = np.array([p0, p1, p2])
    return (1 - t) ** 2 * a + 2 * (1 - t) * t * b + t**2 * c


def profile(w0: float, w_mid: float, w1: float, peak: float) -> Callable[[np.ndarray], np.ndarray]:
    """Half-width along a strand: ``w0`` at the root, ``w_mid`` at ``peak``, ``w1`` at the tip."""

    def widths(t: np.ndarray) -> np.ndarray:
        up = w0 + (w_mid - w0) * np.sin(0.5 * np.pi * np.clip(t / peak, 0, 1))
        down = w1 + (w_mid - w1) * np.cos(0.5 * np.pi * np.clip((t - peak) / (1 - peak), 0, 1))
        return np.where(t < peak, up, down)

    return widths


def strand(
    p0: Point, p1: Point, p2: Point, widths: Callable[[np.ndarray], np.ndarray], n: int = 24
) -> np.ndarray:
    """Outline [2n, 2] of a lock of hair along a Bezier centreline with the given half-widths."""
    centre = bezier(p0, p1, p2, n)
    grad = np.gradient(centre, axis=0)
    normal = np.stack([-grad[:, 1], grad[:, 0]], axis=1)
    normal /= np.linalg.norm(normal, axis=1, keepdims=True) + 1e-12
    w = widths(np.linspace(0.0, 1.0, n))[:, None]
    return np.concatenate([centre + normal * w, (centre - normal * w)[::-1]])
