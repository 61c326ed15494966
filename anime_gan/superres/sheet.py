"""Pictures of the upscaler: the side-by-side sheet (paper Fig. 12, Pillow) and the trade-off
figure (matplotlib)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from PIL import Image, ImageDraw, ImageFont

from anime_gan.charts import draw


def comparison_sheet(columns: Sequence[tuple[str, np.ndarray]], title: str) -> Image.Image:
    """Under ``title``, one row per image, one titled column per method, e.g. input | bicubic |
    SR ... | original.

    Every column holds uint8 ``[N, H, W, 3]`` images; smaller ones (the input) are enlarged with
    nearest-neighbour to the largest size, so their pixels show. Everything is then enlarged
    twice (nearest), so that the differences between methods are visible.
    """
    side = max(images.shape[1] for _, images in columns) * 2
    n = min(len(images) for _, images in columns)
    pad, head = 4, 34
    sheet = Image.new(
        "RGB", (pad + len(columns) * (side + pad), head + n * (side + pad) + pad), "white"
    )
    pen, f = ImageDraw.Draw(sheet), ImageFont.load_default(size=12)
    pen.text((pad, 2), title, fill="black", font=f)
    for c, (name, images) in enumerate(columns):
        x = pad + c * (side + pad)
        pen.text((x + 2, head - 16), name, fill="black", font=f)
        for r in range(n):
            tile = Image.fromarray(images[r]).resize((side, side), Image.NEAREST)
            sheet.paste(tile, (x, head + r * (side + pad)))
    return sheet


def tradeoff_figure(rows: Sequence[dict]) -> Image.Image:
    """Fidelity (y) against sharpness / original's (x, the original is the dashed line at 1):
    PSNR of every method (measure rows), then PSNR and SSIM of the upscalers alone, joined in
    order of adversarial weight (the paper's trade-off)."""
    methods = [r for r in rows if r["method"] != "original"]
    colors = {r["method"]: f"C{i % 10}" for i, r in enumerate(methods)}
    models = [r for r in methods if r["method"].startswith("SR ")]
    panels = [("PSNR (dB), all methods", "psnr", methods, False)] + [
        (f"{name}, upscalers only", key, models, True)
        for key, name in (("psnr", "PSNR (dB)"), ("ssim", "SSIM"))
        if models
    ]

    def paint(fig: Figure, axes: list[Axes]) -> None:
        fig.suptitle("2x upscaling: fidelity against sharpness")
        for ax, (name, key, chosen, connect) in zip(axes, panels):
            xs, ys = [r["sharpness_ratio"] for r in chosen], [r[key] for r in chosen]
            if connect:
                ax.plot(xs, ys, color="#aaaaaa", linewidth=1, zorder=1)
            ax.scatter(xs, ys, c=[colors[r["method"]] for r in chosen], zorder=2)
            for r, x, y in zip(chosen, xs, ys):
                ax.annotate(
                    r["method"].removeprefix("SR ") if connect else r["method"],
                    (x, y),
                    xytext=(5, 3),
                    textcoords="offset points",
                    fontsize=7,
                    color=colors[r["method"]],
                )
            ax.axvline(1.0, color="grey", linestyle="--", linewidth=1)
            ax.set(title=name, xlabel="sharpness / original's")
            ax.margins(x=0.25, y=0.15)

    return draw((400 * len(panels), 384), len(panels), paint)
