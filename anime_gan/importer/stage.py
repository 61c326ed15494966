"""Import any folder or zip of images (plus an optional tags CSV) as a dataset.

The quick way to a training set without crawling: the two shared face sets, a folder of one's
own drawings, a Kaggle zip. Files are picked by extension (:data:`IMAGE_EXTENSIONS`), decoded
robustly (:mod:`anime_gan.importer.decode`: unusable files are skipped and counted by
reason, any mode becomes RGB), made square and resized, and labelled from the tags CSV
(:mod:`anime_gan.importer.tags_csv`); an image without a CSV row is unlabelled (known all 0). The
release year comes from the file name (``<id>_<year>.jpg`` by default, as in getchu64) and
``min_year`` keeps only recent images, as the paper does (after 2005: ``min_year=2006``;
:func:`select_years`).

Everything worth checking ends in the report (returned, and stored as ``info["report"]``):
skips by reason with example names, mode conversions, the year filter, raw tag counts as read
from the CSV, tags that are not among the 34, and the partial-label decisions. The output is
written atomically (:func:`save_dataset`), so an interrupted import leaves the previous dataset
at ``out`` as it was, and ``out`` must be new, empty or an earlier dataset (never the source or
a folder holding it): anything else is refused before any work (:mod:`anime_gan.outputs`).
"""

import logging
import posixpath
import re
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from PIL import ImageFile
from tqdm import tqdm

from anime_gan.data.dataset import FaceDataset, check_dataset_output, save_dataset
from anime_gan.data.tags import NUM_TAGS, is_known_tag, labels_from_tags
from anime_gan.errors import UserError
from anime_gan.importer import tags_csv
from anime_gan.importer.decode import CROP_MODES, SKIP_REASONS, DecodeError, decode_face
from anime_gan.importer.source import IMAGE_EXTENSIONS, ImageSource
from anime_gan.importer.tags_csv import EXAMPLES, format_counts
from anime_gan.limits import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS, TooLarge

log = logging.getLogger(__name__)

DEFAULT_YEAR_REGEX = r"_(\d{4})$"


def _labels_and_metadata(
    source: Path,
    paths: list[str],
    kept: list[tuple[int, int, int]],
    years: list[int | None],
    tags_by_image: dict[int, list[str]],
    assume_complete: bool,
) -> tuple[np.ndarray, np.ndarray, list[dict[str, Any]]]:
    """Labels, known mask and metadata row of each ``kept`` image (path index, width, height)."""
    labels, known = np.zeros((2, len(kept), NUM_TAGS), dtype=np.uint8)
    metadata = []
    stems = Counter(posixpath.splitext(p)[0] for p in paths)
    for row, (index, width, height) in enumerate(kept):
        rel = paths[index]
        stem = posixpath.splitext(rel)[0]  # the id, with the extension where two would collide
        meta: dict[str, Any] = {
            "id": stem if stems[stem] == 1 else rel,
            "source": f"{source.name}:{rel}",
            "year": years[index],
            "width": width,
            "height": height,
        }
        if index in tags_by_image:  # else unlabelled: known stays all 0
            meta["tags"] = tags_by_image[index]
            known_tags = [t for t in meta["tags"] if is_known_tag(t)]
            labels[row], known[row] = labels_from_tags(known_tags, assume_complete)
        metadata.append(meta)
    return labels, known, metadata


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
    if not isinstance(resolution, int) or resolution < 8:
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
    source = Path(source)
    report: dict[str, Any] = {"source": str(source), "resolution": resolution, "crop": crop}
    warnings: list[str] = []
    if resolution & (resolution - 1):
        warnings.append(f"resolution {resolution} is not a power of two; the models want 2^k.")
    truncated_flag = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False  # a truncated file is skipped, never padded with grey
    try:
        with ImageSource(source, max_member_bytes) as src:
            paths = [f for f in src.files if f.lower().endswith(IMAGE_EXTENSIONS)]
            report["files"] = {
                "images": len(paths),
                "other": len(src.files) - len(paths),
                "ignored": src.ignored,
            }
            if not paths:
                raise UserError(
                    f"no images in {src.path}: looked for files ending in "
                    f"{', '.join(IMAGE_EXTENSIONS)} ({'in the zip' if src.is_zip else 'recursively'})"
                    f"; point source= at a folder or a zip of images."
                )
            table = tags_csv.load_tags(src, tags_csv_path, report, warnings)
            years, selected = select_years(paths, year_regex, min_year, report, warnings)
            images, kept = _decode_all(
                src, paths, selected, resolution, crop, workers, progress, report, max_pixels
            )
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = truncated_flag
    if not kept:
        raise UserError(
            f"none of the {len(selected)} images selected in {source} could be "
            f"decoded ({format_counts(report['skipped'])}): check the files."
        )
    kept_index = [index for index, _, _ in kept]
    with_year = sum(years[i] is not None for i in kept_index)  # of the imported images only
    report["years"].update(with_year=with_year, without_year=len(kept) - with_year)
    tags_by_image = tags_csv.match_rows(table, paths, kept_index, report, warnings) if table else {}
    report.update(imported=len(kept), warnings=warnings)
    for text in warnings:
        log.warning(text)
    ds = FaceDataset(
        images,
        *_labels_and_metadata(source, paths, kept, years, tags_by_image, assume_complete),
        {"source": str(source), "created_by": "anime-gan import", "report": report},
    )
    if out is not None:
        save_dataset(ds, out, inputs={"source": source})
    return ds, report


