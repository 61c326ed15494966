"""A tags CSV beside imported images: finding and reading it, matching its rows to images,
counting it (our own code: rows are matched by path or base name and nothing is dropped silently).

Format: a header with (at least) the columns ``file`` and ``tags``; ``tags`` holds tag names
separated by ``;`` or ``,`` (quote the field for ``,``). Nothing is dropped without a word:
other columns are named in a warning; a row with more cells than the header (an unquoted
``b.png,blue hair,red eyes``) gets its extra cells read as more tags when ``tags`` is the last
column, with a warning, and is refused in one sentence otherwise; several rows for one image
are merged with a warning. Names are normalised with
:func:`normalize_tag_name` (case, ``_``/``-``, grey/gray). A row names its image by its path
relative to the CSV's folder or to the source root, or by its base name alone when that is
unique among the images. Tags outside the 34 are kept in the counts (never silently dropped)
but cannot become labels. Labels follow :func:`labels_from_tags` (data/README.md): several
tags of an exclusive group, or none, make the group unknown; long and short hair together make
both unknown.
"""

import csv
import io
import logging
import posixpath
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from anime_gan.data.tags import (
    EXCLUSIVE_GROUPS,
    OPPOSITES,
    TAG_INDEX,
    is_known_tag,
    normalize_tag_name,
)
from anime_gan.errors import UserError
from anime_gan.importer.source import ImageSource
from anime_gan.limits import TooLarge

log = logging.getLogger(__name__)

EXAMPLES = 5  # file names listed per skip reason, unmatched CSV rows

REQUIRED_COLUMNS = ("file", "tags")


@dataclass
class TagsTable:
    """The rows of one tags CSV: (file as written, normalised tag names without repeats), and
    the folder inside the source that their relative paths start from."""

    csv_dir: str
    rows: list[tuple[str, list[str]]]
    rows_without_file: int
    notes: list[str]  # warnings about what was read how


def load_tags(
    src: ImageSource, tags_csv_path: str | Path | None, report: dict[str, Any], warnings: list[str]
) -> TagsTable | None:
    """The tags table of an import.

    ``tags_csv_path``: a file of the source, or any file on disk; None: the source's only
    ``tags.csv``, if it has exactly one. A member of the source is read within
    ``max_member_bytes``.
    """
    if tags_csv_path is None:
        candidates = [f for f in src.files if posixpath.basename(f).lower() == "tags.csv"]
        if len(candidates) > 1:
            warnings.append(
                f"several tags.csv in the source ({', '.join(candidates[:EXAMPLES])}), "
                f"none used: pick one with tags=<path>."
            )
        if len(candidates) != 1:
            report["tags_csv"] = None
            return None
        member = candidates[0]
        report["tags_csv"] = f"{member} (the source's only tags.csv, used automatically)"
    else:
        path = Path(tags_csv_path)
        member = posixpath.normpath(path.as_posix())  # never a member when absolute
        if member not in src.files:  # a file on disk, maybe inside the source folder
            if not path.is_file():
                raise UserError(
                    f"tags CSV {path} is neither a file in {src.path} nor on disk: give its "
                    f"path (inside the source or anywhere), or set tags=null to import without "
                    f"labels."
                )
            report["tags_csv"] = str(path)
            # rows may be relative to the CSV's folder when it lies inside a source folder
            folder, root = path.resolve().parent, src.path.resolve()
            csv_dir = folder.relative_to(root).as_posix() if folder.is_relative_to(root) else ""
            return parse_tags_csv(path.read_bytes(), str(path), csv_dir)
        report["tags_csv"] = member
    try:
        data = src.read(member)
    except TooLarge as e:
        raise UserError(
            f"the tags CSV is too large to read ({e}): raise max_member_bytes or "
            f"give a smaller tags=..."
        ) from None
    return parse_tags_csv(data, f"{src.path}:{member}", posixpath.dirname(member))


