"""The build stage's stats report: one folder with the paper's dataset tables and figures.

::

    report.json      every number below, plus the build's counts (kept, rejected, filtered...)
    tags.md          tag counts as in the paper's Table 1, with the paper's counts beside them
    tags.png         the same as a bar chart, one colour per tag group
    years.png        images by release year (Fig. 13); bars the year filter leaves out are grey
    short_edge.png   the training images by the short edge of their crop in source px (Fig. 14)
    mean_faces.png   the average face of each release year, over up to 1,000 crops (Fig. 6)
    tsne.png         thumbnails at the t-SNE map of their Illustration2Vec features (Fig. 2);
                     only when feature weights are configured
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.ticker import MaxNLocator
from PIL import Image

from anime_gan.charts import BLUE, GREY, bar_chart
from anime_gan.data.tags import GROUPS, TAG_NAMES, TAGS
from anime_gan.outputs import write_json_atomic
from anime_gan.viz import contact_sheet, save_png

#: The paper's Table 1: images per estimated tag in its dataset; approximate.
PAPER_TABLE1: dict[str, int] = dict(
    zip(
        TAG_NAMES,
        map(
            int,
            """
            4991 6659 4842 3289 2486 2972 1115 2417 987 573 699 168 57
            16562 1403 5360 1683 8861
            4926 5583 4192 1403 5360 1683
            8861 4926 5583 4192 4442 1700 319 193 990 49
            """.split(),
        ),
    )
)  # one line per tag group; the paper's table repeats some counts
GROUP_COLORS = {
    "hair_color": "#d6604d",
    "hair_style": "#4272c4",
    "other": "#5aa05a",
    "eye_color": "#9664be",
}
UNKNOWN_YEAR = "unknown"


def tag_counts(labels: np.ndarray, known: np.ndarray) -> dict[str, dict[str, Any]]:
    """Per tag: images showing it, images where it is known, and the paper's count."""
    labels, known = np.asarray(labels, np.int64), np.asarray(known, np.int64)
    return {
        name: {
            "count": int(labels[:, i].sum()),
            "known": int(known[:, i].sum()),
            "paper": PAPER_TABLE1[name],
        }
        for i, name in enumerate(TAG_NAMES)
    }


def tags_markdown(counts: dict[str, dict[str, Any]], total: int) -> str:
    """Table 1 of the paper for this dataset, as markdown."""
    lines = [
        f"# Tag counts ({total} images)",
        "",
        "| group | tag | images | share | paper (Table 1) |",
        "|---|---|---:|---:|---:|",
    ]
    for group in GROUPS:
        for name in group.tags:
            c = counts[name]
            share = f"{100.0 * c['count'] / total:.1f}%" if total else "-"
            lines.append(f"| {group.name} | {name} | {c['count']} | {share} | {c['paper']} |")
    return "\n".join(lines) + "\n"


def tags_chart(counts: dict[str, dict[str, Any]], total: int) -> Image.Image:
    """Table 1 as a bar chart (images per tag, one colour per tag group) from :func:`tag_counts`."""
    colors = [GROUP_COLORS[t.group] for t in TAGS]
    legend = [(k.replace("_", " "), c) for k, c in GROUP_COLORS.items()]
    return bar_chart(
        list(TAG_NAMES),
        [counts[n]["count"] for n in TAG_NAMES],
        f"Images per estimated tag, {total} images (Table 1)",
        xlabel="images",
        colors=colors,
        legend=legend,
        horizontal=True,
    )


def default_report_dir(dataset: str | Path) -> Path:
    """Where the build stage writes a dataset's report: ``<dataset>/report``, or
    ``<stem>_report`` beside a ``.zip``."""
    dataset = Path(dataset)
    if dataset.suffix == ".zip":
        return dataset.with_name(f"{dataset.stem}_report")
    return dataset / "report"


def report_figures(report_dir: str | Path) -> list[Path]:
    """The figures of a report folder in the order report.json lists them; [] when there is
    no report."""
    folder = Path(report_dir)
    if not (folder / "report.json").is_file():
        return []
    files = json.loads((folder / "report.json").read_text(encoding="utf-8")).get("files", [])
    return [folder / f for f in files if f.endswith(".png") and (folder / f).is_file()]


def year_key(year: Any) -> str:
    return UNKNOWN_YEAR if year is None else str(int(year))


def sorted_years(keys: Iterable[str]) -> list[str]:
    """Year keys (:func:`year_key`) ascending, the unknown year last."""
    return sorted(keys, key=lambda k: math.inf if k == UNKNOWN_YEAR else int(k))


