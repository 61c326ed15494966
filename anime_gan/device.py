"""The ``device=`` option of every stage, read in one place: ``auto``, ``cpu``, ``cuda``, ``cuda:1``."""

from __future__ import annotations

import torch

from anime_gan.errors import UserError


def resolve_device(device: str) -> torch.device:
    """``auto`` -> the GPU when there is one, else the CPU; anything else as torch spells it."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise UserError(f"unknown device {device!r}: use device=auto, cpu or cuda.") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise UserError(f"device={device} but this torch sees no CUDA GPU: use device=auto or cpu.")
    return dev
