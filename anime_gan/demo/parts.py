"""Face, body and accessories of a procedural face: eyes, mouth, blush, glasses, hat, ribbon.

Positions are ``p.at(u, v)``: in head radii from the head centre; see
:class:`~anime_gan.demo.params.FaceParams` for the anchors (eyes, mouth, cheeks).
"""

from __future__ import annotations

import numpy as np

from anime_gan.demo.canvas import Canvas, Point, bezier, ellipse_points, profile, strand
from anime_gan.demo.params import RGB, WHITE, FaceParams, mix, outline_of, shade

LASH: RGB = (48, 28, 30)
MOUTH: RGB = (120, 32, 42)
TONGUE: RGB = (238, 116, 128)


def draw_body(cv: Canvas, p: FaceParams) -> None:
    """Neck, shoulders in clothes and a white collar; the chin's shadow on the neck."""
    r = p.r
    cv.polygon([p.at(-0.27, 0.5), p.at(0.27, 0.5), p.at(0.3, 1.5), p.at(-0.3, 1.5)], p.skin)
    cv.polygon(p.symmetric([(0, 1.12), (0.27, 0.95), (0.27, 0.8)])[:-1], shade(p.skin, 0.88))
    below = (1.05 - p.hy) / r
    body = p.symmetric([(0.3, 1.3), (1.1, 1.42), (1.65, 1.66), (1.95, below)])
    cv.polygon(body, p.clothes, outline_of(p.clothes), 0.03 * r)
    cv.polygon([p.at(-0.3, 1.3), p.at(0, 1.62), p.at(0.3, 1.3)], p.skin)
    for s in (-1, 1):
        flap = [p.at(s * 0.3, 1.3), p.at(s * 0.95, 1.42), p.at(s * 0.15, 1.85), p.at(0, 1.62)]
        cv.polygon(flap, (246, 246, 250), (150, 150, 160), 0.025 * r)


def draw_face_skin(cv: Canvas, p: FaceParams) -> None:
    """The face: a round upper head and a soft pointed chin, with a thin outline, and a nose."""
    r = p.r
    top = ellipse_points(p.at(0, 0), 0.86 * r, 0.82 * r, -np.pi, 0.0, 24)
    right = bezier(p.at(0.86, 0), p.at(0.82, 0.78), p.at(0, 1), 16)
    left = bezier(p.at(0, 1), p.at(-0.82, 0.78), p.at(-0.86, 0), 16)
    cv.polygon(np.concatenate([top, right[1:], left[1:-1]]), p.skin, shade(p.skin, 0.7), 0.018 * r)
    cv.line([p.at(0.03, 0.46), p.at(0.01, 0.5)], shade(p.skin, 0.72), 0.02 * r, min_px=0.4)


def draw_blush(cv: Canvas, p: FaceParams) -> None:
    """Pink ellipses on the cheeks with a few hatch strokes."""
    r = p.r
    color = mix(p.skin, (255, 96, 124), p.blush_strength)
    for x, y in p.cheek_centers():
        cv.ellipse((x, y), 0.15 * r, 0.075 * r, color)
        for k in (-1, 0, 1):
            x0 = x + k * 0.07 * r
            cv.line(
                [(x0 - 0.015 * r, y + 0.04 * r), (x0 + 0.025 * r, y - 0.04 * r)],
                shade(color, 0.85),
                0.016 * r,
                min_px=0.3,
            )