def years_chart(available: Counter, passes: Sequence[str]) -> Image.Image:
    """Fig. 13: images by release year; the years the filter keeps are blue, the others grey."""
    keys = sorted_years(available)
    colors = [BLUE if k in passes else GREY for k in keys]
    return bar_chart(
        keys,
        [available[k] for k in keys],
        "Face crops by release year (Fig. 13)",
        xlabel="release year",
        ylabel="images",
        colors=colors,
        legend=[("kept by the year filter", BLUE), ("left out", GREY)],
    )


def edge_histogram(edges: Sequence[int], bins: int = 30) -> tuple[list[int], list[int], int]:
    """Bin starts, counts and bin width (a round number) of short-edge sizes."""
    if not len(edges):
        return [], [], 1
    lo, hi = int(min(edges)), int(max(edges))
    ticks = MaxNLocator(nbins=bins, steps=[1, 2, 5, 10], integer=True).tick_values(0, hi - lo)
    width = max(1, int(ticks[1] - ticks[0]))
    start = lo // width * width
    n = (hi - start) // width + 1
    counts = np.bincount((np.asarray(edges, np.int64) - start) // width, minlength=n)
    return [start + i * width for i in range(n)], [int(c) for c in counts], width


def tsne_map(
    coords: np.ndarray, thumbs: np.ndarray, size: int = 1600, thumb: int = 40
) -> Image.Image:
    """Fig. 2: each image's thumbnail drawn at its t-SNE position."""
    canvas = Image.new("RGB", (size, size), "white")
    lo, hi = coords.min(axis=0), coords.max(axis=0)
    pos = (coords - lo) / np.maximum(hi - lo, 1e-9) * (size - thumb)
    for (x, y), img in zip(pos, thumbs):
        tile = Image.fromarray(img).resize((thumb, thumb), Image.Resampling.BILINEAR)
        canvas.paste(tile, (int(x), int(y)))
    return canvas


def write_report(
    report_dir: str | Path,
    stats: dict[str, Any],
    labels: np.ndarray,
    known: np.ndarray,
    years_available: Counter,
    years_passing: Sequence[str],
    short_edges: Sequence[int],
    means: Sequence[tuple[str, np.ndarray, int]],
    tsne: tuple[np.ndarray, np.ndarray] | None = None,
) -> dict[str, Any]:
    """Write the report folder (see the module docstring); returns report.json's content."""
    out = Path(report_dir)
    out.mkdir(parents=True, exist_ok=True)
    for stale in ("tsne.png", "mean_faces.png"):
        (out / stale).unlink(missing_ok=True)
    counts = tag_counts(labels, known)
    (out / "tags.md").write_text(tags_markdown(counts, len(labels)), encoding="utf-8")
    save_png(tags_chart(counts, len(labels)), out / "tags.png")
    save_png(years_chart(years_available, years_passing), out / "years.png")
    starts, hist, width = edge_histogram(short_edges)
    save_png(
        bar_chart(
            [str(s) for s in starts],
            hist,
            f"Training images by short edge of the source crop (Fig. 14), {width}-px bins",
            xlabel="short edge of the 1.5x box in the source image (px)",
            ylabel="images",
            value_labels=len(starts) <= 30,
        ),
        out / "short_edge.png",
    )
    files = ["report.json", "tags.md", "tags.png", "years.png", "short_edge.png"]
    if means:  # Fig. 6: the average crop of each release year, with its sample count
        sheet = contact_sheet(
            np.stack([m for _, m, _ in means]),
            [f"{y} (n={n})" for y, _, n in means],
            ncol=min(len(means), 8),
            cell=max(96, means[0][1].shape[0]),
            caption_lines=1,
            title="Average face per release year (Fig. 6)",
        )
        save_png(sheet, out / "mean_faces.png")
        files.append("mean_faces.png")
    if tsne is not None:
        save_png(tsne_map(*tsne), out / "tsne.png")
        files.append("tsne.png")
    short_edge = {"bin_width": width, "bins": starts, "counts": hist}
    if len(short_edges):
        short_edge.update(
            min=int(min(short_edges)),
            median=float(np.median(short_edges)),
            max=int(max(short_edges)),
        )
    report = {
        **stats,
        "tags": counts,
        "years": {
            "available": dict(sorted(years_available.items())),
            "passing": list(years_passing),
        },
        "short_edge": short_edge,
        "mean_faces": {y: n for y, _, n in means},
        "tsne": None if tsne is None else {"images": int(len(tsne[0]))},
        "files": files,
    }
    write_json_atomic(out / "report.json", report, default=lambda obj: obj.item())  # numpy scalars
    return report
