"""Reports of a trained upscaler (one run) and of an ``adv_weight`` sweep (a Hydra multirun).

A run folder gets ``measure.json`` / ``measure.md`` (the PSNR/SSIM/sharpness table against
bicubic and Lanczos on the held-out pairs) and ``sheet.png`` (input, bicubic, Lanczos, the model,
original). A sweep folder gets the same table with one row per job, ``tradeoff.png`` (fidelity
against sharpness) and ``sheet.png`` ordered by adversarial weight, like the paper's Fig. 12.
"""

from __future__ import annotations

import json
import logging
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn

from anime_gan.superres.data import SRDataModule
from anime_gan.superres.measure import Upscale, baselines, format_table, measure
from anime_gan.superres.model import load_upscaler, upscale_images
from anime_gan.superres.sheet import comparison_sheet, tradeoff_figure
from anime_gan.viz import save_png

log = logging.getLogger(__name__)


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
