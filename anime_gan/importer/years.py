"""Release years of imported images, read from their file names, and the ``min_year`` filter.

The year is group 1 of ``year_regex`` searched in the file stem (``<id>_<year>.jpg`` by
default, as in getchu64); ``min_year`` keeps the images of that year and later, as the paper
keeps games released after 2005 (``min_year=2006``). The report's counts are of the images
that were imported: a file skipped as undecodable is counted among the skipped files only.
"""

import posixpath
import re
from typing import Any

from anime_gan.errors import UserError

DEFAULT_YEAR_REGEX = r"_(\d{4})$"


def select_years(
    paths: list[str],
    year_regex: str | None,
    min_year: int | None,
    report: dict[str, Any],
    warnings: list[str],
) -> tuple[list[int | None], list[int]]:
    """The year of each path (None: not in its name) and the indices of those that ``min_year``
    keeps (an unknown year is not kept); a bad pattern is one sentence."""
    try:
        pattern = re.compile(year_regex) if year_regex else None
    except re.error as e:
        raise UserError(
            f"year_regex={year_regex!r} is not a valid regular expression ({e}): "
            f"fix it or set year_regex=null."
        ) from None
    years = [_parse_year(posixpath.basename(p), pattern) for p in paths]
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


def _parse_year(name: str, pattern: re.Pattern[str] | None) -> int | None:
    """The year in a file's stem: ``pattern``'s group 1 (or whole match) when it is all digits."""
    match = pattern.search(posixpath.splitext(name)[0]) if pattern else None
    if match is None:
        return None
    text = match.group(1) if match.groups() else match.group(0)
    return int(text) if text and text.isdigit() else None
