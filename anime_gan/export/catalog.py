"""The exports one server offers: every folder holding a ``model.json``, and their list for the page.

``anime-gan serve model_dir=data/export`` serves each export folder under it (``data/export/demo``
at ``/models/demo/``); a ``model_dir`` that is itself an export serves that one. The page reads
``/models/index.json`` (:func:`catalog`) to list the models with their resolution, variants
(file, size, parity with PyTorch) and provenance from each ``model.json``, and loads the one the
visitor picks.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from anime_gan.errors import UserError

#: A name that is safe as one URL path segment and as a query value (``?model=<name>``).
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def _is_export(folder: Path) -> bool:
    return (folder / "model.json").is_file()


def find_exports(model_dir: str | Path) -> dict[str, Path]:
    """Export name -> folder: ``model_dir`` itself when it holds a model.json, else each of its
    sub-folders that does (sorted by name; names that are not URL-safe are skipped)."""
    root = Path(model_dir)
    if _is_export(root):
        name = root.resolve().name
        return {name if NAME.match(name) else "model": root}
    if not root.is_dir():
        return {}
    return {
        p.name: p
        for p in sorted(root.iterdir())
        if p.is_dir() and NAME.match(p.name) and _is_export(p)
    }


def pick_default(exports: dict[str, Path], wanted: str | None = None) -> str:
    """The export the page loads first: ``wanted``, else ``demo``, else the first by name."""
    if wanted:
        if wanted not in exports:
            raise UserError(
                f"default_model={wanted!r} is not among the exports found ({', '.join(exports)}): "
                f"pick one of them."
            )
        return wanted
    return "demo" if "demo" in exports else next(iter(exports))


def _entry(name: str, folder: Path) -> dict[str, Any]:
    """What the page shows of one export; a model.json it cannot read is listed with its reason."""
    entry = {"name": name, "path": f"models/{name}/"}
    try:
        card = json.loads((folder / "model.json").read_text())
        source = card.get("source", {})
        config = source.get("generator_config") or {}
        return {
            **entry,
            "resolution": card["resolution"],
            "z_dim": card["z_dim"],
            "default_variant": card["default_variant"],
            "variants": {
                k: {"file": v["file"], "bytes": v["bytes"], "parity": v.get("parity")}
                for k, v in card["models"].items()
            },
            "source": {
                "iteration": source.get("iteration"),
                "checkpoint": source.get("checkpoint"),
                "note": source.get("note"),
                "generator": config.get("name"),
                "channels": config.get("channels"),
                "res_blocks": config.get("num_res_blocks"),
                "prior": source.get("prior_kind"),
            },
            "exported": card.get("exported"),
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        return {**entry, "error": f"model.json cannot be read ({e})"}


def catalog(exports: dict[str, Path], default: str) -> dict[str, Any]:
    """The contents of ``/models/index.json``."""
    return {
        "format": "anime-gan/models",
        "version": 1,
        "default": default,
        "models": [_entry(name, folder) for name, folder in exports.items()],
    }
