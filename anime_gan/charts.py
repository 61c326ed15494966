"""The reports' charts (bars, curves over training, scatter panels), drawn with matplotlib.

Figures are made with matplotlib's object API on its Agg canvas (no pyplot, so a notebook's or
a server's backend is never touched) and handed back as Pillow images, which every report
writes with :func:`anime_gan.viz.save_png`.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from PIL import Image

from anime_gan.viz import save_png

BLUE = "#4272c4"  # colours: anything matplotlib reads ("tab:blue", "grey")
GREY = "#bebebe"
DPI = 100


def draw(
    size: tuple[int, int], panels: int, paint: Callable[[Figure, list[Axes]], None]
) -> Image.Image:
    """A ``size`` px figure of ``panels`` side-by-side axes, painted by ``paint``, as an image."""
    fig = Figure(figsize=(size[0] / DPI, size[1] / DPI), dpi=DPI, layout="constrained")
    canvas = FigureCanvasAgg(fig)
    paint(fig, list(np.atleast_1d(fig.subplots(1, panels))))
    canvas.draw()
    return Image.fromarray(np.asarray(canvas.buffer_rgba())[..., :3].copy())


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    title: str,
    xlabel: str = "",
    ylabel: str = "",
    colors: Sequence[str] | None = None,
    legend: Sequence[tuple[str, str]] = (),
    horizontal: bool = False,
    value_labels: bool = True,
) -> Image.Image:
    """Bars over categories: vertical (years, a histogram) or horizontal (one row per tag)."""
    size = (820, 80 + 18 * len(labels)) if horizontal else (900, 480)

    def paint(fig: Figure, axes: list[Axes]) -> None:
        ax = axes[0]
        at = np.arange(len(labels))
        bars = (ax.barh if horizontal else ax.bar)(at, values, color=colors or BLUE)
        if horizontal:
            ax.set_yticks(at, labels, fontsize=8)
            ax.invert_yaxis()
        else:
            ax.set_xticks(at, labels, rotation=90 if len(labels) > 12 else 0, fontsize=8)
        if value_labels:
            ax.bar_label(bars, fontsize=7, padding=2)
        ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
        ax.grid(axis="x" if horizontal else "y", color="#e4e4e4")
        ax.set_axisbelow(True)
        if legend:
            ax.legend(handles=[Patch(color=c, label=t) for t, c in legend], fontsize=8)

    return draw(size, 1, paint)


def save_curve(
    points: Sequence[tuple[int, float]], folder: str | Path, name: str, title: str, ylabel: str
) -> Path:
    """A metric over training iterations (the paper's Fig. 10), one marker per value, as
    ``<folder>/<name>.png``, and its values as ``<folder>/<name>.csv``; returns the PNG."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{name}.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["iteration", ylabel])
        writer.writerows(points)

    def paint(fig: Figure, axes: list[Axes]) -> None:
        ax = axes[0]
        if points:
            ax.plot(*zip(*points), marker="o", markersize=4, color="tab:blue")
        else:
            ax.text(0.5, 0.5, "no values yet", ha="center", color="grey", transform=ax.transAxes)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set(title=title, xlabel="iteration", ylabel=ylabel)
        ax.grid(color="#e4e4e4")

    return save_png(draw((560, 340), 1, paint), folder / f"{name}.png")
