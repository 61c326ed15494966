"""Checkpoints: atomic writes, and the generator rebuilt from a checkpoint without Hydra."""

import os
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO
from torch import nn

from anime_gan.data.priors import LabelPrior
from anime_gan.errors import UserError
from anime_gan.models.generator import build_generator


class AtomicCheckpointIO(TorchCheckpointIO):
    """Writes each checkpoint to a temporary file and renames it into place, so a kill at any
    moment leaves either the previous checkpoint or the new one, never a truncated file."""

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: str | Path, storage_options: Any = None
    ) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            torch.save(checkpoint, tmp)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load a training checkpoint safely (tensors and plain data only, no pickled code)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(
            f"checkpoint {path} does not exist: train a model first (make demo) or give "
            f"the path of a .ckpt file, e.g. runs/demo/checkpoints/last.ckpt."
        )
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # truncated, foreign or corrupt file
        raise UserError(
            f"{path} is not a readable checkpoint ({type(e).__name__}): use a .ckpt "
            f"written by `anime-gan train`."
        ) from None
    if "anime_gan" not in ckpt:
        raise UserError(f"{path} was not written by `anime-gan train` (no anime_gan section).")
    return ckpt


def resumable_checkpoint(path: Path) -> Path:
    """``path`` if it is a whole checkpoint that loads with ``weights_only=True`` (tensors and
    plain data, never code), else a UserError that names the newest earlier one that does."""
    if not path.is_file():
        raise UserError(
            f"ckpt_path={path} does not exist: give a .ckpt written by `anime-gan "
            f"train`, or ckpt_path=last to resume a run folder's last checkpoint."
        )
    if _loads(path):
        return path
    earlier = [p for p in sorted(path.parent.glob("iter*.ckpt"), reverse=True) if p != path]
    intact = next((p for p in earlier if _loads(p)), None)
    hint = (
        f"resume from the newest intact one with ckpt_path={intact}"
        if intact
        else "start afresh without ckpt_path, in a new run folder"
    )
    raise UserError(
        f"{path} is not a whole checkpoint of `anime-gan train` (truncated, corrupt "
        f"or holding code), so training cannot resume from it: {hint}."
    )


def _loads(path: Path) -> bool:
    try:
        read_checkpoint(path)
    except UserError:
        return False
    return True


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Delete ``.<name>.ckpt.<pid>.tmp`` files that a kill during a save left in ``folder``
    (those of a process that still runs are kept); returns the deleted paths."""
    removed = []
    for tmp in folder.glob(".*.ckpt.*.tmp"):  # none when the folder does not exist (yet)
        pid = tmp.name.rsplit(".", 2)[-2]
        if pid.isdigit() and not _running(int(pid)):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only checks that the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        pass
    return True


def load_generator(path: str | Path, ema: bool = True) -> tuple[nn.Module, dict[str, Any]]:
    """The (EMA) generator of a checkpoint, in eval mode on the CPU, and the checkpoint's
    ``anime_gan`` section (generator config, iteration, empirical prior)."""
    ckpt = read_checkpoint(path)
    meta = ckpt["anime_gan"]
    if "generator_config" not in meta:
        what = (
            "an upscaler's (anime-gan sr-train)" if "upscaler_config" in meta else "another model's"
        )
        raise UserError(
            f"{path} is {what} checkpoint, not a face generator's: give a checkpoint "
            f"written by `anime-gan train`, e.g. runs/demo/checkpoints/last.ckpt."
        )
    generator = build_generator(meta["generator_config"])
    prefix = "generator_ema.module." if ema else "generator."
    state = {k[len(prefix) :]: v for k, v in ckpt["state_dict"].items() if k.startswith(prefix)}
    generator.load_state_dict(state)
    return generator.eval(), meta


def checkpoint_prior(meta: dict[str, Any]) -> LabelPrior:
    """The generation prior saved with a checkpoint (the training set's), else the training prior."""
    return LabelPrior.from_dict(meta["prior"]) if meta.get("prior") else LabelPrior.training()
