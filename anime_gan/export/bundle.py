"""``export_bundle``: a checkpoint -> the folder the web page loads (ONNX variants + model.json).

The folder holds ``generator.onnx`` and its smaller variants (anime_gan.export.onnx) and
``model.json``: the tag schema (groups, names, exclusivity), the generation prior (the training
set's empirical prior saved in the checkpoint, else the training prior), the inputs and output,
each variant's file, size and parity with PyTorch, and where the model came from.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import onnx
import onnxruntime
import torch
from torch import nn

from anime_gan.data.priors import LabelPrior
from anime_gan.data.tags import GROUPS, NUM_TAGS, OPPOSITES, TAG_NAMES
from anime_gan.errors import UserError
from anime_gan.export.onnx import (
    INT8_SESSION_CONFIG,
    SESSION_CONFIGS,
    VARIANTS,
    default_opset,
    export_fp32,
    int8_static,
    parity,
)
from anime_gan.models.checkpoint import checkpoint_prior, load_generator
from anime_gan.outputs import EXPORT, check_output, staged_folder

log = logging.getLogger("anime_gan.export")

#: fp32 must match PyTorch to this (max abs difference in [-1, 1] units), else the export is wrong.
FP32_TOLERANCE = 1e-4
#: Prior-drawn inputs on which the int8-static variant's activation ranges are calibrated.
CALIBRATION_SAMPLES = 64
#: default_variant=auto takes int8-static from this resolution on (below it int8-static only
#: quantizes the output convolution: no faster in WASM) and when its PSNR is within this many dB
#: of int8's; else int8.
AUTO_STATIC_RESOLUTION = 64
AUTO_STATIC_PSNR_MARGIN_DB = 1.0


def auto_default(models: dict[str, dict[str, Any]], resolution: int) -> str:
    """The variant the page loads by default under ``default_variant=auto``: the fastest one
    that keeps int8's quality (int8-static, see AUTO_STATIC_*), else int8, else the smallest."""

    def psnr(name: str) -> float:
        value = models[name]["parity"]["psnr_db"]
        return float("inf") if value is None else value

    if (
        "int8-static" in models
        and resolution >= AUTO_STATIC_RESOLUTION
        and (
            "int8" not in models or psnr("int8-static") >= psnr("int8") - AUTO_STATIC_PSNR_MARGIN_DB
        )
    ):
        return "int8-static"
    if "int8" in models:
        return "int8"
    return min(models, key=lambda name: models[name]["bytes"])


