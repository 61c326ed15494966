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

from anime_gan.superres.data import SRDataModule, resize_bicubic
from anime_gan.superres.measure import baselines, format_table, measure
from anime_gan.superres.model import load_upscaler, upscale_images
from anime_gan.superres.sheet import comparison_sheet, tradeoff_figure
from anime_gan.viz import save_png

log = logging.getLogger(__name__)
SHEET_ROWS = 6


def model_label(adv_weight: float) -> str:
    return f"SR adv={adv_weight:g}"


def held_out_pairs(data: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """The held-out (input, original) pairs a run was measured on, from its recorded data info."""
    dm = SRDataModule(
        data["path"],
        val_fraction=data["val_fraction"],
        split_seed=data["split_seed"],
        max_val=data["val_pairs"],
    )
    dm.setup()
    return dm.val_lo, dm.val_hi


def _write(out: Path, name: str, rows: list[dict], info: dict[str, Any], title: str) -> None:
    (out / f"{name}.json").write_text(json.dumps({**info, "rows": rows}, indent=2) + "\n")
    (out / f"{name}.md").write_text(f"{title}\n\n{format_table(rows)}\n")


def run_report(
    upscaler: nn.Module, lo: np.ndarray, hi: np.ndarray, out: str | Path, info: dict[str, Any]
) -> list[dict]:
    """Measure one upscaler against the baselines on (lo, hi); write the table and the sheet."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    label = model_label(float(info.get("adv_weight", 0.0)))
    rows = measure(lo, hi, {**baselines(), label: partial(upscale_images, upscaler)})
    start = f" from {info['init_from']}" if info.get("init_from") else ""
    title = (
        f"{len(hi)} held-out pairs of {info.get('data', {}).get('path', '?')}, "
        f"{lo.shape[1]} -> {hi.shape[1]} px, {info.get('iteration', '?')} iterations{start}"
    )
    _write(out, "measure", rows, info, title)
    k = min(SHEET_ROWS, len(hi))
    columns = [
        ("input", lo[:k]),
        *[(name, fn(lo[:k])) for name, fn in baselines().items()],
        (label, upscale_images(upscaler, lo[:k])),
        ("original", hi[:k]),
    ]
    save_png(comparison_sheet(columns, title=title), out / "sheet.png")
    return rows


def _jobs(sweep_dir: Path) -> list[tuple[dict[str, Any], Path]]:
    jobs = []
    for path in sorted(sweep_dir.glob("*/measure.json")):
        info = json.loads(path.read_text())
        jobs.append((info, path.parent / "checkpoints" / "last.ckpt"))
    return sorted(jobs, key=lambda j: float(j[0].get("adv_weight", 0.0)))


def sweep_report(sweep_dir: str | Path) -> Path | None:
    """Gather the jobs of a sweep folder (each with a measure.json) into one table, the trade-off
    figure and the Fig. 12-like sheet; returns the table's path (None: no measured job)."""
    sweep_dir = Path(sweep_dir)
    jobs = _jobs(sweep_dir)
    if not jobs:
        log.warning("no measured job in %s: no sweep report", sweep_dir)
        return None
    first = jobs[0][0]
    base = {r["method"]: r for r in first["rows"]}
    rows = [base["bicubic"], base["lanczos"]]
    for info, _ in jobs:
        label = model_label(float(info["adv_weight"]))
        rows.append(next(r for r in info["rows"] if r["method"] == label))
    rows.append(base["original"])
    lo, hi = held_out_pairs(first["data"])
    start = f" from {first['init_from']}" if first.get("init_from") else ""
    title = (
        f"{len(hi)} held-out pairs of {first['data']['path']}, {lo.shape[1]} -> {hi.shape[1]} "
        f"px, {first.get('iteration', '?')} iterations per job{start}"
    )
    _write(
        sweep_dir,
        "measure",
        rows,
        {"jobs": [str(c.parent.parent) for _, c in jobs], "data": first["data"]},
        title,
    )
    save_png(tradeoff_figure(rows), sweep_dir / "tradeoff.png")
    k = min(SHEET_ROWS, len(hi))
    columns = [("input", lo[:k]), ("bicubic", resize_bicubic(lo[:k], 2 * lo.shape[1]))]
    for info, ckpt in jobs:
        upscaler = load_upscaler(ckpt)[0]
        columns.append((model_label(float(info["adv_weight"])), upscale_images(upscaler, lo[:k])))
    columns.append(("original", hi[:k]))
    save_png(comparison_sheet(columns, title=title), sweep_dir / "sheet.png")
    log.info("sweep report: %s, tradeoff.png, sheet.png", sweep_dir / "measure.md")
    return sweep_dir / "measure.md"