def draw_eyes(cv: Canvas, p: FaceParams, iris: RGB) -> None:
    """Big anime eyes: white, dark-topped iris, pupil, two highlights, a heavy upper lash."""
    r, s = p.r, p.eye_scale
    rx, ry = 0.2 * r * s, 0.25 * r * s
    iris = shade(iris, p.eye_value)
    for side, (ex, ey) in zip((-1, 1), p.eye_centers()):
        cv.ellipse((ex, ey + 0.02 * r), rx * 1.08, ry * 0.95, (252, 252, 255))
        cv.ellipse((ex, ey + 0.04 * r), rx * 0.8, ry * 0.92, shade(iris, 0.62))
        cv.ellipse((ex, ey + 0.04 * r + ry * 0.25), rx * 0.68, ry * 0.62, iris)
        cv.ellipse((ex, ey + 0.04 * r + ry * 0.6), rx * 0.5, ry * 0.22, mix(iris, WHITE, 0.35))
        cv.ellipse((ex, ey + 0.06 * r), rx * 0.34, ry * 0.42, shade(iris, 0.28))
        cv.ellipse((ex - side * rx * 0.3, ey - ry * 0.3), rx * 0.28, rx * 0.28, WHITE)
        cv.ellipse((ex + side * rx * 0.32, ey + ry * 0.38), rx * 0.13, rx * 0.13, WHITE)
        pi = np.pi
        lash = ellipse_points((ex, ey + 0.03 * r), rx * 1.12, ry * 0.98, -0.94 * pi, -0.08 * pi)
        if side < 0:
            lash = lash[::-1]  # end at the outer corner
        cv.line(lash, LASH, 0.07 * r * s, min_px=1.0)
        ox, oy = lash[-1]
        flick = [(ox, oy - 0.04 * r), (ox + side * 0.12 * r, oy - 0.09 * r), (ox, oy + 0.05 * r)]
        cv.polygon(flick, LASH)
        lower = ellipse_points((ex, ey + 0.02 * r), rx * 0.9, ry * 0.95, 0.35 * pi, 0.65 * pi, 8)
        cv.line(lower, LASH, 0.02 * r, min_px=0.4)


def draw_mouth(cv: Canvas, p: FaceParams, smile: bool, open_mouth: bool) -> None:
    """Neutral line, upturned smile, small open 'o', or an open D-shaped smile."""
    mx, my = p.mouth_center()
    r, m = p.r, p.mouth_scale
    if open_mouth and smile:
        pts = ellipse_points((mx, my - 0.06 * r), 0.15 * r * m, 0.16 * r * m, 0.0, np.pi, 20)
        cv.polygon(pts, MOUTH, shade(MOUTH, 0.6), 0.02 * r)
        cv.ellipse((mx, my + 0.05 * r * m), 0.08 * r * m, 0.04 * r * m, TONGUE)
    elif open_mouth:
        cv.ellipse((mx, my), 0.075 * r * m, 0.1 * r * m, MOUTH, shade(MOUTH, 0.6), 0.02 * r)
        cv.ellipse((mx, my + 0.05 * r * m), 0.045 * r * m, 0.035 * r * m, TONGUE)
    elif smile:
        arc = ellipse_points(
            (mx, my - 0.09 * r), 0.19 * r * m, 0.13 * r * m, 0.1 * np.pi, 0.9 * np.pi
        )
        cv.line(arc, shade(MOUTH, 0.9), 0.04 * r, min_px=0.8)
    else:
        cv.line(
            [(mx - 0.07 * r * m, my), (mx + 0.07 * r * m, my + 0.005 * r)],
            shade(MOUTH, 1.1),
            0.025 * r,
            min_px=0.6,
        )


def draw_glasses(cv: Canvas, p: FaceParams) -> None:
    """Round or rectangular frames around both eyes, a bridge, temples and lens glints."""
    r, s = p.r, p.eye_scale
    rx, ry = 0.3 * r * s, 0.29 * r * s
    (lx, ly), (rxc, _) = p.eye_centers()
    w = 0.055 * r
    for side, ex in ((-1, lx), (1, rxc)):
        c = (ex, ly + 0.04 * r)
        if p.round_glasses:
            pts = ellipse_points(c, rx, ry, 0.0, 2 * np.pi, 40)
        else:
            pts = _rounded_rect(c, rx, ry * 0.85)
        cv.line(pts, p.frame_color, w, min_px=0.7)
        glint = [
            (c[0] + side * 0.05 * r, c[1] - 0.18 * r),
            (c[0] + side * 0.16 * r, c[1] - 0.06 * r),
        ]
        cv.line(glint, WHITE, 0.025 * r, min_px=0.5)
        temple = [(c[0] + side * rx, c[1] - 0.06 * r), (p.cx + side * 0.86 * r, c[1] - 0.1 * r)]
        cv.line(temple, p.frame_color, w * 0.7, min_px=0.5)
    bridge = [
        (lx + rx * 0.98, ly - 0.02 * r),
        (p.cx, ly - 0.06 * r),
        (rxc - rx * 0.98, ly - 0.02 * r),
    ]
    cv.line(bridge, p.frame_color, w, min_px=0.7)


