"""A metric over training iterations (the paper's Fig. 10: FID over training) as PNG and CSV.

Drawn with Pillow (no plotting library is a dependency): axes, tick labels, a polyline, points.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Sequence

from PIL import Image, ImageDraw, ImageFont

from anime_gan.viz import save_png


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if hi <= lo:
        return [lo]
    return [lo + (hi - lo) * i / (n - 1) for i in range(n)]


def plot_curve(points: Sequence[tuple[int, float]], title: str, ylabel: str,
               size: tuple[int, int] = (560, 340)) -> Image.Image:
    """A line plot of (iteration, value) points."""
    w, h = size
    left, right, top, bottom = 64, 16, 28, 40
    img = Image.new("RGB", size, "white")
    draw, font = ImageDraw.Draw(img), ImageFont.load_default()
    draw.text((left, 8), title, fill="black", font=font)
    draw.rectangle([left, top, w - right, h - bottom], outline="black")
    draw.text((w // 2 - 24, h - 16), "iteration", fill="black", font=font)
    draw.text((4, top - 16), ylabel, fill="black", font=font)
    if not points:
        draw.text((left + 10, h // 2), "no values yet", fill="gray", font=font)
        return img
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x0, x1 = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1
    y0, y1 = min(ys), max(ys)
    pad = (y1 - y0) * 0.08 or max(abs(y0) * 0.1, 1e-3)
    y0, y1 = y0 - pad, y1 + pad

    def to_px(x: float, y: float) -> tuple[float, float]:
        return (left + (x - x0) / (x1 - x0) * (w - left - right),
                h - bottom - (y - y0) / (y1 - y0) * (h - top - bottom))

    for y in _ticks(y0, y1):
        _, py = to_px(x0, y)
        draw.line([left - 4, py, left, py], fill="black")
        draw.text((4, py - 5), f"{y:.4g}", fill="black", font=font)
    for x in sorted({int(round(t)) for t in _ticks(x0, x1)}):
        px, _ = to_px(x, y0)
        draw.line([px, h - bottom, px, h - bottom + 4], fill="black")
        draw.text((px - 12, h - bottom + 6), str(x), fill="black", font=font)
    pts = [to_px(x, y) for x, y in points]
    if len(pts) > 1:
        draw.line(pts, fill=(31, 119, 180), width=2)
    for px, py in pts:
        draw.ellipse([px - 3, py - 3, px + 3, py + 3], fill=(31, 119, 180))
    return img


def save_curve(points: Sequence[tuple[int, float]], folder: str | Path, name: str, title: str,
               ylabel: str) -> Path:
    """``<folder>/<name>.png`` and ``<folder>/<name>.csv``; returns the PNG path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{name}.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["iteration", ylabel])
        writer.writerows(points)
    return save_png(plot_curve(points, title, ylabel), folder / f"{name}.png")
