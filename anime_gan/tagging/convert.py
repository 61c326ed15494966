"""Official Illustration2Vec ``.caffemodel`` -> safetensors, checked layer by layer.

``anime-gan convert-i2v src=data/weights/illust2vec_tag_ver200.caffemodel`` writes
``data/weights/illust2vec_tag_ver200.safetensors``; the kind (``tag`` or ``feature``) is found
from the head layers unless given. Every expected layer must be present, of the right type, with
a weight and a bias of the expected shapes; otherwise one sentence names the layer, the expected
and the found shapes. The output is written to a temporary sibling and renamed into place.
"""

from __future__ import annotations

import itertools
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from anime_gan.errors import UserError
from anime_gan.tagging.caffe import CaffeLayer, read_caffemodel
from anime_gan.tagging.illust2vec import (
    CAFFEMODEL,
    FORMAT,
    KINDS,
    RELEASE,
    RELEASE_URL,
    Illust2VecArch,
    Shape,
)

log = logging.getLogger(__name__)

#: Caffe layer type of each expected layer (by name prefix).
_LAYER_TYPE = {"conv": "Convolution", "encode": "InnerProduct"}


@dataclass(frozen=True)
class Conversion:
    """What :func:`convert_caffemodel` wrote."""

    kind: str
    out: Path
    layers: int
    parameters: int


def detect_kind(layers: dict[str, CaffeLayer], source: Path) -> str:
    """``feature`` if the file has ``encode1``, ``tag`` if it has ``conv6_4``."""
    if "encode1" in layers:
        return "feature"
    if "conv6_4" in layers:
        return "tag"
    raise UserError(
        f"{source} has neither conv6_4 (tag model) nor encode1 (feature model) among "
        f"its layers ({_names(layers)}): it is truncated or not an Illustration2Vec "
        f"model, so download {RELEASE_URL}{CAFFEMODEL['tag']} (or "
        f"{CAFFEMODEL['feature']}) again."
    )


def _names(layers: dict[str, CaffeLayer]) -> str:
    """The first 8 layer names, for an error message."""
    more = f", ... {len(layers) - 8} more" if len(layers) > 8 else ""
    return ", ".join(list(layers)[:8]) + more if layers else "none with weights"


def _without_leading_ones(shape: Shape) -> Shape:
    """The shape without its leading 1s, so that the legacy 4-D blob shapes (1, 1, out, in) and
    (1, 1, 1, out) compare equal to (out, in) and (out,)."""
    return tuple(itertools.dropwhile(lambda d: d == 1, shape))


def _weights_of(
    layer: CaffeLayer, expected: tuple[Shape, Shape], kind: str, source: Path
) -> dict[str, np.ndarray]:
    """``{layer}.weight`` and ``{layer}.bias`` of ``layer``, checked against ``expected``."""
    want_type = _LAYER_TYPE[layer.name.rstrip("0123456789_")]
    if layer.type != want_type:
        raise UserError(
            f"layer {layer.name} of {source} is a {layer.type} layer where the "
            f"Illustration2Vec {kind} model has a {want_type}: pass "
            f"{CAFFEMODEL[kind]}."
        )
    if len(layer.blobs) != 2:
        raise UserError(
            f"layer {layer.name} of {source} has {len(layer.blobs)} blobs where a "
            f"weight and a bias are expected: pass the released {CAFFEMODEL[kind]}."
        )
    out = {}
    for blob, shape, what in zip(layer.blobs, expected, ("weight", "bias"), strict=True):
        if _without_leading_ones(blob.shape) != _without_leading_ones(shape):
            raise UserError(
                f"layer {layer.name} of {source} has {what} shape {tuple(blob.shape)} "
                f"where the Illustration2Vec {kind} model needs {shape}: pass the "
                f"released {CAFFEMODEL[kind]}."
            )
        out[f"{layer.name}.{what}"] = blob.reshape(shape)
    return out


def collect_weights(
    layers: list[CaffeLayer], kind: str, arch: Illust2VecArch, source: Path
) -> dict[str, np.ndarray]:
    """The checked ``{layer}.weight`` / ``{layer}.bias`` arrays of an Illustration2Vec model."""
    if kind not in ("auto", *KINDS):
        raise UserError(f"kind must be auto, tag or feature, not {kind!r}: fix kind=... .")
    by_name: dict[str, CaffeLayer] = {}
    for layer in layers:
        if not layer.blobs:
            continue  # ReLU, pooling, data: no parameters
        if layer.name in by_name:
            raise UserError(
                f"{source} has two layers named {layer.name} with weights: pass the "
                f"released Illustration2Vec caffemodel unchanged."
            )
        by_name[layer.name] = layer
    kind = detect_kind(by_name, source) if kind == "auto" else kind
    shapes = arch.shapes(kind)
    missing = [name for name in shapes if name not in by_name]
    if missing:
        raise UserError(
            f"{source} lacks the layers {', '.join(missing)} of the Illustration2Vec "
            f"{kind} model (it has {_names(by_name)}): the file is truncated or "
            f"another network, so download {RELEASE_URL}{CAFFEMODEL[kind]} again."
        )
    extra = [name for name in by_name if name not in shapes]
    if extra:
        log.warning(
            "%s: ignoring layers the %s model does not use: %s", source, kind, ", ".join(extra)
        )
    tensors: dict[str, np.ndarray] = {}
    for name, expected in shapes.items():
        tensors |= _weights_of(by_name[name], expected, kind, source)
    return tensors


def convert_caffemodel(
    src: str | Path,
    out: str | Path | None = None,
    kind: str = "auto",
    arch: Illust2VecArch = RELEASE,
) -> Conversion:
    """Convert an Illustration2Vec caffemodel to a safetensors file (atomically).

    ``out`` defaults to ``src`` with the suffix ``.safetensors``; ``arch`` is the release's
    unless a test converts a reduced network.
    """
    from safetensors.numpy import save_file

    src = Path(src)
    out = Path(out) if out is not None else src.with_suffix(".safetensors")
    tensors = collect_weights(read_caffemodel(src), kind, arch, src)
    kind = "feature" if "encode1.weight" in tensors else "tag"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        save_file(
            {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in tensors.items()},
            str(tmp),
            metadata={
                "format": FORMAT,  # what load_illust2vec checks
                "kind": kind,
                "width": str(arch.width),
                "input_size": str(arch.input_size),
                "source": src.name,
            },
        )
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return Conversion(kind, out, len(tensors) // 2, sum(int(v.size) for v in tensors.values()))