def _rounded_rect(c: Point, hw: float, hh: float) -> list[Point]:
    """Closed outline of a rectangle with corner radius 0.3 times its smaller half-side."""
    rad = 0.3 * min(hw, hh)
    pts: list[Point] = []
    for k, (sx, sy) in enumerate(((1, 1), (-1, 1), (-1, -1), (1, -1))):
        a0 = 0.5 * np.pi * k  # counter-clockwise from the lower right corner
        corner = (c[0] + sx * (hw - rad), c[1] + sy * (hh - rad))
        pts += ellipse_points(corner, rad, rad, a0, a0 + 0.5 * np.pi, 5)
    return pts + pts[:1]


def draw_hat(cv: Canvas, p: FaceParams) -> None:
    """A hat on top of the head: wide-brim hat, beret or pointed witch hat."""
    r = p.r
    fill, line, w = p.hat_color, outline_of(p.hat_color), 0.04 * r
    if p.hat_style == 1:  # beret
        beret = ellipse_points(p.at(0.12, -0.9), 1.28 * r, 0.52 * r, 0, 2 * np.pi, 40, -0.12)
        cv.polygon(beret, fill, line, w)
        fold = ellipse_points(
            p.at(0.1, -0.84), 1.16 * r, 0.42 * r, 0.15 * np.pi, 0.85 * np.pi, 16, -0.12
        )
        cv.line(fold, shade(fill, 0.8), 0.05 * r)
        cv.line([p.at(0.22, -1.4), p.at(0.26, -1.56)], line, 0.07 * r)
        return
    cv.polygon(ellipse_points(p.at(0, -0.82), 1.5 * r, 0.24 * r, 0, 2 * np.pi, 40), fill, line, w)
    if p.hat_style == 0:  # wide-brim hat: a dome
        crown = ellipse_points(p.at(0, -0.88), 0.8 * r, 0.68 * r, -np.pi, 0.0, 24)
        half, top = 0.79, 0.76
    else:  # witch hat: a bent cone
        cone = profile(0.74 * r, 0.45 * r, 0.02 * r, 0.3)
        crown = strand(p.at(0, -0.9), p.at(0.1, -1.6), p.at(0.75, -1.8), cone, 20)
        half, top = 0.72, 0.66
    cv.polygon(crown, fill, line, w)
    band = [p.at(-half, -0.88), p.at(-top, -1.04), p.at(top, -1.04), p.at(half, -0.88)]
    cv.polygon(band, p.hat_band, outline_of(p.hat_band), 0.02 * r)


def draw_ribbon(cv: Canvas, p: FaceParams) -> None:
    """A bow on the hair at one side of the top of the head."""
    r = p.r
    (bx, by), q = p.at(p.ribbon_side * 0.72, -0.86), 0.2 * r
    fill, line = p.ribbon_color, outline_of(p.ribbon_color)
    for k in (-1, 1):
        tail = [(bx, by), (bx + k * 0.9 * q, by + 1.9 * q), (bx + k * 0.3 * q, by + 1.7 * q)]
        cv.polygon(tail, shade(fill, 0.88), line, 0.02 * r)
    for k in (-1, 1):
        loop = [
            (bx, by),
            (bx + k * 1.9 * q, by - 1.15 * q),
            (bx + k * 2.2 * q, by - 0.2 * q),
            (bx + k * 1.9 * q, by + 0.9 * q),
        ]
        cv.polygon(loop, fill, line, 0.025 * r)
        crease = [(bx + k * 0.5 * q, by - 0.1 * q), (bx + k * 1.5 * q, by - 0.45 * q)]
        cv.line(crease, shade(fill, 0.8), 0.02 * r)
    cv.ellipse((bx, by), 0.42 * q, 0.48 * q, shade(fill, 0.92), line, 0.02 * r)
