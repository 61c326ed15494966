"""Face detection (paper 3.1): lbpcascade_animeface through OpenCV, 1.5x zoomed crops.

Each source image is read as RGB (transparency on white), turned grey, histogram-equalized and
passed to ``detectMultiScale(scaleFactor=1.1, minNeighbors=5, minSize=(24, 24))``. Each box is
zoomed out 1.5x about its centre (:func:`~anime_gan.faces.geometry.zoom_box`), cropped with the
configured border policy, resized to the master resolution (256 px by default, from which
``build`` makes any training resolution) and saved as ``crops/<id>.png``; see
:mod:`anime_gan.faces.records` for the folder layout and how a run resumes.

Only the OpenCV backend is offered. The PyPI ``animeface`` detector reads Pillow internals and
silently finds nothing with Pillow >= 12 (docs/design.md, known traps), which this project requires; pinning an old
Pillow for one optional backend would hold back every other stage.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageOps
from tqdm import tqdm

from anime_gan.errors import UserError
from anime_gan.faces.geometry import (
    BORDER_POLICIES,
    PAD_MODES,
    crop_box_pixels,
    inside,
    resize_square,
    zoom_box,
)
from anime_gan.faces.records import (
    CROPS_DIR,
    DONE_FILE,
    FACES_FILE,
    SUMMARY_FILE,
    read_done,
)
from anime_gan.faces.sources import Source, list_sources
from anime_gan.jsonl import append_jsonl, repair_tail
from anime_gan.limits import DEFAULT_MAX_PIXELS, check_pixels
from anime_gan.outputs import DETECT, check_output, write_json_atomic
from anime_gan.viz import save_png


@dataclass
class DetectParams:
    """Detector and crop settings; the defaults are the paper's and the cascade's own."""

    scale_factor: float = 1.1
    min_neighbors: int = 5
    min_size: int = 24  # the cascade's minSize, in source pixels
    equalize_hist: bool = True
    zoom: float = 1.5  # the paper's zoom-out of the detector box
    border: str = "pad"  # "pad" or "skip" (see anime_gan.faces.geometry)
    pad_mode: str = "replicate"  # "replicate" or "constant"
    pad_value: int = 255
    min_face: int = 0  # drop faces whose zoomed box is smaller (source px); 0 keeps all
    master_resolution: int = 256  # side of the saved crops

    def __post_init__(self) -> None:
        if self.border not in BORDER_POLICIES or self.pad_mode not in PAD_MODES:
            raise UserError(
                f"border={self.border!r}, pad_mode={self.pad_mode!r}: the border policy must be "
                f"one of {BORDER_POLICIES} and the pad mode one of {PAD_MODES}."
            )
        if self.scale_factor <= 1.0 or self.zoom <= 0 or self.master_resolution < 8:
            raise UserError(
                "detector settings out of range: scale_factor must exceed 1, zoom be "
                "positive and master_resolution at least 8."
            )


@dataclass
class DetectResult:
    """Counts of one run (``processed`` excludes the sources skipped because already done)."""

    out: Path
    sources: int = 0
    already_done: int = 0
    processed: int = 0
    faces: int = 0
    unreadable: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    dropped_border: int = 0
    dropped_small: int = 0


class FaceDetector:
    """lbpcascade_animeface with the paper's parameters; ``detect`` returns (x, y, w, h) boxes."""

    def __init__(self, cascade_path: str | Path, params: DetectParams) -> None:
        self.classifier = cv2.CascadeClassifier(str(cascade_path))
        if self.classifier.empty():
            raise UserError(
                f"OpenCV cannot load the cascade {cascade_path}: replace it with "
                f"lbpcascade_animeface.xml (see anime_gan.faces.cascade)."
            )
        self.params = params

    def detect(self, rgb: np.ndarray) -> list[tuple[int, int, int, int]]:
        """Face boxes in an RGB uint8 image, sorted top to bottom, then left to right."""
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        if self.params.equalize_hist:
            gray = cv2.equalizeHist(gray)
        boxes = self.classifier.detectMultiScale(
            gray,
            scaleFactor=self.params.scale_factor,
            minNeighbors=self.params.min_neighbors,
            minSize=(self.params.min_size,) * 2,
        )
        return sorted((tuple(int(v) for v in b) for b in boxes), key=lambda b: (b[1], b[0]))


