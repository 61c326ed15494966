"""Write ``.caffemodel`` files: fabricated Illustration2Vec weights for tests and offline demos.

The real weights are a download away (docs/stages.md); tests and the fixture pipeline need files of the
same format with random values. The encoding here is written out plainly from the protobuf
wire-format rules and shares no code with the reader in :mod:`anime_gan.tagging.caffe`, so a bug
in one is not hidden by the other. Both layer layouts, both blob shape styles and both float
encodings (packed or one field per value) can be written.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from anime_gan.tagging.illust2vec import RELEASE, TRUNK, Illust2VecArch

_V1_ENUM = {"Convolution": 4, "InnerProduct": 14, "Pooling": 17, "ReLU": 18, "Sigmoid": 19}


def varint(n: int) -> bytes:
    """Base-128 little-endian varint (negative values as 10-byte two's complement)."""
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        out.append(low | (0x80 if n else 0))
        if not n:
            return bytes(out)


def key(field: int, wire: int) -> bytes:
    return varint((field << 3) | wire)


def length_field(field: int, payload: bytes) -> bytes:
    return key(field, 2) + varint(len(payload)) + payload


def varint_field(field: int, value: int) -> bytes:
    return key(field, 0) + varint(value)


def blob_bytes(array: np.ndarray, legacy_shape: bool = False, packed: bool = True) -> bytes:
    """A BlobProto: float data (field 5) and a BlobShape (field 7) or num/channels/height/width."""
    values = np.asarray(array, dtype=np.float32)
    if legacy_shape:  # Caffe's old 4-D blobs: FC weight (1, 1, out, in), bias (1, 1, 1, out)
        dims = (1,) * (4 - values.ndim) + values.shape
        head = b"".join(varint_field(i + 1, d) for i, d in enumerate(dims))
    elif packed:
        head = length_field(7, length_field(1, b"".join(varint(d) for d in values.shape)))
    else:
        head = length_field(7, b"".join(varint_field(1, d) for d in values.shape))
    if packed:
        data = length_field(5, values.astype("<f4").tobytes())
    else:
        data = b"".join(key(5, 5) + struct.pack("<f", float(v)) for v in values.reshape(-1))
    return head + data


def layer_bytes(
    name: str,
    type_: str,
    blobs: Sequence[np.ndarray],
    layout: str = "new",
    legacy_shape: bool = False,
    packed: bool = True,
) -> bytes:
    """One layer as a NetParameter field: ``layer`` (100) or V1 ``layers`` (2).

    Fields a reader must skip are mixed in, as real files have them: bottom/top strings, a
    learning-rate float (fixed32), a phase or param message.
    """
    blob_payloads = [blob_bytes(b, legacy_shape, packed) for b in blobs]
    if layout == "new":
        body = length_field(1, name.encode()) + length_field(2, type_.encode())
        body += length_field(3, b"bottom") + length_field(4, name.encode())
        body += key(5, 5) + struct.pack("<f", 1.0)  # loss_weight
        body += b"".join(length_field(7, p) for p in blob_payloads)
        body += varint_field(10, 1) + length_field(106, varint_field(1, 64))  # phase, a *_param
        return length_field(100, body)
    if layout == "v1":
        body = length_field(2, b"bottom") + length_field(3, name.encode())
        body += length_field(4, name.encode()) + varint_field(5, _V1_ENUM[type_])
        body += b"".join(length_field(6, p) for p in blob_payloads)
        body += b"".join(key(7, 5) + struct.pack("<f", 1.0) for _ in blobs)  # blobs_lr
        return length_field(2, body)
    raise ValueError(f"layout must be 'new' or 'v1', got {layout!r}")


def write_caffemodel(
    path: str | Path,
    layers: Iterable[tuple[str, str, Sequence[np.ndarray]]],
    layout: str = "new",
    legacy_shape: bool = False,
    packed: bool = True,
    net_name: str = "illust2vec",
) -> Path:
    """Write (name, type, blobs) layers as a binary NetParameter, with a name and input dims."""
    out = bytearray(length_field(1, net_name.encode()) + length_field(3, b"data"))
    out += b"".join(varint_field(4, d) for d in (1, 3, 224, 224))  # input_dim
    out += key(999, 1) + struct.pack("<d", 0.5)  # an unknown fixed64 field: a reader skips it
    for name, type_, blobs in layers:
        out += layer_bytes(name, type_, blobs, layout, legacy_shape, packed)
    path = Path(path)
    path.write_bytes(bytes(out))
    return path


def fabricate_weights(
    kind: str, arch: Illust2VecArch = RELEASE, seed: int = 0
) -> dict[str, np.ndarray]:
    """Random weights of the given Illustration2Vec model, scaled so activations stay O(1).

    He-scaled convs with the first layer divided by ~100 (inputs are mean-subtracted 0-255 values)
    and small heads, so that the probabilities spread over (0, 1) instead of saturating.
    """
    rng = np.random.default_rng(seed)
    weights: dict[str, np.ndarray] = {}
    for name, (w_shape, b_shape) in arch.shapes(kind).items():
        fan_in = int(np.prod(w_shape[1:]))
        scale = np.sqrt(2.0 / fan_in) * (0.01 if name == "conv1_1" else 1.0)
        scale *= 0.5 if name in ("conv6_4", "encode1", "encode2") else 1.0
        weights[f"{name}.weight"] = (rng.standard_normal(w_shape) * scale).astype(np.float32)
        weights[f"{name}.bias"] = (rng.standard_normal(b_shape) * 0.1).astype(np.float32)
    return weights


def fabricate_illust2vec(
    path: str | Path,
    kind: str,
    arch: Illust2VecArch = RELEASE,
    seed: int = 0,
    layout: str = "new",
    legacy_shape: bool = False,
    packed: bool = True,
) -> dict[str, np.ndarray]:
    """Write a caffemodel of the ``kind`` model with random weights; returns those weights.

    Parameterless ReLU and pooling layers sit between the convs as in the released prototxt.
    """
    weights = fabricate_weights(kind, arch, seed)
    layers: list[tuple[str, str, Sequence[np.ndarray]]] = []
    pools = {name for name, _, pool in TRUNK if pool}
    for name in arch.shapes(kind):
        kind_of_layer = "Convolution" if name.startswith("conv") else "InnerProduct"
        layers.append((name, kind_of_layer, [weights[f"{name}.weight"], weights[f"{name}.bias"]]))
        if name not in ("conv6_4", "encode2"):
            layers.append(
                (
                    f"relu{name[4:]}" if name.startswith("conv") else f"{name}neuron",
                    "ReLU" if name.startswith("conv") else "Sigmoid",
                    [],
                )
            )
        if name in pools:
            layers.append((f"pool{name[4]}", "Pooling", []))
    write_caffemodel(path, layers, layout, legacy_shape, packed)
    return weights
