"""A `describe`-style summary of a dataset: size, resolution, tag counts, years, sources."""

from collections import Counter
from typing import Any

import numpy as np

from anime_gan.data.dataset import FaceDataset
from anime_gan.data.tags import GROUPS, TAG_NAMES


def summarize(ds: FaceDataset) -> dict[str, Any]:
    """Counts that describe a dataset; JSON-serialisable."""
    labels = np.asarray(ds.labels, dtype=np.int64)
    known = np.asarray(ds.known, dtype=np.int64)
    years = Counter(m.get("year") for m in ds.metadata)
    sources = Counter(str(m.get("source", "?")).split(":")[0] for m in ds.metadata)
    return {
        "count": len(ds),
        "resolution": ds.resolution,
        "tags": {
            name: {"positive": int(labels[:, i].sum()), "known": int(known[:, i].sum())}
            for i, name in enumerate(TAG_NAMES)
        },
        "fully_known": int(known.all(axis=1).sum()),
        "unlabelled": int((known.sum(axis=1) == 0).sum()),
        "years": {
            str(y): c for y, c in sorted(years.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))
        },
        "sources": dict(sources),
        "extra": ds.info.get("report", {}),
    }


def format_summary(summary: dict[str, Any]) -> str:
    """Human-readable table of :func:`summarize`'s output."""
    lines = [
        f"images: {summary['count']}   resolution: {summary['resolution']}x{summary['resolution']}",
        f"fully labelled: {summary['fully_known']}   unlabelled: {summary['unlabelled']}",
        "",
        f"{'tag':<14}{'positive':>10}{'known':>9}",
    ]
    tags = summary["tags"]
    for group in GROUPS:
        lines.append(f"[{group.name}{' (exclusive)' if group.exclusive else ''}]")
        lines += [f"  {t:<12}{tags[t]['positive']:>10}{tags[t]['known']:>9}" for t in group.tags]
    years = summary["years"]
    if set(years) != {"None"}:
        lines += ["", "years: " + ", ".join(f"{y} {c}" for y, c in years.items())]
    lines += ["sources: " + ", ".join(f"{s} {c}" for s, c in summary["sources"].items())]
    lines += [f"{key}: {value}" for key, value in summary["extra"].items()]
    return "\n".join(lines)
