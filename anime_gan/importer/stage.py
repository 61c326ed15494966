"""Import any folder or zip of images (plus an optional tags CSV) as a dataset.

The quick way to a training set without crawling: the two shared face sets, a folder of one's
own drawings, a Kaggle zip. Files are picked by extension (:data:`IMAGE_EXTENSIONS`), decoded
robustly (:mod:`anime_gan.importer.decode`: unusable files are skipped and counted by
reason, any mode becomes RGB), made square and resized, and labelled from the tags CSV
(:mod:`anime_gan.importer.tags_csv`); an image without a CSV row is unlabelled (known all 0). The
release year comes from the file name (``<id>_<year>.jpg`` by default, as in getchu64) and
``min_year`` keeps only recent images, as the paper does (after 2005: ``min_year=2006``;
:mod:`anime_gan.importer.years`).

Everything worth checking ends in the report (returned, and stored as ``info["report"]``):
skips by reason with example names, mode conversions, the year filter, raw tag counts as read
from the CSV, tags that are not among the 34, and the partial-label decisions. The output is
written atomically (:func:`save_dataset`), so an interrupted import leaves the previous dataset
at ``out`` as it was, and ``out`` must be new, empty or an earlier dataset (never the source or
a folder holding it): anything else is refused before any work (:mod:`anime_gan.outputs`).
"""

from __future__ import annotations

import logging
import posixpath
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from PIL import ImageFile
from tqdm import tqdm

from anime_gan.data.dataset import FaceDataset, check_dataset_output, save_dataset
from anime_gan.data.tags import NUM_TAGS
from anime_gan.errors import UserError
from anime_gan.importer import tags_csv
from anime_gan.importer.decode import CROP_MODES, SKIP_REASONS, DecodeError, decode_face
from anime_gan.importer.source import IMAGE_EXTENSIONS, ImageSource, is_image_name
from anime_gan.importer.tags_csv import EXAMPLES, format_counts
from anime_gan.importer.years import (
    DEFAULT_YEAR_REGEX,
    compile_year_regex,
    count_years,
    filter_years,
    parse_year,
)
from anime_gan.limits import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS, TooLarge

log = logging.getLogger(__name__)