def select_years(
    paths: list[str],
    year_regex: str | None,
    min_year: int | None,
    report: dict[str, Any],
    warnings: list[str],
) -> tuple[list[int | None], list[int]]:
    """The year of each path (None: not in its name) and the indices of those that ``min_year``
    keeps (an unknown year is not kept); a bad pattern is one sentence.

    The year is group 1 of ``year_regex`` searched in the file stem (``<id>_<year>.jpg`` by
    default, as in getchu64); ``min_year`` keeps the images of that year and later, as the paper
    keeps games released after 2005 (``min_year=2006``).
    """
    try:
        pattern = re.compile(year_regex) if year_regex else None
    except re.error as e:
        raise UserError(
            f"year_regex={year_regex!r} is not a valid regular expression ({e}): "
            f"fix it or set year_regex=null."
        ) from None
    years: list[int | None] = []
    for path in paths:  # group 1 (or the whole match) in the file stem, when it is all digits
        stem = posixpath.splitext(posixpath.basename(path))[0]
        match = pattern.search(stem) if pattern else None
        text = match and (match.group(1) if match.groups() else match.group(0))
        years.append(int(text) if text and text.isdigit() else None)
    with_year = sum(y is not None for y in years)
    without_year = len(years) - with_year
    # import_images recounts with/without over the imported images
    report["years"] = {
        "year_regex": year_regex,
        "with_year": with_year,
        "without_year": without_year,
    }
    if min_year is None:
        return years, list(range(len(years)))
    if not with_year:
        raise UserError(
            f"min_year={min_year} was given but no file name matches year_regex={year_regex!r}: "
            f"set year_regex to match your file names or drop min_year."
        )
    selected = [i for i, y in enumerate(years) if y is not None and y >= min_year]
    report["years"].update(
        min_year=min_year,
        removed_before_min_year=with_year - len(selected),
        removed_without_year=without_year,
    )
    if not selected:
        raise UserError(
            f"min_year={min_year} leaves no image (the latest year found is "
            f"{max(y for y in years if y is not None)}): lower min_year or drop it."
        )
    if without_year:
        warnings.append(
            f"{without_year} images without a year in their name were left out by min_year."
        )
    return years, selected


def _decode_all(
    src: ImageSource,
    paths: list[str],
    selected: list[int],
    resolution: int,
    crop: str,
    workers: int,
    progress: bool,
    report: dict[str, Any],
    max_pixels: int,
) -> tuple[np.ndarray, list[tuple[int, int, int]]]:
    """Decode the ``selected`` paths in parallel, in order: the images, and (index in ``paths``,
    width, height) of each.

    The images fill one preallocated array in order, so memory stays at one copy of the set.
    """
    images = np.empty((len(selected), resolution, resolution, 3), dtype=np.uint8)
    kept: list[tuple[int, int, int]] = []
    skipped: dict[str, list[str]] = {}
    converted: Counter[str] = Counter()

    def work(rel: str) -> Any:  # a DecodedImage, or the DecodeError that skips the file
        try:
            data = src.read(rel)
        except Exception as e:  # over max_member_bytes, a zip CRC error, a vanished file, ...
            return DecodeError("too_large" if isinstance(e, TooLarge) else "unreadable", str(e))
        try:
            return decode_face(data, resolution, crop, max_pixels)
        except DecodeError as e:
            return e

    results = tqdm(
        _in_order(work, [paths[i] for i in selected], workers),
        f"import {src.path.name}",
        len(selected),
        unit="img",
        disable=not progress,
        mininterval=0.5,
    )
    for index, result in zip(selected, results):
        if isinstance(result, DecodeError):
            skipped.setdefault(result.reason, []).append(paths[index])
            continue
        images[len(kept)] = result.pixels
        kept.append((index, result.width, result.height))
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