def parity_inputs(
    generator: nn.Module, prior: LabelPrior, n: int, seed: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` noise vectors and tag vectors drawn from the generation prior, reproducibly."""
    rng = torch.Generator().manual_seed(seed)
    return torch.randn(n, generator.z_dim, generator=rng), prior.sample(n, generator=rng)


def export_variants(
    generator: nn.Module,
    out: Path,
    variants: Sequence[str],
    prior: LabelPrior,
    samples: int,
    seed: int,
) -> dict[str, dict[str, Any]]:
    """Write the fp32 file and the requested variants into ``out``; size, parity (on ``samples``
    prior-drawn inputs from ``seed``) and session options of each."""
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise UserError(f"unknown export variant(s) {unknown}: choose from {list(VARIANTS)}.")
    fp32 = export_fp32(generator, out / VARIANTS["fp32"][0])
    z, c = parity_inputs(generator, prior, samples, seed)
    models = {}
    for name in ["fp32", *[v for v in variants if v != "fp32"]]:
        file, writer = VARIANTS[name]
        if name == "int8-static":
            # single-face feeds, another seed than the parity set's
            z1, c1 = parity_inputs(generator, prior, CALIBRATION_SAMPLES, seed=1)
            feeds = [
                {"z": z1[i : i + 1].numpy(), "c": c1[i : i + 1].float().numpy()}
                for i in range(CALIBRATION_SAMPLES)
            ]
            path = int8_static(fp32, out / file, feeds)
        else:
            path = fp32 if writer is None else writer(fp32, out / file)
        config = SESSION_CONFIGS.get(name, INT8_SESSION_CONFIG)
        size, error = path.stat().st_size, parity(generator, path, {"z": z, "c": c}, config=config)
        models[name] = {"file": file, "bytes": size, "parity": error, "session_config": config}
        log.info("%s: %s, %.2f MB, parity %s", name, file, size / 1e6, error)
    if "fp32" not in variants:
        del models["fp32"]
        fp32.unlink()
    return models


def model_card(
    generator: nn.Module,
    prior: LabelPrior,
    models: dict[str, dict[str, Any]],
    default_variant: str,
    source: dict[str, Any],
    samples: int,
    onnx_file: Path,
) -> dict[str, Any]:
    """The contents of model.json (everything the page needs besides the ONNX files); the opset
    is ``onnx_file``'s."""
    r = generator.resolution
    return {
        "format": "anime-gan/model",
        "version": 1,
        "resolution": r,
        "z_dim": generator.z_dim,
        "num_tags": NUM_TAGS,
        "io": {
            "inputs": {"z": ["N", generator.z_dim], "c": ["N", NUM_TAGS]},
            "output": {"image": ["N", 3, r, r]},
            "dtype": "float32",
            "range": [-1.0, 1.0],
            "tag_range": [0.0, 1.0],  # c's values for absent and present (the sliders span it)
            "layout": "NCHW",
            "note": "z ~ N(0, I); c: 1 = tag present, 0 = absent, schema order; pixel = (v + 1) * 127.5",
        },
        "schema": {
            "tags": list(TAG_NAMES),
            "groups": [
                {"name": g.name, "exclusive": g.exclusive, "tags": list(g.tags)} for g in GROUPS
            ],
            "opposites": [list(pair) for pair in OPPOSITES],  # tags never both present
        },
        "prior": prior.to_dict(),
        "models": models,
        "default_variant": default_variant,
        # the session options of variants without their own (exports before int8-static)
        "session_config": INT8_SESSION_CONFIG,
        "opset": default_opset(onnx.load(str(onnx_file), load_external_data=False)).version,
        "source": {**source, "prior_kind": prior.kind, "parity_samples": samples},
        "exported": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "versions": {
            "torch": torch.__version__,
            "onnx": onnx.__version__,
            "onnxruntime": onnxruntime.__version__,
        },
    }


def export_generator(
    generator: nn.Module,
    out: str | Path,
    prior: LabelPrior,
    source: dict[str, Any],
    variants: Sequence[str] = ("fp32", "fp16", "int8"),
    default_variant: str = "int8",
    samples: int = 16,
    seed: int = 0,
) -> dict[str, Any]:
    """Export an eval-mode generator into ``out`` (ONNX variants + model.json); returns model.json.

    Raises :class:`UserError` for a bad variant name, and RuntimeError when the fp32 file does
    not reproduce PyTorch (an export bug, not user input).
    """
    if default_variant != "auto" and default_variant not in variants:
        raise UserError(
            f"default_variant {default_variant!r} is not among the exported variants "
            f"{list(variants)}: add it to variants or pick one of them."
        )
    with staged_folder(out, EXPORT) as staged:  # the page never sees half an export
        models = export_variants(generator.eval(), staged, list(variants), prior, samples, seed)
        if "fp32" in models and models["fp32"]["parity"]["max_abs"] >= FP32_TOLERANCE:
            raise RuntimeError(
                f"the fp32 ONNX export differs from PyTorch by "
                f"{models['fp32']['parity']['max_abs']:.2e}"
            )
        if default_variant == "auto":
            default_variant = auto_default(models, generator.resolution)
        first_file = staged / next(iter(models.values()))["file"]  # its opset is the card's
        card = model_card(generator, prior, models, default_variant, source, samples, first_file)
        (staged / "model.json").write_text(json.dumps(card, indent=2, allow_nan=False) + "\n")
    return card


def export_bundle(
    ckpt: str | Path,
    out: str | Path,
    variants: Sequence[str] = ("fp32", "fp16", "int8"),
    default_variant: str = "int8",
    samples: int = 16,
    seed: int = 0,
    ema: bool = True,
) -> dict[str, Any]:
    """Export a checkpoint's (EMA) generator, with the checkpoint's prior, into ``out``."""
    check_output(out, EXPORT, {"ckpt": ckpt})  # before the checkpoint is even read
    generator, meta = load_generator(ckpt, ema=ema)
    ckpt_path = Path(ckpt).resolve()
    source = {
        "checkpoint": str(
            ckpt_path.relative_to(Path.cwd()) if ckpt_path.is_relative_to(Path.cwd()) else ckpt_path
        ),
        "iteration": meta.get("iteration"),
        "ema": ema,
        "generator_config": meta.get("generator_config"),
    }
    return export_generator(
        generator, out, checkpoint_prior(meta), source, variants, default_variant, samples, seed
    )
