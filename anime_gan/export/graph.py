"""ONNX graph rewrites of the exported generator for onnxruntime-web's WASM kernels.

Own code for the Col2Im form (no onnx or onnxruntime pass does it); the quantization itself is
onnxruntime.quantization's.

- :func:`output_conv_as_col2im`: the last convolution (``k9n3s1``, in its polyphase form a 5x5
  convolution to 12 channels, :mod:`anime_gan.export.fold`) as a 1x1 convolution to
  ``12 * 5 * 5`` channels followed by ``Col2Im``, which adds the shifted taps up. A convolution
  with 12 output channels is a matrix product 12 rows tall over a 6,400-row unfolded input; the
  1x1 form is a 300-row product with no unfolding, and Col2Im is one pass over 1.2 M numbers.
  Same arithmetic up to float rounding; needs opset 18 (Col2Im).
- :func:`int8_static`: static int8 quantization (QDQ, calibrated on prior-drawn inputs) of the
  convolutions above the trunk's resolution and of the output convolution, which then run as
  ``QLinearConv`` in int8 arithmetic; every other layer stays float (its weights stored as fp16,
  the dense layer's as int8), which keeps the error near the int8-weight variant's
  (docs/web_speed.md has the measurements).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper


def default_opset(model: onnx.ModelProto) -> onnx.OperatorSetIdProto:
    """The model's entry for the default (ai.onnx) domain."""
    return next(o for o in model.opset_import if o.domain in ("", "ai.onnx"))


def output_conv_as_col2im(model: onnx.ModelProto) -> onnx.ModelProto:
    """Rewrite the convolution that feeds the output ``Tanh`` as 1x1 Conv + Reshape + Col2Im +
    bias (in place; returns the model). A model without such a layer is returned unchanged."""
    g = model.graph
    producer = {o: n for n in g.node for o in n.output}
    tanh = next((n for n in g.node if n.op_type == "Tanh"), None)
    conv = producer.get(tanh.input[0]) if tanh is not None else None
    if conv is None or conv.op_type != "Conv":
        return model
    inits = {i.name: i for i in g.initializer}
    weight = numpy_helper.to_array(inits[conv.input[1]])
    bias = numpy_helper.to_array(inits[conv.input[2]])
    out_ch, in_ch, k, _ = weight.shape
    r = k // 2
    pads = next(
        (helper.get_attribute_value(a) for a in conv.attribute if a.name == "pads"), [r] * 4
    )
    if k == 1 or list(pads) != [r] * 4:  # a reflected border is a Pad node and pads of 0
        return model
    shapes = onnx.shape_inference.infer_shapes(model).graph.value_info
    dims = next(v.type.tensor_type.shape.dim for v in shapes if v.name == conv.input[0])
    height, width = dims[2].dim_value, dims[3].dim_value
    # Col2Im adds column (c, i, j) at pixel (y, x) into the image at (y + i - r, x + j - r);
    # a correlation takes input pixel p into output p - (i - r): the kernel flipped.
    flipped = weight[:, :, ::-1, ::-1].transpose(0, 2, 3, 1).reshape(out_ch * k * k, in_ch, 1, 1)
    name = conv.name or "output_conv"
    new_inits = [
        numpy_helper.from_array(np.ascontiguousarray(flipped, dtype=np.float32), f"{name}.taps"),
        numpy_helper.from_array(np.array([0, out_ch * k * k, -1], np.int64), f"{name}.columns"),
        numpy_helper.from_array(np.array([height, width], np.int64), f"{name}.image"),
        numpy_helper.from_array(np.array([k, k], np.int64), f"{name}.block"),
        numpy_helper.from_array(bias.reshape(1, out_ch, 1, 1).astype(np.float32), f"{name}.bias4"),
    ]
    t = f"{name}/"
    nodes = [
        helper.make_node(
            "Conv",
            [conv.input[0], f"{name}.taps"],
            [t + "taps"],
            kernel_shape=[1, 1],
            name=t + "Conv1x1",
        ),
        helper.make_node(
            "Reshape", [t + "taps", f"{name}.columns"], [t + "columns"], name=t + "Reshape"
        ),
        helper.make_node(
            "Col2Im",
            [t + "columns", f"{name}.image", f"{name}.block"],
            [t + "sum"],
            pads=[r, r, r, r],
            name=t + "Col2Im",
        ),
        helper.make_node("Add", [t + "sum", f"{name}.bias4"], [conv.output[0]], name=t + "Bias"),
    ]
    at = list(g.node).index(conv)
    g.node.remove(conv)
    for offset, node in enumerate(nodes):
        g.node.insert(at + offset, node)
    for old in (conv.input[1], conv.input[2]):
        g.initializer.remove(inits[old])
    g.initializer.extend(new_inits)
    default_opset(model).version = max(default_opset(model).version, 18)  # Col2Im
    onnx.checker.check_model(model)
    return model