def parse_tags_csv(data: bytes, name: str, csv_dir: str) -> TagsTable:
    """Parse CSV bytes; a missing ``file``/``tags`` column is a :class:`UserError`."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UserError(
            f"tags CSV {name} is not UTF-8 text: save it as UTF-8 and import again."
        ) from None
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader, [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        found = ", ".join(repr(h) for h in header) or "none (the file is empty)"
        raise UserError(
            f"tags CSV {name} has no {' or '.join(repr(c) for c in missing)} column (columns "
            f"found: {found}): give it a header line `file,tags`."
        )
    i_file, i_tags = header.index("file"), header.index("tags")
    rows, rows_without_file, notes = [], 0, []
    other = [h for h in header if h not in REQUIRED_COLUMNS]
    if other:
        notes.append(f"tags CSV {name} has columns that import does not read: {', '.join(other)}.")
    overflow = []
    for line, row in enumerate(reader, 2):
        if not any(cell.strip() for cell in row):
            continue
        file = row[i_file].strip() if i_file < len(row) else ""
        if not file:
            rows_without_file += 1
            continue
        if len(row) > len(header):
            if i_tags != len(header) - 1:
                raise UserError(
                    f"line {line} of tags CSV {name} has {len(row)} cells for "
                    f"{len(header)} columns: quote its tags field (tags separated by "
                    f"',' need quotes) and import again."
                )
            overflow.append(line)
        cells = ",".join(row[i_tags:])
        tags = [normalize_tag_name(t) for t in re.split("[;,]", cells) if t.strip()]
        rows.append((file, list(dict.fromkeys(tags))))
    if overflow:
        notes.append(
            f"{len(overflow)} rows of tags CSV {name} have more cells than the "
            f"header (e.g. line {overflow[0]}): their extra cells were read as "
            f"more tags; quote the tags field to say so."
        )
    return TagsTable(csv_dir, rows, rows_without_file, notes)


def match_rows(
    table: TagsTable,
    image_paths: list[str],
    kept_index: list[int],
    report: dict[str, Any],
    warnings: list[str],
) -> dict[int, list[str]]:
    """The tags of each image that a row names (by index in ``image_paths``: posix paths
    relative to the source root), with the CSV's counts added to ``report``.

    ``raw_tag_counts`` and ``unknown_tags`` count every CSV row (to compare with the CSV's own
    documentation); ``with_csv_row``, ``without_csv_row`` (unlabelled: known all 0) and
    ``label_decisions`` count the imported images (``kept_index``).
    """
    by_path = {p: i for i, p in enumerate(image_paths)}
    by_name: dict[str, list[int]] = {}
    for i, p in enumerate(image_paths):
        by_name.setdefault(posixpath.basename(p), []).append(i)
    tags_by_image: dict[int, list[str]] = {}
    without_image, ambiguous, duplicates = [], [], []
    for file, tags in table.rows:
        key = file.replace("\\", "/").lstrip("/")
        candidates = map(posixpath.normpath, [posixpath.join(table.csv_dir, key), key])
        index = next((by_path[c] for c in candidates if c in by_path), None)
        if index is None:
            same_name = by_name.get(posixpath.basename(key), [])
            if len(same_name) != 1:  # no image of that name, or several
                (ambiguous if same_name else without_image).append(file)
                continue
            index = same_name[0]
        if index in tags_by_image:
            duplicates.append(file)
        tags_by_image[index] = list(dict.fromkeys(tags_by_image.get(index, []) + tags))
    labelled = [i for i in kept_index if i in tags_by_image]
    counts = Counter(t for _, tags in table.rows for t in tags)
    raw = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))  # most frequent first
    unknown = {name: n for name, n in raw.items() if not is_known_tag(name)}
    report.update(
        with_csv_row=len(labelled),
        without_csv_row=len(kept_index) - len(labelled),
        csv_rows=len(table.rows),
        csv_rows_without_image=len(without_image),
        csv_rows_without_image_examples=without_image[:EXAMPLES],
        csv_rows_ambiguous=len(ambiguous),
        csv_rows_duplicate=len(duplicates),
        csv_rows_without_file=table.rows_without_file,
        unknown_tags=unknown,
        raw_tag_counts=raw,
        label_decisions=label_decisions(tags_by_image[i] for i in labelled),
    )
    if unknown:  # listed under unknown_tags, which format_report prints
        log.warning(
            "%d tags in the CSV are not among the 34 and were not used as labels: %s.",
            len(unknown),
            format_counts(unknown),
        )
    warnings += table.notes
    if duplicates:
        warnings.append(
            f"{len(duplicates)} CSV rows name an image that an earlier row already named "
            f"(e.g. {duplicates[0]}): their tags were merged into that image's."
        )
    if ambiguous:
        warnings.append(
            f"{len(ambiguous)} CSV rows name a file by a base name that several images "
            f"share (e.g. {ambiguous[0]}) and were not used; write the relative path instead."
        )
    return tags_by_image


def label_decisions(tag_lists: Iterable[list[str]]) -> dict[str, int]:
    """Rows whose tags leave part of the label unknown, by rule (see the module docstring).

    ``<group>_several``: several tags of an exclusive group (a contradiction);
    ``<group>_none``: no tag of the group; ``<a>_and_<b>``: both tags of an opposite pair.
    """
    counts = {f"{g}_{k}": 0 for g in EXCLUSIVE_GROUPS for k in ("several", "none")}
    pairs = {f"{a}_and_{b}".replace(" ", "_"): (TAG_INDEX[a], TAG_INDEX[b]) for a, b in OPPOSITES}
    counts |= dict.fromkeys(pairs, 0)
    for tags in tag_lists:
        indices = {TAG_INDEX[t] for t in tags if t in TAG_INDEX}
        for group, members in EXCLUSIVE_GROUPS.items():
            hits = len(indices.intersection(members.tolist()))
            if hits != 1:
                counts[f"{group}_{'several' if hits else 'none'}"] += 1
        for key, pair in pairs.items():
            counts[key] += indices.issuperset(pair)
    return counts


def format_counts(counts: dict[str, int]) -> str:
    """``{'a': 1, 'b': 2}`` -> ``'a 1, b 2'``."""
    return ", ".join(f"{k} {v}" for k, v in counts.items())
