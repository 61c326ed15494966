"""A metric over training iterations (the paper's Fig. 10: FID over training) as PNG and CSV.

Drawn with Pillow (no plotting library is a dependency): axes, tick labels, a polyline, points.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Sequence

from PIL import Image, ImageDraw, ImageFont

from anime_gan.viz import plot_frame, save_png


def plot_curve(points: Sequence[tuple[int, float]], title: str, ylabel: str,
               size: tuple[int, int] = (560, 340)) -> Image.Image:
    """A line plot of (iteration, value) points."""
    w, h = size
    left, right, top, bottom = 64, 16, 28, 40
    img = Image.new("RGB", size, "white")
    draw, font = ImageDraw.Draw(img), ImageFont.load_default()
    draw.text((left, 1), title, fill="black", font=font)  # a line above the y label
    draw.text((w // 2 - 24, h - 16), "iteration", fill="black", font=font)
    draw.text((4, top - 16), ylabel, fill="black", font=font)
    if not points:
        draw.rectangle([left, top, w - right, h - bottom], outline="black")
        draw.text((left + 10, h // 2), "no values yet", fill="gray", font=font)
        return img
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    y0, y1 = min(ys), max(ys)
    pad = (y1 - y0) * 0.08 or max(abs(y0) * 0.1, 1e-3)
    to_px = plot_frame(draw, font, size, (left, right, top, bottom), (min(xs), max(xs)),
                       (y0 - pad, y1 + pad), integer_x=True)
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
