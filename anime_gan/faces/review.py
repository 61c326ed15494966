"""Manual review of face crops (paper 3.1: about 4% false positives removed by hand).

``write_review`` draws numbered contact sheets of the crops, ``sheets/sheet_000.png``, ... (100
crops each by default); every tile is captioned with its number and id. The numbers live in
``index.tsv`` (number, id, sheet) and never change: a crop keeps its number when detect adds
more crops later, new crops get new numbers (and land on new sheets), and sheet ``k`` always
shows numbers ``k*per_sheet`` to ``(k+1)*per_sheet - 1``. So a reject list written against
yesterday's sheets still means the same crops today.

``rejects.txt`` (created with instructions if absent, never overwritten) lists the crops to
leave out, one per line: a number (``17``), a range of numbers (``120-125``) or an id
(``c933144chara1_0``); ``#`` starts a comment. Face ids always end in ``_<k>``, so a bare number
is never an id. ``build`` honours the list; rejected tiles are crossed out in red on the sheets,
and ``sheets/rejected_000.png``... show only the rejected crops, for a second look.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from anime_gan.errors import UserError
from anime_gan.faces.records import crop_path, read_faces
from anime_gan.outputs import REVIEW, check_output
from anime_gan.viz import contact_sheet, save_png

INDEX_FILE = "index.tsv"
REJECTS_FILE = "rejects.txt"
_TILE = 128  # crops are shrunk to this before drawing, to keep sheets quick
REJECTS_HEADER = """\
# Crops that `anime-gan build` leaves out (false positives, undesired images).
# One per line: the number shown on the contact sheets (17), a range of numbers (120-125),
# or a crop id (c933144chara1_0). Text after # is a comment. Then run `make review` to see
# the rejected tiles crossed out, and `make dataset` to rebuild without them.
"""


@dataclass
class Rejects:
    """Parsed reject list: the rejected ids, and the entries that match no crop."""

    ids: set[str] = field(default_factory=set)
    unknown: list[str] = field(default_factory=list)


@dataclass
class ReviewResult:
    sheets: list[Path]
    rejected_sheets: list[Path]
    crops: int
    rejected: int
    rejects: Path
    unknown_rejects: list[str]


def load_index(path: str | Path) -> dict[int, str]:
    """Crop number -> id from an ``index.tsv`` (empty when the file does not exist)."""
    path = Path(path)
    if not path.exists():
        return {}
    rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()[1:]]
    return {int(row[0]): row[1] for row in rows if len(row) >= 2 and row[0].isdigit()}


def extend_index(index: dict[int, str], ids: list[str]) -> dict[int, str]:
    """``index`` plus the ids it lacks, numbered after the highest number, in the given order."""
    known = set(index.values())
    new = [face_id for face_id in dict.fromkeys(ids) if face_id not in known]
    return {**index, **dict(enumerate(new, max(index, default=-1) + 1))}


def read_rejects(path: str | Path, index: dict[int, str], ids: set[str] | None = None) -> Rejects:
    """Parse a reject list against ``index`` (numbers) and ``ids`` (all crop ids, for checking)."""
    path = Path(path)
    result = Rejects()
    if not path.exists():
        return result
    valid = ids if ids is not None else set(index.values())
    for line in path.read_text(encoding="utf-8").splitlines():
        for token in re.findall(r"[^\s,]+", line.split("#", 1)[0]):
            numbers = _numbers(token)
            if numbers is None:
                (result.ids.add if token in valid else result.unknown.append)(token)
                continue
            if not index:
                raise UserError(
                    f"{path} names crops by number but there is no {INDEX_FILE} beside "
                    f"it: run `make review` to number the crops, or list ids instead."
                )
            hits = [index[n] for n in numbers if n in index]
            result.ids.update(hits)
            if not hits:
                result.unknown.append(token)
    return result


def _numbers(token: str) -> range | None:
    match = re.fullmatch(r"(\d+)(?:-(\d+))?", token)
    if not match:
        return None
    lo, hi = sorted(int(n) for n in (match[1], match[2] or match[1]))
    return range(lo, hi + 1)


def write_review(
    faces_dir: str | Path,
    review_dir: str | Path,
    per_sheet: int = 100,
    ncol: int = 10,
    cell: int = 96,
    rejected_sheets: bool = True,
) -> ReviewResult:
    """(Re)write the numbered contact sheets, ``index.tsv`` and (if absent) ``rejects.txt``."""
    faces_dir, review_dir = Path(faces_dir), Path(review_dir)
    check_output(review_dir, REVIEW, {"faces": faces_dir})
    rows = {r["id"]: r for r in read_faces(faces_dir)}
    if not rows:
        raise UserError(
            f"{faces_dir} has no face crops yet: run `make detect` on a folder of "
            f"character images first."
        )
    sheets_dir = review_dir / "sheets"
    sheets_dir.mkdir(parents=True, exist_ok=True)
    index = extend_index(load_index(review_dir / INDEX_FILE), list(rows))
    rejects_path = review_dir / REJECTS_FILE
    if not rejects_path.exists():
        rejects_path.write_text(REJECTS_HEADER, encoding="utf-8")
    rejects = read_rejects(rejects_path, index, set(rows))
    _write_index(review_dir / INDEX_FILE, index, per_sheet)
    numbered = sorted((n, i) for n, i in index.items() if i in rows)
    state_path = sheets_dir / ".state.json"  # sheet name -> what it shows
    state = json.loads(state_path.read_text()) if state_path.exists() else {}
    new_state: dict[str, str] = {}

    def render(name: str, items: list[tuple[int, str]], rejected: set[str], title: str) -> Path:
        """Draw one sheet, unless an identical one (same crops, marks and layout) is there."""
        path = sheets_dir / name
        marked = sorted(rejected & {i for _, i in items})
        key = hashlib.sha1(json.dumps([items, marked, title, ncol, cell]).encode()).hexdigest()
        new_state[name] = key
        if state.get(name) != key or not path.exists():
            tiles = np.stack(
                [_tile(crop_path(faces_dir, rows[i]), i in rejected) for _, i in items]
            )
            captions = [f"#{n} {_shorten(i, 17)}" for n, i in items]
            save_png(contact_sheet(tiles, captions, ncol, cell, caption_lines=2, title=title), path)
        return path

    pages = groupby(numbered, key=lambda item: item[0] // per_sheet)
    sheets = [
        render(
            f"sheet_{page:03d}.png",
            list(items),
            rejects.ids,
            f"sheet {page:03d}: crops #{page * per_sheet}-#{(page + 1) * per_sheet - 1} of {faces_dir}",
        )
        for page, items in pages
    ]
    bad = [(n, i) for n, i in numbered if i in rejects.ids] if rejected_sheets else []
    rejected_paths = [
        render(
            f"rejected_{k // per_sheet:03d}.png",
            bad[k : k + per_sheet],
            set(),
            f"rejected {k // per_sheet:03d}: {len(bad)} crops in {rejects_path.name}",
        )
        for k in range(0, len(bad), per_sheet)
    ]
    keep = {p.name for p in sheets + rejected_paths}
    for path in sheets_dir.glob("*.png"):
        if path.name.startswith(("sheet_", "rejected_")) and path.name not in keep:
            path.unlink()  # a sheet of numbers that no crop holds any more
    state_path.write_text(json.dumps(new_state))
    return ReviewResult(
        sheets,
        rejected_paths,
        len(numbered),
        len(rejects.ids),
        rejects_path,
        rejects.unknown,
    )


def _write_index(path: Path, index: dict[int, str], per_sheet: int) -> None:
    """Replace ``index.tsv`` (number, id, sheet), atomically (temporary file, then rename)."""
    lines = [
        "number\tid\tsheet",
        *(f"{n}\t{i}\t{n // per_sheet}" for n, i in sorted(index.items())),
    ]
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(path)


def _tile(path: Path, crossed: bool) -> np.ndarray:
    """A crop shrunk to the tile size (grey when the file is gone), crossed out if rejected."""
    try:
        with Image.open(path) as im:
            tile = im.convert("RGB").resize((_TILE, _TILE), Image.Resampling.BILINEAR)
    except OSError:
        tile = Image.new("RGB", (_TILE, _TILE), (160, 160, 160))
    if crossed:
        draw = ImageDraw.Draw(tile)
        draw.line((0, 0, _TILE, _TILE), fill=(230, 0, 0), width=6)
        draw.line((0, _TILE, _TILE, 0), fill=(230, 0, 0), width=6)
    return np.asarray(tile)


def _shorten(text: str, width: int) -> str:
    return (
        text if len(text) <= width else f"{text[: width // 2 - 1]}~{text[-(width - width // 2) :]}"
    )
