"""The hair of a procedural face: length (short / medium / long), twintails, drills, ponytail.

Each hair-style tag adds its own visible element, so that any combination the label prior
draws (long and short together included) still shows every tag: ``short hair`` is a bob that ends
above the jaw, no length tag is hair to the neck, ``long hair`` adds curtains that fall past the
shoulders on both sides, ``twintails`` two tied tails at the sides of the head, ``drill hair``
striped spiral ringlets hanging at the sides, ``ponytail`` one tail from the back of the head
sweeping out over one side. Positions are ``p.at(u, v)``: in head radii from the head centre.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from anime_gan.demo.canvas import Canvas, Points, bezier, ellipse_points, profile, strand
from anime_gan.demo.params import RGB, WHITE, FaceParams, mix, outline_of, shade


@dataclass(frozen=True)
class HairPaint:
    """The colors hair is drawn with, all derived from the tag's base color."""

    fill: RGB
    line: RGB
    dark: RGB
    light: RGB
    width: float  # of the outline

    @classmethod
    def of(cls, color: RGB, r: float) -> HairPaint:
        """The paint of hair of ``color`` on a head of radius ``r``."""
        return cls(color, outline_of(color), shade(color, 0.82), mix(color, WHITE, 0.5), 0.045 * r)

    def shape(self, cv: Canvas, points: Points, fill: RGB | None = None) -> None:
        """A hair shape in ``fill`` (default: the hair color), outlined."""
        cv.polygon(points, fill or self.fill, self.line, self.width)


def draw_ponytail(cv: Canvas, p: FaceParams, paint: HairPaint) -> None:
    """One thick tail from the crown at the back, sweeping out over one side and down."""
    s, k, r = p.ponytail_side, p.tail_swing, p.r
    p0, p1, p2 = p.at(s * 0.3, -0.95), p.at(s * 2.0 * k, -1.55), p.at(s * 1.5 * k, 1.55)
    paint.shape(cv, strand(p0, p1, p2, profile(0.22 * r, 0.4 * r, 0.03 * r, 0.3), 32))
    q0, q1 = (p0[0], p0[1] - 0.05 * r), (p1[0] - s * 0.15 * r, p1[1] + 0.1 * r)
    for off in (-0.12, 0.1):
        q2 = (p2[0] + s * off * r, p2[1] - 0.35 * r)
        cv.line(bezier(q0, q1, q2, 16)[5:], paint.dark, 0.02 * r)


def draw_back_hair(cv: Canvas, p: FaceParams, paint: HairPaint, short: bool, long: bool) -> None:
    """Hair behind the face and neck: bob (short), to the neck (medium), curtains (long)."""
    if long:
        below = (1.05 - p.hy) / p.r  # past the bottom of the image
        curtain = p.symmetric([(1.08, -0.3), (1.34, 0.6), (1.46, below)])
        paint.shape(cv, curtain, paint.dark)
    if short:
        side = [(1.1, -0.1), (1.16, 0.3), (1.05, 0.52), (0.86, 0.44), (0.6, 0.3)]
    else:
        side = [(1.1, -0.1), (1.13, 0.6), (1.04, 1.18), (0.8, 1.08), (0.6, 1.16), (0.35, 1.05)]
    paint.shape(cv, p.symmetric(side))


def draw_long_front(cv: Canvas, p: FaceParams, paint: HairPaint) -> None:
    """Long hair's locks falling in front of both shoulders, down past the image's bottom."""
    r = p.r
    for s in (-1, 1):
        p0, p1, p2 = p.at(s * 0.86, 0.1), p.at(s * 1.32, 1.0), (p.cx + s * 1.18 * r, 1.04)
        paint.shape(cv, strand(p0, p1, p2, profile(0.14 * r, 0.27 * r, 0.2 * r, 0.5)))
        q1, q2 = (p1[0] - s * 0.05 * r, p1[1]), (p2[0] + s * 0.02 * r, p2[1])
        cv.line(bezier(p.at(s * 0.86, 0.4), q1, q2, 12), paint.dark, 0.02 * r)


def draw_twintails(cv: Canvas, p: FaceParams, paint: HairPaint) -> None:
    """Two tails tied high at the sides of the head, bulging outwards and hanging down."""
    k, r = p.tail_swing, p.r
    for s in (-1, 1):
        p0, p1, p2 = p.at(s * 1.0, -0.55), p.at(s * 1.95 * k, -0.4), p.at(s * 1.42 * k, 1.7)
        paint.shape(cv, strand(p0, p1, p2, profile(0.12 * r, 0.34 * r, 0.03 * r, 0.35), 32))
        mid = bezier(p.at(s * 1.1, -0.45), (p1[0] - s * 0.1 * r, p1[1]), p2, 16)
        cv.line(mid[2:-3], paint.dark, 0.02 * r)


