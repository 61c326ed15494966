"""A tags CSV beside imported images: reading it, matching its rows to images, counting it.

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

from __future__ import annotations

import csv
import io
import logging
import posixpath
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from anime_gan.data.tags import (
    EXCLUSIVE_GROUPS,
    OPPOSITES,
    TAG_INDEX,
    is_known_tag,
    labels_from_tags,
    normalize_tag_name,
)
from anime_gan.errors import UserError

log = logging.getLogger(__name__)

EXAMPLES = 5  # file names listed per skip reason, unmatched CSV rows

REQUIRED_COLUMNS = ("file", "tags")
_SEPARATORS = re.compile(r"[;,]")


@dataclass
class TagsTable:
    """The rows of one tags CSV: (file as written, normalised tag names without repeats)."""

    name: str
    rows: list[tuple[str, list[str]]]
    rows_without_file: int = 0
    notes: list[str] = field(default_factory=list)  # warnings about what was read how


@dataclass
class RowMatch:
    """Which image each row belongs to (by image index), and the rows that found none."""

    tags_by_image: dict[int, list[str]] = field(default_factory=dict)
    without_image: list[str] = field(default_factory=list)
    ambiguous: list[str] = field(default_factory=list)
    duplicate_rows: int = 0
    duplicate_examples: list[str] = field(default_factory=list)


def parse_tags_csv(data: bytes, name: str) -> TagsTable:
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
    table = TagsTable(name, [])
    other = [h for h in header if h not in REQUIRED_COLUMNS]
    if other:
        table.notes.append(
            f"tags CSV {name} has columns that import does not read: {', '.join(other)}."
        )
    overflow = []
    for line, row in enumerate(reader, 2):
        if not any(cell.strip() for cell in row):
            continue
        file = row[i_file].strip() if i_file < len(row) else ""
        if not file:
            table.rows_without_file += 1
            continue
        if len(row) > len(header):
            if i_tags != len(header) - 1:
                raise UserError(
                    f"line {line} of tags CSV {name} has {len(row)} cells for "
                    f"{len(header)} columns: quote its tags field (tags separated by "
                    f"',' need quotes) and import again."
                )
            overflow.append(line)
        cells = ",".join(row[i_tags:]) if i_tags < len(row) else ""
        tags = [normalize_tag_name(t) for t in _SEPARATORS.split(cells) if t.strip()]
        table.rows.append((file, list(dict.fromkeys(tags))))
    if overflow:
        table.notes.append(
            f"{len(overflow)} rows of tags CSV {name} have more cells than the "
            f"header (e.g. line {overflow[0]}): their extra cells were read as "
            f"more tags; quote the tags field to say so."
        )
    return table


def raw_tag_counts(table: TagsTable) -> dict[str, int]:
    """How many rows name each tag (known or not), most frequent first."""
    counts = Counter(t for _, tags in table.rows for t in tags)
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def unknown_tag_counts(raw_counts: dict[str, int]) -> dict[str, int]:
    """The part of :func:`raw_tag_counts` that is not among the 34 tags."""
    return {name: n for name, n in raw_counts.items() if not is_known_tag(name)}


def match_rows(table: TagsTable, image_paths: list[str], csv_dir: str = "") -> RowMatch:
    """Assign rows to images (``image_paths``: posix paths relative to the source root)."""
    by_path = {p: i for i, p in enumerate(image_paths)}
    by_name: dict[str, list[int]] = {}
    for i, p in enumerate(image_paths):
        by_name.setdefault(posixpath.basename(p), []).append(i)
    match = RowMatch()
    for file, tags in table.rows:
        key = file.replace("\\", "/").lstrip("/")
        candidates = [posixpath.normpath(posixpath.join(csv_dir, key)), posixpath.normpath(key)]
        index = next((by_path[c] for c in candidates if c in by_path), None)
        if index is None:
            same_name = by_name.get(posixpath.basename(key), [])
            if len(same_name) > 1:
                match.ambiguous.append(file)
                continue
            index = same_name[0] if same_name else None
        if index is None:
            match.without_image.append(file)
        elif index in match.tags_by_image:
            match.duplicate_rows += 1
            match.duplicate_examples.append(file)
            merged = match.tags_by_image[index] + tags
            match.tags_by_image[index] = list(dict.fromkeys(merged))
        else:
            match.tags_by_image[index] = tags
    return match


def labels_for(tags: Iterable[str], assume_complete: bool) -> tuple[np.ndarray, np.ndarray]:
    """Labels and known-mask of one row: its tags among the 34, through :func:`labels_from_tags`."""
    return labels_from_tags([t for t in tags if is_known_tag(t)], assume_complete)


def label_decisions(tag_lists: Iterable[list[str]]) -> dict[str, int]:
    """Rows whose tags leave part of the label unknown, by rule (see the module docstring).

    ``<group>_several``: several tags of an exclusive group (a contradiction);
    ``<group>_none``: no tag of the group; ``<a>_and_<b>``: both tags of an opposite pair.
    """
    counts = {f"{g}_{k}": 0 for g in EXCLUSIVE_GROUPS for k in ("several", "none")}
    counts.update({_pair_key(a, b): 0 for a, b in OPPOSITES})
    for tags in tag_lists:
        indices = {TAG_INDEX[t] for t in tags if t in TAG_INDEX}
        for group, members in EXCLUSIVE_GROUPS.items():
            hits = len(indices.intersection(members.tolist()))
            if hits > 1:
                counts[f"{group}_several"] += 1
            elif hits == 0:
                counts[f"{group}_none"] += 1
        for a, b in OPPOSITES:
            if TAG_INDEX[a] in indices and TAG_INDEX[b] in indices:
                counts[_pair_key(a, b)] += 1
    return counts


def _pair_key(a: str, b: str) -> str:
    return f"{a.replace(' ', '_')}_and_{b.replace(' ', '_')}"


def add_tags_report(
    report: dict[str, Any],
    table: TagsTable,
    match: RowMatch,
    kept_index: list[int],
    warnings: list[str],
) -> None:
    """CSV counts: rows, matches, tags as read, tags outside the 34, partial-label decisions.

    ``raw_tag_counts`` and ``unknown_tags`` count every CSV row (to compare with the CSV's own
    documentation); ``with_csv_row``, ``without_csv_row`` (unlabelled: known all 0) and
    ``label_decisions`` count the imported images.
    """
    labelled = [i for i in kept_index if i in match.tags_by_image]
    raw = raw_tag_counts(table)
    unknown = unknown_tag_counts(raw)
    report.update(
        with_csv_row=len(labelled),
        without_csv_row=len(kept_index) - len(labelled),
        csv_rows=len(table.rows),
        csv_rows_without_image=len(match.without_image),
        csv_rows_without_image_examples=match.without_image[:EXAMPLES],
        csv_rows_ambiguous=len(match.ambiguous),
        csv_rows_duplicate=match.duplicate_rows,
        csv_rows_without_file=table.rows_without_file,
        unknown_tags=unknown,
        raw_tag_counts=raw,
        label_decisions=label_decisions(match.tags_by_image[i] for i in labelled),
    )
    if unknown:  # listed under unknown_tags, which format_report prints
        log.warning(
            "%d tags in the CSV are not among the 34 and were not used as labels: %s.",
            len(unknown),
            format_counts(unknown),
        )
    warnings += table.notes
    if match.duplicate_rows:
        warnings.append(
            f"{match.duplicate_rows} CSV rows name an image that an earlier row already named "
            f"(e.g. {match.duplicate_examples[0]}): their tags were merged into that image's."
        )
    if match.ambiguous:
        warnings.append(
            f"{len(match.ambiguous)} CSV rows name a file by a base name that several images "
            f"share (e.g. {match.ambiguous[0]}) and were not used; write the relative path instead."
        )


def format_counts(counts: dict[str, int]) -> str:
    """``{'a': 1, 'b': 2}`` -> ``'a 1, b 2'``."""
    return ", ".join(f"{k} {v}" for k, v in counts.items())
