"""Append-only JSON-lines files after a kill: the one repair that crawl, detect and tag share.

Each stage appends one whole line per record, so a kill leaves at worst a torn last line. Before
a stage appends again, :func:`repair_tail` cuts that line off (or completes it with its newline
when it is a whole record), so the next record never glues onto a broken one and is never lost.
"""

from __future__ import annotations

import json
from pathlib import Path


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
