"""The append-only JSON-lines files of crawl, detect and tag: one reader, one writer, one repair.

Each stage appends one whole line per record (:func:`append_jsonl`), so a kill leaves at worst a
torn last line. Before a stage appends again, :func:`repair_tail` cuts that line off (or completes
it with its newline when it is a whole record), so the next record never glues onto a broken one
and is never lost. :func:`read_jsonl` skips such a line; what it does with a bad line elsewhere is
the caller's choice.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from anime_gan.errors import UserError


def read_jsonl(path: str | Path, fix: str | None = None) -> list[Any]:
    """The rows of a JSON-lines file (none if it does not exist), blank lines skipped.

    A line that is not JSON is skipped when only blank lines follow it (torn by a kill). Another
    bad line is skipped too when ``fix`` is None; else it is a :class:`UserError` naming the file
    and the line, ending with ``fix`` (how to mend it)."""
    path = Path(path)
    if not path.exists():
        return []
    rows, bad = [], None  # bad: (number, error) of the last line that is not JSON
    with open(path, "rb") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            if bad and fix is not None:
                raise UserError(f"line {bad[0]} of {path} is not valid JSON ({bad[1]}); {fix}")
            try:
                rows.append(json.loads(line.rstrip()))
            except ValueError as e:  # also a torn multibyte character
                bad = number, e
    return rows


def append_jsonl(f: IO[str], rows: Iterable[Any], **dumps: Any) -> None:
    """Write rows (``dumps``: options of ``json.dumps``) to an open text file in one call and push
    them to disk, so a row is never half-written unless the process dies inside the write itself,
    and an interrupted run keeps every row written before."""
    f.write("".join(json.dumps(row, **dumps) + "\n" for row in rows))
    f.flush()
    os.fsync(f.fileno())


def repair_tail(path: str | Path) -> bool:
    """Make ``path`` end with a complete JSON line: a torn last line is cut off, a whole record
    that only lacks its newline gets it. Returns True if the file changed."""
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        return False
    with open(path, "rb+") as f:
        data = f.read()
        body = data.rstrip(b"\r\n\t ")
        cut = body.rfind(b"\n") + 1
        try:
            json.loads(body[cut:]) if body[cut:] else None
        except ValueError:
            f.truncate(cut)
            return True
        if data.endswith(b"\n"):
            return False
        f.write(b"\n")
    return True
