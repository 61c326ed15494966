"""The import report: what came in, what was skipped or converted, and what the tags CSV held.

The importer fills a plain dict (JSON-serialisable, stored as the dataset's ``info["report"]``
so `anime-gan describe` shows it later, the CSV's counts by
:func:`anime_gan.importer.tags_csv.match_rows`); :func:`format_report` turns it into the
lines worth reading after an import.
"""

from __future__ import annotations

from typing import Any

from anime_gan.importer.tags_csv import EXAMPLES, format_counts


def format_report(report: dict[str, Any]) -> str:
    """The report lines worth reading after an import: skips, conversions, years, tags."""
    lines = [
        f"imported {report['imported']} of {report['files']['images']} image files "
        f"from {report['source']}"
    ]
    for reason, count in report.get("skipped", {}).items():
        names = ", ".join(report["skipped_examples"][reason])
        names += ", ..." if count > EXAMPLES else ""
        lines.append(f"  skipped {count} {reason.replace('_', ' ')}: {names}")
    if report.get("converted"):
        lines.append(f"  converted to RGB: {format_counts(report['converted'])}")
    years = report.get("years", {})
    if "min_year" in years:
        lines.append(
            f"  min_year {years['min_year']}: removed {years['removed_before_min_year']} "
            f"older, {years['removed_without_year']} without a year"
        )
    if report.get("tags_csv"):
        lines.append(
            f"  tags CSV {report['tags_csv']}: {report['csv_rows']} rows, "
            f"{report['with_csv_row']} images with a row, {report['without_csv_row']} "
            f"without (unlabelled), {report['csv_rows_without_image']} rows without "
            f"an image"
        )
        if report["unknown_tags"]:
            lines.append(f"  tags not among the 34: {format_counts(report['unknown_tags'])}")
        lines.append(f"  rows leaving a group unknown: {format_counts(report['label_decisions'])}")
    lines += [f"  warning: {w}" for w in report.get("warnings", [])]
    return "\n".join(lines)