def draw_twintail_ties(cv: Canvas, p: FaceParams) -> None:
    """The hair ties of the twintails (drawn over the head so they are seen)."""
    for s in (-1, 1):
        tie = p.tie_color
        cv.ellipse(p.at(s, -0.55), 0.1 * p.r, 0.1 * p.r, tie, outline_of(tie), 0.025 * p.r)


def draw_drills(cv: Canvas, p: FaceParams, paint: HairPaint) -> None:
    """Spiral ringlets at the sides: tapered, bulging per turn, with slanted dark stripes."""
    r, n, turns = p.r, 48, 4
    t = np.linspace(0.0, 1.0, n)
    base = profile(0.13 * r, 0.21 * r, 0.035 * r, 0.22)(t)
    w = (base * (0.78 + 0.22 * np.abs(np.cos(turns * np.pi * t))))[:, None]  # a bulge per turn
    for s in (-1, 1):
        centre = bezier(p.at(s * 0.98, -0.05), p.at(s * 1.22, 0.7), p.at(s * 1.12, 1.6), n)
        grad = np.gradient(centre, axis=0)
        normal = np.stack([-grad[:, 1], grad[:, 0]], axis=1)
        normal /= np.linalg.norm(normal, axis=1, keepdims=True)
        left, right = centre + normal * w, centre - normal * w
        paint.shape(cv, np.concatenate([left, right[::-1]]))
        for j in range(turns):
            a = int(n * (j + 0.55) / (turns + 0.2))
            b = int(n * (j + 0.95) / (turns + 0.2))  # stripes lie within points 6..45
            cv.line([left[a], centre[(a + b) // 2], right[b]], paint.line, 0.035 * r)
            glint = [
                left[a] * 0.5 + centre[a] * 0.5 - (0, 0.06 * r),
                centre[a - 2] + normal[a] * w[a] * 0.2,
            ]
            cv.line(glint, paint.light, 0.025 * r)


def draw_head_cap(cv: Canvas, p: FaceParams, paint: HairPaint) -> None:
    """The hair over the skull, behind the face."""
    paint.shape(cv, ellipse_points(p.at(0, -0.1), 1.12 * p.r, 1.08 * p.r, -np.pi - 0.2, 0.2, 40))


def draw_side_locks(cv: Canvas, p: FaceParams, paint: HairPaint, short: bool) -> None:
    """Locks framing the face in front of the cheeks; above the jaw when the hair is short."""
    end = 0.4 if short else 0.95
    for s in (-1, 1):
        p0, p1, p2 = p.at(s * 0.8, -0.55), p.at(s * 0.98, 0.1), p.at(s * 0.84, end)
        paint.shape(cv, strand(p0, p1, p2, profile(0.15 * p.r, 0.15 * p.r, 0.02 * p.r, 0.3)))


def draw_fringe(cv: Canvas, p: FaceParams, paint: HairPaint) -> None:
    """Bangs: pointed locks over the forehead, ending above the eyes, with a shine band."""
    n = p.fringe_spikes
    xs = np.linspace(-1.0, 1.0, n + 1) * 0.98  # valleys between spikes, in head radii
    ys = [-0.52 + 0.16 * (x / 0.98) ** 2 for x in xs]
    pts = [p.at(-1.1, -0.05)]
    for i in range(n):
        a, b = xs[i], xs[i + 1]
        edge = abs(0.5 * (a + b)) / 0.98  # side spikes come further down along the face
        depth = -0.26 + 0.14 * p.fringe_tips[i] + 0.22 * edge**2
        if i > 0:
            pts.append(p.at(a, ys[i]))
        pts.append(p.at(0.5 * (a + b) + p.fringe_shift * (b - a) * 0.6, depth))
    pts.append(p.at(1.1, -0.05))
    pts += ellipse_points(p.at(0, -0.1), 1.12 * p.r, 1.08 * p.r, -0.05, -np.pi + 0.05, 24)
    paint.shape(cv, pts)
    for x, y in zip(xs[1:-1], ys[1:-1]):
        cv.line([p.at(x, y), p.at(x + 0.02, y - 0.16)], paint.line, 0.03 * p.r)
    shine = ellipse_points(p.at(0, -0.12), 0.8 * p.r, 0.74 * p.r, -0.78 * np.pi, -0.22 * np.pi, 21)
    for j in (1, 8, 15):
        cv.line(shine[j : j + 5], paint.light, 0.07 * p.r, min_px=0.8)
