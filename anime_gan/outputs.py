"""The one rule for the folders the stages write, so that no stage deletes what it did not make.

A stage writes into a folder that

- does not exist yet, or is empty, or
- holds only what this same stage made before, recognised by the stage's manifest
  (``dataset.json`` of a dataset, ``detect.json`` of a detect folder, ...).

Anything else is refused before any work, in one sentence that names the folder and the fix;
an output folder is also never the stage's input, nor a folder that contains the input. A stage
that replaces its output (a dataset, an export) builds it in a temporary sibling folder and
renames it into place (:func:`staged_folder`), so a kill leaves the previous output or the new
one, never half of one; a stage that resumes (crawl, detect, tag) appends to its own files.
The rules of each stage are in docs/reliability.md.
"""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from anime_gan.errors import UserError

#: A Hydra run folder's own entries: accepted in any output folder (the default ``out`` of
#: several stages is the run folder itself), never written or deleted by a stage.
HYDRA_ENTRIES = (".hydra", "*.log")


def _matches(name: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


@dataclass(frozen=True)
class OutputKind:
    """What one stage writes into its folder.

    ``names``: glob patterns of the top-level entries the stage makes; ``manifest``: the file
    that marks a folder as the stage's (a JSON object whose ``"format"`` is ``format``, when that
    is given); ``unmarked``: entries that may exist before the manifest does (a lock file, the
    reject list the user writes).
    """

    made_by: str  # for messages: "`anime-gan detect`"
    names: tuple[str, ...]
    manifest: str | None = None
    format: str | None = None
    unmarked: tuple[str, ...] = ()

    def owns(self, name: str) -> bool:
        """Whether the stage makes an entry of this name (or its ``.<name>.tmp`` on the way)."""
        if name.startswith(".") and name.endswith(".tmp"):
            return self.owns(name[1:-4])
        return _matches(name, (*self.names, *self.unmarked))

    def is_marked(self, folder: Path) -> bool:
        """Whether ``folder`` holds the manifest (of this ``format``)."""
        path = folder / str(self.manifest)
        if self.format is None:
            return path.is_file()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        return isinstance(data, dict) and data.get("format") == self.format


DATASET = OutputKind(
    "`anime-gan import`, `render` or `build`",
    ("dataset.json", "images.npy", "labels.npy", "known.npy", "metadata.jsonl", "report"),
    "dataset.json",
    "anime-gan-dataset",
)
BUILD_REPORT = OutputKind(
    "`anime-gan build`",
    (
        "report.json",
        "tags.md",
        "tags.png",
        "years.png",
        "short_edge.png",
        "mean_faces.png",
        "tsne.png",
    ),
    "report.json",
)
DETECT = OutputKind(
    "`anime-gan detect`",
    ("crops", "faces.jsonl", "done.jsonl", "detect.json"),
    "detect.json",
)
CRAWL = OutputKind(
    "`anime-gan crawl`",
    (
        "images",
        "manifest.jsonl",
        "games.jsonl",
        "games.sql",
        "pages.jsonl",
        "skipped.jsonl",
        "failures.jsonl",
        "summary.json",
        "*.jsonl.part",
    ),
    "manifest.jsonl",
    unmarked=(".lock",),
)
TAG = OutputKind(
    "`anime-gan tag`",
    ("tags.jsonl", "tags.json", "skipped.jsonl"),
    "tags.json",
    "anime-gan-tags",
)
REVIEW = OutputKind(
    "`anime-gan review`",
    ("sheets", "index.tsv"),
    "index.tsv",
    unmarked=("rejects.txt",),
)
EXPORT = OutputKind(
    "`anime-gan export`",
    ("model.json", "*.onnx", "*.onnx.data"),
    "model.json",
    "anime-gan/model",
)

# Stages that only add files (their default ``out`` is the Hydra run folder): no manifest, but
# a folder holding anything else than their own files is refused all the same.
GENERATE = OutputKind(
    "`anime-gan generate`",
    (
        "samples",
        "samples_2x",
        "samples.png",
        "grid_random_tags.png",
        "grid_fixed_tags.png",
        "interpolation.png",
        "interpolation.gif",
        "sweep_*.png",
        "memorization.png",
    ),
)
EVALUATE = OutputKind(
    "`anime-gan evaluate`",
    (
        "metrics.json",
        "metrics.md",
        "precision.csv",
        "precision.md",
        "sheets",
        "overview.png",
        "wandb",
    ),
)
REPORT = OutputKind(
    "`anime-gan report`",
    (
        "index.md",
        "fig*.png",
        "fig*.gif",
        "sweep_*.png",
        "curve_*.png",
        "memorization_*.png",
        "judge",
        "precision",
    ),
)
JUDGE = OutputKind("`anime-gan judge-train`", ("judge.safetensors", "judge.json", "held_out.md"))
UPSCALE = OutputKind("`anime-gan upscale`", ("*.png",))


def check_output(
    folder: str | Path,
    kind: OutputKind,
    inputs: dict[str, str | Path] | None = None,
    option: str = "out",
) -> Path:
    """Refuse ``folder`` unless the rule of this module allows ``kind`` to write into it.

    ``inputs``: option name -> path of what the stage reads (``{"source": ...}``); the folder may
    be none of them and contain none of them. Returns the folder. Creates nothing.
    """
    folder = Path(folder)
    out = folder.resolve()
    for name, value in (inputs or {}).items():
        if value is None:
            continue
        source = Path(value).resolve()
        if source == out:
            raise UserError(
                f"{option}={folder} is the folder given as {name}=: choose another "
                f"folder for {option}= (nothing was changed)."
            )
        if out in source.parents:
            raise UserError(
                f"{option}={folder} contains {name}={value}: choose a folder "
                f"outside it for {option}= (nothing was changed)."
            )
    if not folder.exists():
        return folder
    if not folder.is_dir():
        raise UserError(
            f"{option}={folder} is a file, not a folder: choose a new folder for "
            f"{option}= (nothing was changed)."
        )
    entries = [e.name for e in folder.iterdir() if not _matches(e.name, HYDRA_ENTRIES)]
    foreign = sorted(
        n + ("/" if (folder / n).is_dir() else "") for n in entries if not kind.owns(n)
    )
    if foreign:
        shown = ", ".join(foreign[:3]) + (
            f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
        )
        raise UserError(
            f"{option}={folder} already holds {shown}, which {kind.made_by} did not "
            f"make: choose a new or empty folder for {option}= (nothing was changed)."
        )
    marked = [n for n in entries if not _matches(n, kind.unmarked)]
    if marked and kind.manifest is not None and not kind.is_marked(folder):
        raise UserError(
            f"{option}={folder} holds {', '.join(sorted(marked)[:3])} but no "
            f"{kind.manifest} of {kind.made_by}, so it is not that stage's folder: "
            f"choose a new or empty folder for {option}= (nothing was changed)."
        )
    return folder


def check_output_file(
    path: str | Path, is_ours: Callable[[Path], bool], what: str, option: str = "out"
) -> Path:
    """Refuse to replace an existing file at ``path`` unless ``is_ours`` says the stage made it."""
    path = Path(path)
    if path.is_dir():
        raise UserError(
            f"{option}={path} is a folder: give a new file name for {option}= "
            f"(nothing was changed)."
        )
    if path.exists() and not is_ours(path):
        raise UserError(
            f"{option}={path} exists and is not {what}: give a new file name for "
            f"{option}= (nothing was changed)."
        )
    return path


@contextmanager
def staged_folder(
    folder: str | Path, kind: OutputKind, inputs: dict[str, str | Path] | None = None
) -> Iterator[Path]:
    """A temporary sibling of ``folder`` to write the whole output into; on success it replaces
    ``folder`` (checked by :func:`check_output` first and again just before the swap)."""
    folder = check_output(folder, kind, inputs)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=folder.parent))
    try:
        staged = tmp / "out"
        staged.mkdir()
        yield staged
        check_output(folder, kind, inputs)
        if not folder.exists():
            os.replace(staged, folder)
            return
        # The old output (checked above to hold only this stage's files) goes only once the new
        # one is in place; Hydra's run files in it are carried over.
        for entry in folder.iterdir():
            if _matches(entry.name, HYDRA_ENTRIES):
                os.replace(entry, staged / entry.name)
        os.replace(folder, tmp / "old")
        try:
            os.replace(staged, folder)
        except BaseException:
            os.replace(tmp / "old", folder)
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_json_atomic(
    path: str | Path, data: Any, default: Callable[[Any], Any] | None = None
) -> Path:
    """Write ``data`` as JSON to ``path`` through a temporary file and a rename."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    text = json.dumps(data, indent=2, ensure_ascii=False, default=default)
    tmp.write_text(text + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path
