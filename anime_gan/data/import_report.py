"""The import report: what came in, what was skipped or converted, and what the tags CSV held.

The importer fills a plain dict (JSON-serialisable, stored as the dataset's ``info["report"]``
so `anime-gan describe` shows it later); :func:`format_report` turns it into the lines worth
reading after an import.
"""

from __future__ import annotations

import logging
from typing import Any

from anime_gan.data import tags_csv

log = logging.getLogger(__name__)

EXAMPLES = 5  # file names listed per skip reason, unmatched CSV rows


def add_tags_report(report: dict[str, Any], table: tags_csv.TagsTable, match: tags_csv.RowMatch,
                    kept_index: list[int], warnings: list[str]) -> None:
    """CSV counts: rows, matches, tags as read, tags outside the 34, partial-label decisions.

    ``raw_tag_counts`` and ``unknown_tags`` count every CSV row (to compare with the CSV's own
    documentation); ``with_csv_row``, ``without_csv_row`` (unlabelled: known all 0) and
    ``label_decisions`` count the imported images.
    """
    labelled = [i for i in kept_index if i in match.tags_by_image]
    raw = tags_csv.raw_tag_counts(table)
    unknown = tags_csv.unknown_tag_counts(raw)
    report.update(
        with_csv_row=len(labelled), without_csv_row=len(kept_index) - len(labelled),
        csv_rows=len(table.rows), csv_rows_without_image=len(match.without_image),
        csv_rows_without_image_examples=match.without_image[:EXAMPLES],
        csv_rows_ambiguous=len(match.ambiguous), csv_rows_duplicate=match.duplicate_rows,
        csv_rows_without_file=table.rows_without_file, unknown_tags=unknown, raw_tag_counts=raw,
        label_decisions=tags_csv.label_decisions(match.tags_by_image[i] for i in labelled),
    )
    if unknown:  # listed under unknown_tags, which format_report prints
        log.warning("%d tags in the CSV are not among the 34 and were not used as labels: %s.",
                    len(unknown), format_counts(unknown))
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


def format_report(report: dict[str, Any]) -> str:
    """The report lines worth reading after an import: skips, conversions, years, tags."""
    lines = [f"imported {report['imported']} of {report['files']['images']} image files "
             f"from {report['source']}"]
    for reason, count in report.get("skipped", {}).items():
        names = ", ".join(report["skipped_examples"][reason])
        names += ", ..." if count > EXAMPLES else ""
        lines.append(f"  skipped {count} {reason.replace('_', ' ')}: {names}")
    if report.get("converted"):
        lines.append(f"  converted to RGB: {format_counts(report['converted'])}")
    years = report.get("years", {})
    if "min_year" in years:
        lines.append(f"  min_year {years['min_year']}: removed {years['removed_before_min_year']} "
                     f"older, {years['removed_without_year']} without a year")
    if report.get("tags_csv"):
        lines.append(f"  tags CSV {report['tags_csv']}: {report['csv_rows']} rows, "
                     f"{report['with_csv_row']} images with a row, {report['without_csv_row']} "
                     f"without (unlabelled), {report['csv_rows_without_image']} rows without "
                     f"an image")
        if report["unknown_tags"]:
            lines.append(f"  tags not among the 34: {format_counts(report['unknown_tags'])}")
        lines.append(f"  rows leaving a group unknown: {format_counts(report['label_decisions'])}")
    lines += [f"  warning: {w}" for w in report.get("warnings", [])]
    return "\n".join(lines)


def format_counts(counts: dict[str, int]) -> str:
    """``{'a': 1, 'b': 2}`` -> ``'a 1, b 2'``."""
    return ", ".join(f"{k} {v}" for k, v in counts.items())
