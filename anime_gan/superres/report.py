"""Reports of a trained upscaler (one run) and of an ``adv_weight`` sweep (a Hydra multirun).

The pictures are drawn here: the trade-off figure through :func:`anime_gan.charts.draw`, the
side-by-side sheet with Pillow (own code: :mod:`anime_gan.viz`'s grids label rows, not columns).

A run folder gets ``measure.json`` / ``measure.md`` (the PSNR/SSIM/sharpness table against
bicubic and Lanczos on the held-out pairs) and ``sheet.png`` (input, bicubic, Lanczos, the model,
original). A sweep folder gets the same table with one row per job, ``tradeoff.png`` (fidelity
against sharpness) and ``sheet.png`` ordered by adversarial weight, like the paper's Fig. 12.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from PIL import Image, ImageDraw, ImageFont
from torch import nn

from anime_gan.charts import draw
from anime_gan.superres.data import SRDataModule
from anime_gan.superres.measure import Upscale, baselines, format_table, measure
from anime_gan.superres.model import load_upscaler, upscale_images
from anime_gan.viz import save_png

log = logging.getLogger(__name__)


def comparison_sheet(columns: Sequence[tuple[str, np.ndarray]], title: str) -> Image.Image:
    """Under ``title``, one row per image, one titled column per method, e.g. input | bicubic |
    SR ... | original (the paper's Fig. 12).

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


def model_label(adv_weight: float) -> str:
    return f"SR adv={adv_weight:g}"


def _write(
    out: Path,
    rows: list[dict],
    info: dict[str, Any],
    lo: np.ndarray,
    hi: np.ndarray,
    methods: list[tuple[str, Upscale]],
    run: dict[str, Any],
    per_job: str = "",
) -> None:
    """measure.json (``info`` and the rows), measure.md and sheet.png (six pairs: input, each
    method, original) in ``out``, titled after ``run``'s recorded data, length and start."""
    start = f" from {run['init_from']}" if run.get("init_from") else ""
    title = (
        f"{len(hi)} held-out pairs of {run['data']['path']}, {lo.shape[1]} -> {hi.shape[1]} px, "
        f"{run['iteration']} iterations{per_job}{start}"
    )
    (out / "measure.json").write_text(json.dumps({**info, "rows": rows}, indent=2) + "\n")
    (out / "measure.md").write_text(f"{title}\n\n{format_table(rows)}\n")
    lo, hi = lo[:6], hi[:6]
    columns = [("input", lo), *[(name, upscale(lo)) for name, upscale in methods], ("original", hi)]
    save_png(comparison_sheet(columns, title=title), out / "sheet.png")


def run_report(
    upscaler: nn.Module, lo: np.ndarray, hi: np.ndarray, out: Path, info: dict[str, Any]
) -> list[dict]:
    """Measure one upscaler against the baselines on (lo, hi); write the table and the sheet."""
    out.mkdir(parents=True, exist_ok=True)
    methods = {**baselines(), model_label(info["adv_weight"]): partial(upscale_images, upscaler)}
    rows = measure(lo, hi, methods)
    _write(out, rows, info, lo, hi, list(methods.items()), info)
    return rows


def sweep_report(sweep_dir: str | Path) -> Path | None:
    """Gather the jobs of a sweep folder (each with a measure.json) into one table, the trade-off
    figure and the Fig. 12-like sheet; returns the table's path (None: no measured job)."""
    sweep_dir = Path(sweep_dir)
    reports = [
        (json.loads(p.read_text()), p.parent) for p in sorted(sweep_dir.glob("*/measure.json"))
    ]
    if not reports:
        log.warning("no measured job in %s: no sweep report", sweep_dir)
        return None
    jobs = sorted(reports, key=lambda job: job[0]["adv_weight"])
    first = jobs[0][0]
    base = {r["method"]: r for r in first["rows"]}
    rows, methods = [base["bicubic"], base["lanczos"]], [("bicubic", baselines()["bicubic"])]
    for info, job in jobs:
        label = model_label(info["adv_weight"])
        rows.append(next(r for r in info["rows"] if r["method"] == label))
        upscaler = load_upscaler(job / "checkpoints" / "last.ckpt")[0]
        methods.append((label, partial(upscale_images, upscaler)))
    rows.append(base["original"])
    data = first["data"]
    dm = SRDataModule(
        data["path"],
        val_fraction=data["val_fraction"],
        split_seed=data["split_seed"],
        max_val=data["val_pairs"],
    )
    dm.setup()  # the held-out pairs the jobs were measured on
    info = {"jobs": [str(job) for _, job in jobs], "data": data}
    _write(sweep_dir, rows, info, dm.val_lo, dm.val_hi, methods, first, " per job")
    save_png(tradeoff_figure(rows), sweep_dir / "tradeoff.png")
    log.info("sweep report: %s, tradeoff.png, sheet.png", sweep_dir / "measure.md")
    return sweep_dir / "measure.md"
