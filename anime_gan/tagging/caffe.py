"""Caffe ``.caffemodel`` files read straight from the protobuf wire format: kept by hand because
no installed library has Caffe's schema, and this reader tells a truncated file from a damaged one.

A caffemodel is a serialized ``NetParameter``. A weight converter needs only each layer's name,
type and parameter blobs, in both layouts Caffe has written over the years:

- new-style ``layer`` (NetParameter field 100): LayerParameter name=1, type=2 (string), blobs=7;
- old-style ``layers`` (NetParameter field 2): V1LayerParameter name=4, type=5 (enum), blobs=6.

A ``BlobProto`` holds float ``data`` (field 5, packed or not; ``double_data`` field 8 is accepted
too) and its shape: ``BlobShape`` (field 7, repeated int64 ``dim`` = 1, packed or not) or the
legacy ``num``/``channels``/``height``/``width`` (fields 1-4). Every other field is skipped by its
wire type, as a protobuf parser does with unknown fields.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from anime_gan.errors import UserError

VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5

#: V1LayerParameter.LayerType values of the layers a VGG-like net uses, as new-style type names.
V1_TYPES: dict[int, str] = {
    4: "Convolution",
    5: "Data",
    6: "Dropout",
    8: "Flatten",
    14: "InnerProduct",
    17: "Pooling",
    18: "ReLU",
    19: "Sigmoid",
    20: "Softmax",
    22: "Split",
}

_MAGIC = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"PK\x03\x04": "a zip archive",
    b"\x1f\x8b": "a gzip archive",
}
_TEXT_BYTES = frozenset(range(0x20, 0x7F)) | {0x09, 0x0A, 0x0D}


class CaffeFormatError(UserError):
    """A file that is not a complete Caffe NetParameter."""


class _Truncated(Exception):
    """The data ends inside a field."""


class _Malformed(Exception):
    """Bytes that no protobuf encoder writes."""


@dataclass(frozen=True)
class CaffeLayer:
    """One layer of a caffemodel: its name, type (new-style spelling) and parameter blobs."""

    name: str
    type: str
    blobs: tuple[np.ndarray, ...]


#: A field: number, wire type, then (for a varint) its value and end offset, or (for the other
#: wire types) its payload's start and end offsets.
_Field = tuple[int, int, int, int]


def _past_end(buf: memoryview, end: int, what: str) -> Exception:
    """Data running past ``end``: the file was cut short if ``end`` is the file's end, else the
    message is damaged."""
    return _Truncated() if end == len(buf) else _Malformed(f"{what} runs past its message")


def _varint(buf: memoryview, pos: int, end: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= end:
            raise _past_end(buf, end, "a varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise _Malformed("a varint longer than 10 bytes")


def _fields(buf: memoryview, start: int, end: int) -> Iterator[_Field]:
    """The fields of the message in ``buf[start:end]``, in file order."""
    pos = start
    while pos < end:
        key, pos = _varint(buf, pos, end)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise _Malformed(f"field number 0 at byte {pos}")
        if wire == VARINT:
            value, pos = _varint(buf, pos, end)
            yield number, wire, value, pos
            continue
        if wire == LENGTH:
            size, pos = _varint(buf, pos, end)
        elif wire in (FIXED64, FIXED32):
            size = 8 if wire == FIXED64 else 4
        else:
            raise _Malformed(f"wire type {wire} (field {number}) at byte {pos}")
        if pos + size > end:
            raise _past_end(buf, end, f"field {number}")
        yield number, wire, pos, pos + size
        pos += size


def _numbers(buf: memoryview, field: _Field, dtype: str) -> np.ndarray:
    """A packed (length-delimited) or single fixed-width number field as an array."""
    number, wire, start, end = field
    itemsize = np.dtype(dtype).itemsize
    if wire not in (LENGTH, FIXED32 if itemsize == 4 else FIXED64) or (end - start) % itemsize:
        raise _Malformed(f"field {number} is not a {dtype} list")
    return np.frombuffer(buf, dtype=dtype, count=(end - start) // itemsize, offset=start)


def _dims(buf: memoryview, field: _Field) -> list[int]:
    """``repeated int64 dim`` entries: one varint, or a packed run of them."""
    _, wire, pos, end = field
    if wire == VARINT:
        return [pos]
    if wire != LENGTH:
        raise _Malformed("a blob dimension is not a varint")
    dims = []
    while pos < end:
        value, pos = _varint(buf, pos, end)
        dims.append(value)
    return dims


def _blob(buf: memoryview, start: int, end: int) -> np.ndarray:
    """A BlobProto as a float32 array of its declared shape."""
    chunks: list[np.ndarray] = []
    shape: list[int] | None = None
    legacy: dict[int, int] = {}
    for f in _fields(buf, start, end):
        number, wire, value, f_end = f
        if number == 5:
            chunks.append(_numbers(buf, f, "<f4"))
        elif number == 8:
            chunks.append(_numbers(buf, f, "<f8").astype(np.float32))
        elif number == 7 and wire == LENGTH:
            shape = [d for g in _fields(buf, value, f_end) if g[0] == 1 for d in _dims(buf, g)]
        elif number in (1, 2, 3, 4) and wire == VARINT:
            legacy[number] = value
    data = chunks[0] if len(chunks) == 1 else np.concatenate(chunks or [np.zeros(0, np.float32)])
    if shape is None:
        shape = [legacy.get(i, 1) for i in (1, 2, 3, 4)] if legacy else [data.size]
    if int(np.prod(shape)) != data.size:
        raise _Malformed(f"a blob declares shape {tuple(shape)} but holds {data.size} values")
    return data.reshape(shape)


def _text(buf: memoryview, field: _Field) -> str:
    number, wire, start, end = field
    if wire != LENGTH:
        raise _Malformed(f"field {number} should be a string")
    try:
        return bytes(buf[start:end]).decode("utf-8")
    except UnicodeDecodeError:
        raise _Malformed("a layer name is not UTF-8 text") from None


def _layer(buf: memoryview, start: int, end: int, v1: bool) -> CaffeLayer:
    name_no, type_no, blobs_no = (4, 5, 6) if v1 else (1, 2, 7)
    name, kind, blobs = "", "", []
    for f in _fields(buf, start, end):
        number, wire, value, f_end = f
        if number == name_no:
            name = _text(buf, f)
        elif number == type_no:
            if v1 and wire != VARINT:
                raise _Malformed("a V1 layer type is not an enum")
            kind = V1_TYPES.get(value, f"V1:{value}") if v1 else _text(buf, f)
        elif number == blobs_no and wire == LENGTH:
            blobs.append(_blob(buf, value, f_end))
        elif v1 and number == 1 and wire == LENGTH:
            raise _Malformed(
                "it uses the pre-2014 V0 layer layout (upgrade it with Caffe's "
                "upgrade_net_proto_binary)"
            )
    return CaffeLayer(name, kind, tuple(blobs))


def parse_net(data: bytes | memoryview) -> list[CaffeLayer]:
    """The net's layers, in file order (raises ``_Truncated``/``_Malformed``)."""
    buf = memoryview(data)
    layers = []
    for number, wire, start, end in _fields(buf, 0, len(buf)):
        if number in (2, 100):
            if wire != LENGTH:
                raise _Malformed(f"field {number} (layers) is not a message")
            layers.append(_layer(buf, start, end, v1=number == 2))
    if not layers:
        raise _Malformed("no layers")
    return layers


