"""``anime-gan render``: write the procedural demo dataset (and optionally a contact sheet)."""

from __future__ import annotations

import time

from omegaconf import DictConfig
from PIL import Image

from anime_gan.cli._hydra import stage
from anime_gan.data.dataset import FaceDataset, check_dataset_output, save_dataset
from anime_gan.data.render import render_dataset
from anime_gan.data.summary import format_summary, summarize
from anime_gan.data.tags import from_multi_hot
from anime_gan.viz import contact_sheet, save_png

SHEET_FACES = 64


def write_sheet(ds: FaceDataset, path: str) -> None:
    """Contact sheet of the first faces, each captioned with its tags in schema order."""
    k = min(SHEET_FACES, len(ds))
    captions = [", ".join(from_multi_hot(row)) for row in ds.labels[:k]]
    cell = max(96, 2 * ds.resolution)
    res, seed = ds.resolution, ds.info.get("seed")
    title = f"anime-gan render: {k} of {len(ds)} faces, {res}x{res}, seed {seed}"
    sheet = contact_sheet(ds.images[:k], captions, ncol=8, cell=cell, caption_lines=5, title=title)
    # flat-colored drawings: a 256-color palette looks the same at a third of the file size
    save_png(sheet.quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE), path)


@stage("render")
def main(cfg: DictConfig) -> None:
    """Render ``cfg.n`` faces, save them to ``cfg.out``, print the summary, draw the sheet."""
    check_dataset_output(cfg.out)  # before the work: a folder that is not a dataset is refused
    start = time.perf_counter()
    ds = render_dataset(cfg.n, cfg.resolution, cfg.seed, workers=cfg.workers)
    seconds = time.perf_counter() - start
    ds.info["report"] = {"render_seconds": round(seconds, 2)}
    out = save_dataset(ds, cfg.out)
    print(format_summary(summarize(ds)))
    print(f"wrote {len(ds)} faces ({ds.resolution}x{ds.resolution}) to {out} in {seconds:.1f} s")
    if cfg.sheet:
        write_sheet(ds, cfg.sheet)
        print(f"contact sheet: {cfg.sheet}")