def read_rgb(path: str | Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """An image file as RGB uint8 [H, W, 3] (transparency composited on white); raises OSError
    (or ValueError, e.g. over ``max_pixels``) for a file that is not a usable image."""
    with Image.open(path) as image:
        check_pixels(image, max_pixels)  # refused from the header, before decoding
        image.load()
        image = ImageOps.exif_transpose(image)
        if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
            rgba = image.convert("RGBA")
            image = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba)
        return np.asarray(image.convert("RGB"))


# Per-process state: the detector is built once per worker by the pool's initializer.
_WORKER: dict[str, Any] = {}


def _init_worker(cascade_path: str, params: DetectParams, crops_dir: str, max_pixels: int) -> None:
    cv2.setNumThreads(1)  # one image per process; OpenCV's own threads would oversubscribe
    _WORKER.update(
        detector=FaceDetector(cascade_path, params),
        crops_dir=Path(crops_dir),
        max_pixels=max_pixels,
    )


def _process_source(src: Source) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Detect, crop and save the faces of one source; returns its done row and its face rows."""
    detector: FaceDetector = _WORKER["detector"]
    params, crops_dir = detector.params, _WORKER["crops_dir"]
    done: dict[str, Any] = {"source_path": src.key, "id": src.id, "faces": 0, "status": "ok"}
    try:
        rgb = read_rgb(src.path, _WORKER["max_pixels"])
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as e:
        reason = {"error": f"{type(e).__name__}: {e}"[:300], "file_stat": _file_stat(src.path)}
        return {**done, "status": "unreadable", **reason}, []
    height, width = rgb.shape[:2]
    rows, dropped = [], {"border": 0, "small": 0}
    for k, box in enumerate(detector.detect(rgb)):
        crop_box = zoom_box(box, params.zoom)
        side = crop_box[2] - crop_box[0]
        if side < params.min_face:
            dropped["small"] += 1
            continue
        pixels = crop_box_pixels(rgb, crop_box, params.border, params.pad_mode, params.pad_value)
        if pixels is None:
            dropped["border"] += 1
            continue
        face_id = f"{src.id}_{k}"  # k: the box's rank on the image, stable across policies
        save_png(resize_square(pixels, params.master_resolution), crops_dir / f"{face_id}.png")
        rows.append(
            {
                "id": face_id,
                "file": f"{CROPS_DIR}/{face_id}.png",
                "source_path": src.key,
                "source": src.source,
                "box": list(box),
                "crop_box": list(crop_box),
                "short_edge": side,
                "padded": not inside(crop_box, width, height),
                "image_size": [width, height],
                "year": src.year,
                "game_id": src.game_id,
                "release_date": src.release_date,
                "source_sha256": src.sha256,
            }
        )
    return {**done, "faces": len(rows), "dropped": dropped, "image_size": [width, height]}, rows


def run_detect(
    input_dir: str | Path,
    out_dir: str | Path,
    cascade_path: str | Path,
    params: DetectParams | None = None,
    workers: int = 0,
    year_regex: str | None = None,
    limit: int | None = None,
    progress: bool = True,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> DetectResult:
    """Detect faces in every source under ``input_dir`` not yet done in ``out_dir``.

    ``workers``: processes (0 = one per CPU core, 1 = in this process). ``limit`` caps the
    number of sources handled in this run (for a quick look); the next run goes on from there.
    An image over ``max_pixels`` is recorded as unreadable without being decoded. ``out_dir``
    must be new or a detect folder made from the same input with the same settings (recorded in
    ``detect.json``); a source once unreadable is tried again when its file changed.
    """
    params = params or DetectParams()
    out = check_output(out_dir, DETECT, {"input": input_dir})
    # what the crops depend on: a rerun must use the same
    settings = {
        "input": str(Path(input_dir).resolve()),
        "year_regex": year_regex,
        "params": asdict(params),
    }
    sources, missing = list_sources(input_dir, year_regex, exclude=[out])
    _check_same_settings(out, settings)
    (out / CROPS_DIR).mkdir(parents=True, exist_ok=True)
    for name in (FACES_FILE, DONE_FILE):  # a kill mid-line: the next row must not glue onto it
        repair_tail(out / name)
    done = read_done(out)
    todo = [s for s in sources if _needs_work(s, done.get(s.key))]
    result = DetectResult(out, len(sources), len(sources) - len(todo), missing=missing)
    _write_summary(out, result, settings, cascade_path)  # the manifest, before any crop
    todo = todo[:limit]  # None: all
    workers = min(workers or os.cpu_count() or 1, len(todo))
    init = (str(cascade_path), params, str(out / CROPS_DIR), max_pixels)
    with (
        open(out / FACES_FILE, "a", encoding="utf-8") as faces_f,
        open(out / DONE_FILE, "a", encoding="utf-8") as done_f,
        tqdm(total=len(todo), desc="detect", unit="img", disable=not progress) as bar,
        ExitStack() as stack,
    ):
        if workers <= 1:
            _init_worker(*init)
            results = map(_process_source, todo)
        else:
            pool = stack.enter_context(mp.get_context().Pool(workers, _init_worker, init))
            results = pool.imap_unordered(_process_source, todo, chunksize=4)
        for row, faces in results:  # face rows first, then the done row (the commit point)
            append_jsonl(faces_f, faces, ensure_ascii=False)
            append_jsonl(done_f, [row], ensure_ascii=False)
            result.processed += 1
            result.faces += len(faces)
            if row["status"] == "unreadable":
                result.unreadable.append(row["source_path"])
            dropped = row.get("dropped", {})
            result.dropped_border += dropped.get("border", 0)
            result.dropped_small += dropped.get("small", 0)
            bar.update(1)
    _write_summary(out, result, settings, cascade_path)
    return result


def _check_same_settings(out: Path, settings: dict[str, Any]) -> None:
    """Refuse to resume ``out`` with other settings than the ones its crops were made with."""
    try:
        before = json.loads((out / SUMMARY_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if "input" in before and Path(before["input"]).resolve() != Path(settings["input"]):
        raise UserError(
            f"{out} holds the faces of input={before['input']}, not of "
            f"input={settings['input']}: give that input to resume, or choose a new "
            f"out= folder."
        )

    def flat(s: dict[str, Any]) -> dict[str, Any]:
        """The settings a rerun must repeat, as ``key=value`` names (a summary without
        year_regex counts as the current one)."""
        params = {f"detector.{k}": v for k, v in (s.get("params") or {}).items()}
        return {"year_regex": s.get("year_regex", settings["year_regex"]), **params}

    now = flat(settings)
    for key, value in flat(before).items():
        if now.get(key, value) != value:
            raise UserError(
                f"{out} was made with {key}={value}, not {now[key]}: rerun with "
                f"{key}={value} to resume, or choose a new out= folder for the new "
                f"settings."
            )


def _file_stat(path: str) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


def _needs_work(src: Source, done: dict[str, Any] | None) -> bool:
    """Not done yet, or unreadable last time and the file has changed since (or is unknown)."""
    return done is None or (
        done.get("status") == "unreadable" and done.get("file_stat") != _file_stat(src.path)
    )


def _write_summary(
    out: Path, result: DetectResult, settings: dict[str, Any], cascade_path: str | Path
) -> None:
    """detect.json: the folder's manifest (the settings its crops were made with) and counts."""
    done = read_done(out)
    summary = {
        "stage": "detect",
        **settings,
        "cascade": str(cascade_path),
        "last_run": {k: v for k, v in asdict(result).items() if k != "out"},
        "total": {
            "sources_done": len(done),
            "faces": sum(int(r.get("faces", 0)) for r in done.values()),
            "unreadable": sum(r.get("status") == "unreadable" for r in done.values()),
            "no_face": sum(r.get("status") == "ok" and not r.get("faces") for r in done.values()),
        },
    }
    write_json_atomic(out / SUMMARY_FILE, summary)
