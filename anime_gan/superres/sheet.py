"""Pictures of the upscaler: the side-by-side sheet (paper Fig. 12) and the trade-off figure.

Drawn with Pillow (no plotting library is a dependency).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw

from anime_gan.data.charts import font
from anime_gan.viz import plot_frame

Point = tuple[str, float, float]  # (label, x, y)
Color = tuple[int, int, int]
_COLORS: list[Color] = [(66, 114, 196), (221, 132, 82), (85, 168, 104), (196, 78, 82), (129, 114, 179),
           (147, 120, 96), (218, 139, 195), (140, 140, 140)]


def comparison_sheet(columns: Sequence[tuple[str, np.ndarray]], scale: int = 2,
                     title: str | None = None) -> Image.Image:
    """One row per image, one titled column per method, e.g. input | bicubic | SR ... | original.

    Every column holds uint8 ``[N, H, W, 3]`` images; smaller ones (the input) are enlarged with
    nearest-neighbour to the largest size, so their pixels show. Everything is then enlarged
    ``scale`` times (nearest), so that the differences between methods are visible.
    """
    side = max(images.shape[1] for _, images in columns) * scale
    n = min(len(images) for _, images in columns)
    pad, head = 4, 18 + (16 if title else 0)
    sheet = Image.new("RGB", (pad + len(columns) * (side + pad), head + n * (side + pad) + pad), "white")
    draw, f = ImageDraw.Draw(sheet), font(12)
    if title:
        draw.text((pad, 2), title, fill="black", font=f)
    for c, (name, images) in enumerate(columns):
        x = pad + c * (side + pad)
        draw.text((x + 2, head - 16), name, fill="black", font=f)
        for r in range(n):
            tile = Image.fromarray(np.asarray(images[r])).resize((side, side), Image.NEAREST)
            sheet.paste(tile, (x, head + r * (side + pad)))
    return sheet


def scatter(points: Sequence[Point], title: str, xlabel: str, colors: Sequence[Color],
            vline: float | None = None, connect: bool = False,
            size: tuple[int, int] = (400, 360)) -> Image.Image:
    """A scatter plot of (label, x, y) points, each labelled in its colour; ``vline`` draws a
    dashed reference line at that x; ``connect`` joins the points in order."""
    w, h = size
    left, right, top, bottom = 56, 16, 26, 40
    img = Image.new("RGB", size, "white")
    draw, f = ImageDraw.Draw(img), font(12)
    draw.text((left, 6), title, fill="black", font=f)
    draw.text((left + 4, h - 16), xlabel, fill="black", font=f)
    xs = [p[1] for p in points] + ([vline] if vline is not None else [])
    ys = [p[2] for p in points]
    (x0, x1), (y0, y1) = (min(xs), max(xs)), (min(ys), max(ys))
    xpad, ypad = (x1 - x0) * 0.1 or 0.05, (y1 - y0) * 0.15 or 0.05
    x0, x1, y0, y1 = x0 - xpad, x1 + 2.5 * xpad, y0 - ypad, y1 + ypad  # room for labels
    px = plot_frame(draw, f, size, (left, right, top, bottom), (x0, x1), (y0, y1))
    if vline is not None:
        qx, _ = px(vline, y0)
        for y in range(top, h - bottom, 8):
            draw.line([qx, y, qx, min(y + 4, h - bottom)], fill=(120, 120, 120))
        draw.text((qx - 44, top + 3), "original", fill=(90, 90, 90), font=f)
    centres = [px(x, y) for _, x, y in points]
    if connect and len(centres) > 1:
        draw.line(centres, fill=(170, 170, 170), width=1)
    for (label, _, _), (qx, qy), color in zip(points, centres, colors):
        draw.ellipse([qx - 4, qy - 4, qx + 4, qy + 4], fill=color)
        draw.text((qx + 7, qy - 7), label, fill=color, font=f)
    return img


def tradeoff_figure(rows: Sequence[dict],
                    title: str = "2x upscaling: fidelity against sharpness") -> Image.Image:
    """Fidelity (y) against sharpness / original's (x, the original is the dashed line at 1):
    PSNR of every method (measure rows), then PSNR and SSIM of the upscalers alone, joined in
    order of adversarial weight (the paper's trade-off)."""
    methods = [r for r in rows if r["method"] != "original"]
    colors = {r["method"]: _COLORS[i % len(_COLORS)] for i, r in enumerate(methods)}
    models = [r for r in methods if r["method"].startswith("SR ")]
    x = "sharpness / original's"

    def short(r: dict) -> str:
        return r["method"].removeprefix("SR ")

    # the upscalers sit close together here: one label for the group, the next panels zoom in
    first = models[0]["method"] if models else None
    labels = [("upscalers" if r["method"] == first else "") if r in models else r["method"]
              for r in methods]
    panels = [scatter([(lab, r["sharpness_ratio"], r["psnr"]) for lab, r in zip(labels, methods)],
                      "PSNR (dB), all methods", x, [colors[r["method"]] for r in methods], vline=1.0)]
    for key, name in (("psnr", "PSNR (dB)"), ("ssim", "SSIM")):
        if models:
            panels.append(scatter([(short(r), r["sharpness_ratio"], r[key]) for r in models],
                                  f"{name}, upscalers only", x, [colors[r["method"]] for r in models],
                                  vline=1.0, connect=True))
    fig = Image.new("RGB", (sum(p.width for p in panels), panels[0].height + 24), "white")
    ImageDraw.Draw(fig).text((8, 4), title, fill="black", font=font(14))
    for i, panel in enumerate(panels):
        fig.paste(panel, (i * panels[0].width, 24))
    return fig
