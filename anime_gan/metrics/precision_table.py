"""Table 2 as files: CSV + markdown with the paper's values and the judge's own reliability,
one contact sheet per tag and an overview sheet."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from anime_gan.data.tags import TAGS
from anime_gan.metrics.precision import PrecisionResult
from anime_gan.viz import contact_sheet, save_png

#: The paper's Table 2 (judged by hand, 20 samples per tag; paper 5.3.1).
PAPER_PRECISION: dict[str, float] = {
    "blonde hair": 1.00,
    "brown hair": 1.00,
    "black hair": 1.00,
    "blue hair": 0.70,
    "pink hair": 0.80,
    "purple hair": 0.75,
    "green hair": 0.90,
    "red hair": 0.95,
    "silver hair": 0.85,
    "white hair": 0.60,
    "orange hair": 0.65,
    "aqua hair": 1.00,
    "gray hair": 0.35,
    "long hair": 1.00,
    "short hair": 1.00,
    "twintails": 0.60,
    "drill hair": 0.20,
    "ponytail": 0.45,
    "blush": 1.00,
    "smile": 0.95,
    "open mouth": 0.95,
    "hat": 0.15,
    "ribbon": 0.85,
    "glasses": 0.45,
    "blue eyes": 1.00,
    "red eyes": 1.00,
    "brown eyes": 1.00,
    "green eyes": 1.00,
    "purple eyes": 0.95,
    "yellow eyes": 1.00,
    "pink eyes": 0.60,
    "aqua eyes": 1.00,
    "black eyes": 0.80,
    "orange eyes": 0.85,
}


def precision_rows(result: PrecisionResult, judge: Any, per_tag: int) -> list[dict[str, Any]]:
    """One row per tag of the schema (skipped tags included, with the reason); its keys are the
    CSV's columns."""
    held = (judge.held_out or {}).get("tags", {})
    rows = []
    for tag in TAGS:
        h = held.get(tag.name, {})
        rows.append(
            {
                "tag": tag.name,
                "group": tag.group,
                "precision": result.precision.get(tag.name),
                "samples": per_tag if tag.name in result.precision else 0,
                "paper": PAPER_PRECISION[tag.name],
                "judge_precision": h.get("precision"),
                "judge_recall": h.get("recall"),
                "judge_support": h.get("support"),
                "note": result.skipped.get(tag.name, ""),
            }
        )
    return rows


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def write_precision_table(
    rows: list[dict[str, Any]], out: str | Path, judge_name: str
) -> tuple[Path, Path]:
    """``precision.csv`` and ``precision.md`` in ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "precision.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    judged = [r for r in rows if r["precision"] is not None]
    mean = np.mean([r["precision"] for r in judged])  # a judge knows a tag: judge-train checks
    paper_mean = np.mean([r["paper"] for r in judged])
    lines = [
        f"Per-label precision (paper Table 2): share of samples generated with the tag fixed "
        f"that the judge ({judge_name}) sees the tag in. Paper: judged by hand. Judge columns: "
        f"the judge's own precision/recall on held-out real images (how far to trust its verdict; "
        f"on samples unlike any real image, e.g. early in training, its verdicts mean little).",
        "",
        f"Mean over the {len(judged)} judged tags: {mean:.3f} (the paper on the same tags: "
        f"{paper_mean:.3f}).",
        "",
        "| tag | precision | samples | paper | judge precision | judge recall "
        "| held-out positives | note |",
        "|---|---|---|---|---|---|---|---|",
    ]
    shown = [k for k in rows[0] if k != "group"]  # the markdown table has no group column
    lines += ["| " + " | ".join(_fmt(r[k]) for k in shown) + " |" for r in rows]
    (out / "precision.md").write_text("\n".join(lines) + "\n")
    return out / "precision.csv", out / "precision.md"


def write_precision_sheets(result: PrecisionResult, out: str | Path) -> list[Path]:
    """``sheets/<tag>.png`` (every sample, ten to a row, captioned with the verdict and
    probability) and ``overview.png`` (the first samples of each tag, one row per tag, framed
    by verdict)."""
    out = Path(out)
    paths = []
    for tag, images in result.images.items():
        shown, probs = result.shown[tag], result.probs[tag]
        caps = [f"{'yes' if s else 'NO'} p={p:.2f}" for s, p in zip(shown, probs)]
        title = f"{tag}: precision {result.precision[tag]:.2f} ({int(shown.sum())}/{len(images)})"
        sheet = contact_sheet(images, caps, ncol=10, cell=64, caption_lines=1, title=title)
        paths.append(save_png(sheet, out / "sheets" / f"{tag.replace(' ', '_')}.png"))
    if result.images:
        paths.append(save_png(verdict_overview(result), out / "overview.png"))
    return paths


def verdict_overview(result: PrecisionResult, per_tag: int = 8) -> Image.Image:
    """One row per tag (label: tag and precision), its first samples framed green where the
    judge sees the tag and red where it does not."""
    res = next(iter(result.images.values())).shape[1]
    side = res * max(1, 64 // res)
    cell, margin, top = side + 6, 130, 20
    size = (margin + per_tag * cell + 4, top + len(result.images) * cell + 4)
    sheet = Image.new("RGB", size, "white")
    draw, font = ImageDraw.Draw(sheet), ImageFont.load_default()
    draw.text(
        (4, 4),
        "per-label precision: samples per fixed tag (frame: green = judge sees the tag, red = not)",
        fill="black",
        font=font,
    )
    for r, tag in enumerate(result.images):
        y = top + r * cell
        label = f"{tag}  {result.precision[tag]:.2f}"
        draw.text((4, y + cell // 2 - 6), label, fill="black", font=font)
        for k, (img, shown) in enumerate(zip(result.images[tag][:per_tag], result.shown[tag])):
            x = margin + k * cell
            frame = (40, 170, 60) if shown else (210, 40, 40)  # green: the judge sees the tag
            draw.rectangle([x, y, x + side + 3, y + side + 3], fill=frame)
            sheet.paste(Image.fromarray(img).resize((side, side), Image.NEAREST), (x + 2, y + 2))
    return sheet


def wandb_table_rows(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    """Columns and data for a W&B table (``WandbLogger.log_table``)."""
    return list(rows[0]), [list(r.values()) for r in rows]