def read_caffemodel(path: str | Path) -> list[CaffeLayer]:
    """The layers of a binary ``.caffemodel`` file; a clear :class:`UserError` for anything else.

    Blob arrays are read-only views of the file's bytes (no copy of a ~1 GB model).
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"no Caffe model file at {path}: check the path (src=...).")
    data = path.read_bytes()
    if not data:
        raise CaffeFormatError(f"{path} is empty: download the .caffemodel file again.")
    for magic, what in _MAGIC.items():
        if data.startswith(magic):
            raise CaffeFormatError(
                f"{path} is {what}, not a Caffe model: pass the .caffemodel file."
            )
    if set(data[:64]) <= _TEXT_BYTES:
        raise CaffeFormatError(
            f"{path} is a text file (a .prototxt?), not a binary Caffe model: "
            f"pass the .caffemodel file."
        )
    if data[8:9] == b"{" and 8 < int.from_bytes(data[:8], "little") + 8 <= len(data):
        raise CaffeFormatError(
            f"{path} looks like a safetensors file, not a Caffe model: it may "
            f"already be converted; pass the .caffemodel file."
        )
    try:
        return parse_net(data)
    except _Truncated:
        raise CaffeFormatError(
            f"{path} ends inside a field ({len(data)} bytes): the file is "
            f"truncated, so download it again."
        ) from None
    except _Malformed as e:
        raise CaffeFormatError(
            f"{path} is not a readable Caffe model ({e}): pass a binary "
            f".caffemodel file, downloaded again if it is damaged."
        ) from None