def import_images(
    source: str | Path,
    out: str | Path | None,
    resolution: int,
    tags_csv_path: str | Path | None = None,
    year_regex: str | None = DEFAULT_YEAR_REGEX,
    min_year: int | None = None,
    assume_complete: bool = False,
    crop: str = "center",
    workers: int = 2,
    progress: bool = True,
    max_member_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> tuple[FaceDataset, dict[str, Any]]:
    """Build a dataset from ``source`` (folder or zip), save it to ``out`` unless None.

    ``tags_csv_path``: a member of the zip / a path inside the folder (``"tags.csv"``) or any
    file on disk; None uses the source's only ``tags.csv`` if it has exactly one.
    ``year_regex``: searched in each file stem, group 1 is the year (None: no years).
    ``assume_complete``: the CSV lists every one of the 34 tags an image shows, so an absent
    tag is false rather than unknown. A file (or zip member) over ``max_member_bytes`` or an
    image over ``max_pixels`` is skipped as ``too_large`` without being read whole. Returns the
    dataset and its report.
    """
    resolution = _check_arguments(resolution, crop, out, source)
    source = Path(source)
    year_pattern = compile_year_regex(year_regex)
    report: dict[str, Any] = {"source": str(source), "resolution": resolution, "crop": crop}
    warnings: list[str] = []
    if resolution & (resolution - 1):
        warnings.append(f"resolution {resolution} is not a power of two; the models want 2^k.")
    truncated_flag = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False  # a truncated file is skipped, never padded with grey
    try:
        with ImageSource(source, max_member_bytes) as src:
            paths = _image_paths(src, report)
            table, csv_dir = _load_tags(src, tags_csv_path, report, warnings)
            years = [parse_year(posixpath.basename(p), year_pattern) for p in paths]
            selected = filter_years(years, min_year, year_regex, report, warnings)
            images, kept = _decode_all(
                src,
                [paths[i] for i in selected],
                resolution,
                crop,
                workers,
                progress,
                report,
                max_pixels,
            )
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = truncated_flag
    if not kept:
        raise UserError(
            f"none of the {len(selected)} images selected in {source} could be "
            f"decoded ({format_counts(report['skipped'])}): check the files."
        )
    kept_index = [selected[k] for k, _, _ in kept]
    report["years"].update(count_years(years, kept_index))  # the imported images only
    match = tags_csv.match_rows(table, paths, csv_dir) if table else tags_csv.RowMatch()
    labels, known = _label(kept_index, match, assume_complete)
    metadata = _metadata(source, paths, years, kept_index, kept, match)
    if table:
        tags_csv.add_tags_report(report, table, match, kept_index, warnings)
    report.update(imported=len(kept), warnings=warnings)
    for text in warnings:
        log.warning(text)
    ds = FaceDataset(
        images,
        labels,
        known,
        metadata,
        {"source": str(source), "created_by": "anime-gan import", "report": report},
    )
    if out is not None:
        save_dataset(ds, out, inputs={"source": source})
    return ds, report


def _image_paths(src: ImageSource, report: dict[str, Any]) -> list[str]:
    """The source's image files (by extension); none is a :class:`UserError`."""
    paths = [f for f in src.files if is_image_name(f)]
    report["files"] = {
        "images": len(paths),
        "other": len(src.files) - len(paths),
        "ignored": src.ignored,
    }
    if not paths:
        where = "in the zip" if src.is_zip else "recursively"
        raise UserError(
            f"no images in {src.path}: looked for files ending in {', '.join(IMAGE_EXTENSIONS)} "
            f"({where}); point source= at a folder or a zip of images."
        )
    return paths


def _check_arguments(resolution: Any, crop: str, out: str | Path | None, source: str | Path) -> int:
    try:
        value = int(str(resolution).strip())
    except ValueError:
        value = -1
    if value < 8:
        raise UserError(
            f"resolution={resolution!r} is not an integer >= 8: use e.g. resolution=64 or 128."
        )
    if crop not in CROP_MODES:
        raise UserError(
            f"crop={crop!r} is not one of {', '.join(CROP_MODES)}: use crop=center "
            f"(crop to a square) or crop=pad (white borders)."
        )
    if out is not None:  # refused now rather than after the whole import
        check_dataset_output(out, {"source": source})
    return value


def _load_tags(
    src: ImageSource, tags_csv_path: str | Path | None, report: dict[str, Any], warnings: list[str]
) -> tuple[tags_csv.TagsTable | None, str]:
    """The tags table and the folder (inside the source) its relative paths start from."""
    candidates = [f for f in src.files if posixpath.basename(f).lower() == "tags.csv"]
    if tags_csv_path is None:
        report["tags_csv"] = None
        if len(candidates) > 1:
            warnings.append(
                f"several tags.csv in the source ({', '.join(candidates[:EXAMPLES])}), "
                f"none used: pick one with tags=<path>."
            )
        if len(candidates) != 1:
            return None, ""
        member = candidates[0]
        report["tags_csv"] = f"{member} (the source's only tags.csv, used automatically)"
    else:
        path = Path(tags_csv_path)
        member = "" if path.is_absolute() else posixpath.normpath(path.as_posix())
        if member not in src.files:
            return _load_tags_file(path, src, report)
        report["tags_csv"] = member
    try:
        data = src.read(member)
    except TooLarge as e:
        raise UserError(
            f"the tags CSV is too large to read ({e}): raise max_member_bytes or "
            f"give a smaller tags=..."
        ) from None
    table = tags_csv.parse_tags_csv(data, f"{src.path}:{member}")
    return table, posixpath.dirname(member)


def _load_tags_file(
    path: Path, src: ImageSource, report: dict[str, Any]
) -> tuple[tags_csv.TagsTable, str]:
    """A tags CSV given by its path on disk (inside a source folder, or anywhere)."""
    if not path.is_file():
        raise UserError(
            f"tags CSV {path} is neither a file in {src.path} nor on disk: give its path "
            f"(inside the source or anywhere), or set tags=null to import without labels."
        )
    report["tags_csv"] = str(path)
    csv_dir = ""
    if not src.is_zip and path.resolve().is_relative_to(src.path.resolve()):
        csv_dir = path.resolve().parent.relative_to(src.path.resolve()).as_posix()
    return tags_csv.parse_tags_csv(path.read_bytes(), str(path)), csv_dir


def _decode_all(
    src: ImageSource,
    paths: list[str],
    resolution: int,
    crop: str,
    workers: int,
    progress: bool,
    report: dict[str, Any],
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> tuple[np.ndarray, list[tuple[int, int, int]]]:
    """Decode ``paths`` in parallel, in order: the images, and (position, width, height) of each.

    The images fill one preallocated array in order, so memory stays at one copy of the set.
    """
    images = np.empty((len(paths), resolution, resolution, 3), dtype=np.uint8)
    kept: list[tuple[int, int, int]] = []
    skipped: dict[str, list[str]] = {}
    converted: Counter[str] = Counter()

    def work(rel: str) -> Any:  # a DecodedImage, or the DecodeError that skips the file
        try:
            data = src.read(rel)
        except TooLarge as e:
            return DecodeError("too_large", str(e))
        except Exception as e:  # a zip CRC error, a permission error, a vanished file
            return DecodeError("unreadable", str(e))
        try:
            return decode_face(data, resolution, crop, max_pixels)
        except DecodeError as e:
            return e

    results = tqdm(
        _in_order(work, paths, max(workers, 1)),
        f"import {src.path.name}",
        len(paths),
        unit="img",
        disable=not progress,
        mininterval=0.5,
    )
    for position, result in enumerate(results):
        if isinstance(result, DecodeError):
            skipped.setdefault(result.reason, []).append(paths[position])
            continue
        images[len(kept)] = result.pixels
        kept.append((position, result.width, result.height))
        if result.converted_from:
            converted[result.converted_from] += 1
    report["skipped"] = {r: len(skipped[r]) for r in SKIP_REASONS if r in skipped}
    report["skipped_examples"] = {r: skipped[r][:EXAMPLES] for r in SKIP_REASONS if r in skipped}
    report["converted"] = dict(sorted(converted.items()))
    report["cropped" if crop == "center" else "padded"] = sum(w != h for _, w, h in kept)
    report["upscaled"] = sum(min(w, h) < resolution for _, w, h in kept)
    return images[: len(kept)], kept


def _in_order(work: Callable[[str], Any], paths: list[str], workers: int) -> Iterator[Any]:
    """``map(work, paths)`` on ``workers`` threads (Pillow releases the GIL while it decodes and
    resizes), in order. At most ``8 * workers`` files are in flight, so an error or Ctrl-C stops
    the import soon and drops the work still queued."""
    pool = ThreadPoolExecutor(workers, thread_name_prefix="anime-gan")
    pending: deque[Future[Any]] = deque()
    try:
        for rel in paths:
            pending.append(pool.submit(work, rel))
            if len(pending) >= 8 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(cancel_futures=True)


def _label(
    kept_index: list[int], match: tags_csv.RowMatch, assume_complete: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Labels and known-mask per kept image; an image without a CSV row stays all unknown."""
    labels = np.zeros((len(kept_index), NUM_TAGS), dtype=np.uint8)
    known = np.zeros((len(kept_index), NUM_TAGS), dtype=np.uint8)
    for row, index in enumerate(kept_index):
        if index in match.tags_by_image:
            tags = match.tags_by_image[index]
            labels[row], known[row] = tags_csv.labels_for(tags, assume_complete)
    return labels, known


def _metadata(
    source: Path,
    paths: list[str],
    years: list[int | None],
    kept_index: list[int],
    kept: list[tuple[int, int, int]],
    match: tags_csv.RowMatch,
) -> list[dict[str, Any]]:
    """One row per image; id = path without extension (with it where two files would collide)."""
    stems = Counter(posixpath.splitext(p)[0] for p in paths)
    rows = []
    for index, (_, width, height) in zip(kept_index, kept, strict=True):
        rel = paths[index]
        stem = posixpath.splitext(rel)[0]
        row: dict[str, Any] = {
            "id": stem if stems[stem] == 1 else rel,
            "source": f"{source.name}:{rel}",
            "year": years[index],
            "width": width,
            "height": height,
        }
        if index in match.tags_by_image:
            row["tags"] = match.tags_by_image[index]
        rows.append(row)
    return rows
