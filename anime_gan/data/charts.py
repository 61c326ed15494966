"""Bar charts drawn with Pillow, for the dataset report (no plotting library needed).

Two shapes cover the report: vertical bars over ordered categories (images by release year,
a histogram of crop sizes) and horizontal bars over named rows (the tag counts of Table 1).
Each bar may have its own colour; a legend maps colours to meanings.
"""

from __future__ import annotations

import math
from typing import Sequence

from PIL import Image, ImageDraw, ImageFont

Color = tuple[int, int, int]
BLUE: Color = (66, 114, 196)
GREY: Color = (190, 190, 190)
AXIS: Color = (60, 60, 60)
GRID: Color = (228, 228, 228)


def font(size: int = 13) -> ImageFont.ImageFont:
    """Pillow's bundled font at ``size`` px (the bitmap default where FreeType is missing)."""
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1
        return ImageFont.load_default()


def nice_ticks(top: float, target: int = 5) -> list[float]:
    """Round tick values 0, step, 2*step, ... covering ``top`` (steps of 1, 2 or 5 x 10^k)."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / target
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    return [i * step for i in range(int(math.ceil(top / step - 1e-9)) + 1)]


def _fmt(v: float) -> str:
    return f"{int(v):,}" if float(v).is_integer() else f"{v:.3g}"


def _text_w(draw: ImageDraw.ImageDraw, text: str, f: ImageFont.ImageFont) -> int:
    left, _, right, _ = draw.textbbox((0, 0), text, font=f)
    return int(right - left)


def vertical_bars(
    labels: Sequence[str],
    values: Sequence[float],
    title: str,
    xlabel: str = "",
    ylabel: str = "",
    colors: Sequence[Color] | None = None,
    legend: Sequence[tuple[str, Color]] = (),
    size: tuple[int, int] = (900, 480),
    value_labels: bool = True,
) -> Image.Image:
    """Bars over ordered categories; x labels are turned upright when they would overlap."""
    width, height = size
    f, small = font(13), font(11)
    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    widest = max((_text_w(draw, s, small) for s in labels), default=0)
    left, right, top = 70, 20, 48
    slot = (width - left - right) / max(len(labels), 1)
    upright = widest + 4 > slot
    bottom = (widest + 30 if upright else 40) + (18 if xlabel else 0)
    plot_h = height - top - bottom
    ticks = nice_ticks(max(values, default=0) * (1.08 if value_labels else 1.0))
    scale = plot_h / ticks[-1]
    draw.text((left, 10), title, fill="black", font=font(16))
    for t in ticks:
        y = height - bottom - t * scale
        draw.line((left, y, width - right, y), fill=GRID)
        draw.text((left - 6 - _text_w(draw, _fmt(t), small), y - 7), _fmt(t), fill=AXIS, font=small)
    for i, (label, value) in enumerate(zip(labels, values)):
        x0 = left + i * slot + slot * 0.12
        x1 = left + (i + 1) * slot - slot * 0.12
        y = height - bottom - value * scale
        color = colors[i] if colors else BLUE
        draw.rectangle((x0, y, max(x1, x0 + 1), height - bottom), fill=color)
        cx = (x0 + x1) / 2
        if value_labels and value and slot >= _text_w(draw, _fmt(value), small) + 2:
            text = _fmt(value)
            draw.text((cx - _text_w(draw, text, small) / 2, y - 14), text, fill=AXIS, font=small)
        _x_label(img, draw, label, cx, height - bottom + 4, small, upright)
    draw.line((left, height - bottom, width - right, height - bottom), fill=AXIS)
    draw.line((left, top - 4, left, height - bottom), fill=AXIS)
    if xlabel:
        x = (width - _text_w(draw, xlabel, f)) / 2
        draw.text((x, height - 20), xlabel, fill="black", font=f)
    if ylabel:
        _upright_text(img, ylabel, (6, top + plot_h // 2), f, centre=True)
    _legend(draw, legend, width - right, 14, small)
    return img


def horizontal_bars(
    labels: Sequence[str],
    values: Sequence[float],
    title: str,
    xlabel: str = "",
    colors: Sequence[Color] | None = None,
    legend: Sequence[tuple[str, Color]] = (),
    width: int = 820,
    row: int = 18,
) -> Image.Image:
    """One bar per named row, top to bottom, with its value at the end of the bar."""
    f, small = font(13), font(12)
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    left = max((_text_w(probe, s, small) for s in labels), default=0) + 16
    right, top, bottom = 70, 48, 44
    height = top + bottom + row * len(labels)
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    ticks = nice_ticks(max(values, default=0))
    scale = (width - left - right) / ticks[-1]
    draw.text((10, 10), title, fill="black", font=font(16))
    for t in ticks:
        x = left + t * scale
        draw.line((x, top - 4, x, height - bottom), fill=GRID)
        text = _fmt(t)
        draw.text((x - _text_w(draw, text, small) / 2, height - bottom + 4), text, fill=AXIS,
                  font=small)
    for i, (label, value) in enumerate(zip(labels, values)):
        y = top + i * row
        draw.text((left - 8 - _text_w(draw, label, small), y + 2), label, fill="black", font=small)
        x1 = left + value * scale
        color = colors[i] if colors else BLUE
        draw.rectangle((left, y + 3, max(x1, left + 1), y + row - 3), fill=color)
        draw.text((x1 + 4, y + 2), _fmt(value), fill=AXIS, font=small)
    draw.line((left, top - 4, left, height - bottom), fill=AXIS)
    if xlabel:
        x = (width - _text_w(draw, xlabel, f)) / 2
        draw.text((x, height - 22), xlabel, fill="black", font=f)
    _legend(draw, legend, width - 10, 14, small)
    return img


def _x_label(img: Image.Image, draw: ImageDraw.ImageDraw, text: str, cx: float, y: float,
             f: ImageFont.ImageFont, upright: bool) -> None:
    if upright:
        _upright_text(img, text, (int(cx), int(y)), f, centre=False)
    else:
        draw.text((cx - _text_w(draw, text, f) / 2, y), text, fill=AXIS, font=f)


def _upright_text(img: Image.Image, text: str, at: tuple[int, int], f: ImageFont.ImageFont,
                  centre: bool) -> None:
    """Text rotated 90 degrees (reading bottom to top); ``at`` is its top-centre (x labels) or
    its left-middle (``centre``: the y axis title)."""
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    w = _text_w(probe, text, f) + 4
    strip = Image.new("RGB", (w, 16), "white")
    ImageDraw.Draw(strip).text((2, 1), text, fill=AXIS, font=f)
    rotated = strip.rotate(90, expand=True)
    x, y = at
    if centre:
        img.paste(rotated, (x, y - rotated.height // 2))
    else:
        img.paste(rotated, (x - rotated.width // 2, y))


def _legend(draw: ImageDraw.ImageDraw, items: Sequence[tuple[str, Color]], right: int, y: int,
            f: ImageFont.ImageFont) -> None:
    x = right
    for text, color in reversed(list(items)):
        x -= _text_w(draw, text, f) + 22
        draw.rectangle((x, y + 2, x + 12, y + 14), fill=color)
        draw.text((x + 16, y + 1), text, fill=AXIS, font=f)
        x -= 10