def quantized_layers(model: onnx.ModelProto) -> list[str]:
    """The Conv nodes of int8_static: those above the trunk's resolution (the upsampling
    convolutions after the first, which carry most of the work) and the output convolution.
    The trunk's residual blocks stay float: quantizing them costs most of the error."""
    shapes = {v.name: v for v in onnx.shape_inference.infer_shapes(model).graph.value_info}

    def side(tensor: str) -> int:
        dims = shapes[tensor].type.tensor_type.shape.dim if tensor in shapes else []
        return dims[2].dim_value if len(dims) == 4 else 0

    convs = [(n.name, side(n.output[0])) for n in model.graph.node if n.op_type == "Conv"]
    trunk = min(s for _, s in convs if s)
    layers = [name for name, s in convs if s > trunk]
    if convs and convs[-1][0] not in layers:
        layers.append(convs[-1][0])  # the output convolution (the 1x1 of the Col2Im form)
    return layers


#: Ops after a quantized convolution that stay in int8 with it (the ReLU is absorbed into the
#: convolution's output range; DepthToSpace moves bytes instead of floats).
FOLLOWERS = ("Relu", "DepthToSpace")


def _followers(model: onnx.ModelProto, layers: Sequence[str]) -> list[str]:
    """The Relu / DepthToSpace chain right after each of ``layers`` (names)."""
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for n in model.graph.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    out = []
    for node in (n for n in model.graph.node if n.name in layers):
        while True:
            nxt = consumers.get(node.output[0], [])
            if len(nxt) != 1 or nxt[0].op_type not in FOLLOWERS:
                break
            node = nxt[0]
            out.append(node.name)
    return out


def int8_static(
    src: str | Path,
    dst: str | Path,
    calibration: Sequence[dict[str, np.ndarray]],
) -> Path:
    """Quantize the :func:`quantized_layers` of the fp32 file ``src`` with
    onnxruntime's static QDQ quantization (int8 per-channel weights, uint8 per-tensor activations,
    min-max over ``calibration``: a list of input feeds); store the other weights smaller."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    from anime_gan.export.onnx import fp16_encode, int8_encoder, quiet_root_logger, store_weights

    feeds = list(calibration)

    class Feeds(CalibrationDataReader):
        def get_next(self) -> dict[str, np.ndarray] | None:
            return feeds.pop() if feeds else None

    dst = Path(dst)
    model = onnx.load(str(src))
    layers = quantized_layers(model)
    layers += _followers(model, layers)
    tmp = dst.with_suffix(".qdq-tmp.onnx")
    try:
        with quiet_root_logger():
            quantize_static(
                str(src),
                str(tmp),
                Feeds(),
                quant_format=QuantFormat.QDQ,
                per_channel=True,
                activation_type=QuantType.QUInt8,
                weight_type=QuantType.QInt8,
                calibrate_method=CalibrationMethod.MinMax,
                nodes_to_quantize=layers,
                op_types_to_quantize=["Conv", *FOLLOWERS],
            )
        model = onnx.load(str(tmp))
    finally:
        for leftover in (tmp, Path(str(tmp) + ".data"), Path("augmented_model.onnx")):
            leftover.unlink(missing_ok=True)
    int8 = int8_encoder(model)
    gemm_weights = {n.input[1] for n in model.graph.node if n.op_type in ("Gemm", "MatMul")}
    onnx.save(
        store_weights(
            model, lambda name, a: int8(name, a) if name in gemm_weights else fp16_encode(name, a)
        ),
        str(dst),
    )
    return dst
