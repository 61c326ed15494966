"""The generator and the upscaler as ONNX for the web page: export, the generator's smaller
variants, and parity with PyTorch.

Own code for the Col2Im rewrite and the weight re-storing (no onnx or onnxruntime pass does
them); the quantization itself is onnxruntime.quantization's.

The graph (opset 18: the output convolution is rewritten with Col2Im, see below) has two inputs
and one output, all float32 with a dynamic batch dimension N:

- ``z``     [N, z_dim]  noise, N(0, I);
- ``c``     [N, 34]     tags in schema order (anime_gan.data.tags), 1 = present, 0 = absent;
- ``image`` [N, 3, R, R] RGB in [-1, 1] (the generator's tanh, unchanged; pixel = (v + 1) * 127.5).

Variants, all with the same inputs, outputs and fp32 arithmetic:

- ``fp32``: the network with its BatchNorms folded (anime_gan.export.fold);
- ``fp16``: weights stored as float16, cast to float32 once when the session is created
  (half the download, same speed; WASM has no fp16 arithmetic to gain from);
- ``int8``: weights stored as int8 with one scale per output channel (symmetric) and a
  ``DequantizeLinear`` in front of each, which onnxruntime folds into float32 constants when
  the session option ``session.disable_quant_qdq`` is "1": a quarter of the download, same speed.
  The paper's site served its weights the same way (8-bit, 3.9 MB);
- ``int8-static``: the three largest convolutions quantized statically (calibrated on
  prior-drawn inputs) and computed in int8 (``QLinearConv``), the other layers float
  (:func:`int8_static`): about a third of the size and the fastest in WASM, with
  the int8 variant's error. Its session must keep the QDQ nodes (``session.disable_quant_qdq``
  "0": :data:`SESSION_CONFIGS`);
- ``int8-dynamic``: onnxruntime.quantization's dynamic quantization (int8 arithmetic through
  ``ConvInteger``), kept for comparison: a quarter of the size but several times slower in WASM.

Graph rewrites for onnxruntime-web's WASM kernels:

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

The upscaler (:func:`export_upscaler`, the page's optional 2x step) has one input ``image``
``[N, 3, H, W]`` and one output ``upscaled`` ``[N, 3, 2H, 2W]``, float32 in [-1, 1], every
dimension but the channels dynamic, so the page can upscale whatever the generator makes
(e.g. 128 -> 256). Its output is clamped to [-1, 1] inside the graph (a Hardtanh: ONNX Clip);
opset and session options are the generator's; onnxruntime folds its BatchNorms into the
convolutions itself.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import TensorProto, helper, numpy_helper
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quantize_dynamic,
    quantize_static,
)
from torch import nn

from anime_gan.export.fold import inference_generator

OPSET = 17  # what torch.onnx writes; the output-conv rewrite raises the file to 18
OUTPUT = "image"
#: Weight matrices and kernels with at least this many entries are re-stored; biases (1-D) and
#: tiny tensors stay float32 (too small to matter, and exact).
MIN_QUANTIZED_SIZE = 256
#: Session options under which the int8 variant's dequantization is folded at load time.
INT8_SESSION_CONFIG = {"session.disable_quant_qdq": "1"}
#: Session options per variant (the page passes them to onnxruntime-web); default INT8_SESSION_CONFIG.
SESSION_CONFIGS = {"int8-static": {"session.disable_quant_qdq": "0"}}


def export_fp32(generator: nn.Module, path: str | Path) -> Path:
    """Write the (eval-mode) generator, BatchNorms folded and its output convolution in the
    Col2Im form (:func:`output_conv_as_col2im`), as ONNX with a dynamic batch."""
    z = torch.zeros(2, generator.z_dim)
    c = torch.zeros(2, generator.num_tags)
    batch = {0: "N"}
    path = write_onnx(
        inference_generator(generator),
        (z, c),
        path,
        {"z": batch, "c": batch},
        {OUTPUT: batch},
    )
    onnx.save(output_conv_as_col2im(onnx.load(str(path))), str(path))
    return path


def write_onnx(
    net: nn.Module,
    example: tuple[torch.Tensor, ...],
    path: str | Path,
    inputs: dict[str, dict[int, str]],
    outputs: dict[str, dict[int, str]],
) -> Path:
    """``torch.onnx.export`` of ``net`` run on ``example`` at :data:`OPSET`, with constant
    folding; ``inputs`` and ``outputs`` name the graph's tensors, in order, and their dynamic
    axes (the generator's and the upscaler's export)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter's notice that dynamo is default
        # dynamo=False: the TorchScript exporter needs no onnxscript and gives a plain graph.
        torch.onnx.export(
            net,
            example,
            str(path),
            input_names=list(inputs),
            output_names=list(outputs),
            dynamic_axes={**inputs, **outputs},
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )
    return path


Encoded = tuple[list[onnx.NodeProto], list[TensorProto]]


def store_weights(
    src: str | Path, dst: str | Path, encode: Callable[[str, np.ndarray], Encoded]
) -> Path:
    """Copy the ONNX file ``src`` to ``dst`` with each large float initializer re-stored through
    ``encode``, which returns the nodes that rebuild the float32 tensor under its original name
    and the initializers those nodes read (the fp16 and int8 variants)."""
    model = onnx.load(str(src))
    graph = model.graph
    keep, nodes, added = [], [], []
    for init in graph.initializer:
        array = numpy_helper.to_array(init)
        if (
            init.data_type == TensorProto.FLOAT
            and array.ndim >= 2
            and array.size >= MIN_QUANTIZED_SIZE
        ):
            new_nodes, new_inits = encode(init.name, array)
            nodes += new_nodes
            added += new_inits
        else:
            keep.append(init)
    del graph.initializer[:]
    graph.initializer.extend(keep + added)
    rest = list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes + rest)
    onnx.checker.check_model(model)
    onnx.save(model, str(dst))
    return Path(dst)


def fp16_encode(name: str, array: np.ndarray) -> Encoded:
    """A float16 copy and a ``Cast`` to float32 (folded into a constant when the session loads)."""
    stored = numpy_helper.from_array(array.astype(np.float16), f"{name}__fp16")
    return [helper.make_node("Cast", [stored.name], [name], to=TensorProto.FLOAT)], [stored]


def int8_encode(name: str, array: np.ndarray) -> Encoded:
    """Symmetric int8 weights, one scale per output channel (axis 0: of a conv weight, and of
    the dense layer's, which torch.onnx writes as a Gemm with transB), and a
    ``DequantizeLinear`` that rebuilds the float."""
    scale = np.abs(array).max(axis=tuple(range(1, array.ndim))) / 127.0
    scale = np.where(scale > 0, scale, 1.0).astype(np.float32)
    q = np.clip(np.round(array / scale.reshape(-1, *[1] * (array.ndim - 1))), -127, 127)
    inits = [
        numpy_helper.from_array(q.astype(np.int8), f"{name}__int8"),
        numpy_helper.from_array(scale, f"{name}__scale"),
        numpy_helper.from_array(np.zeros(scale.shape, np.int8), f"{name}__zero"),
    ]
    node = helper.make_node("DequantizeLinear", [i.name for i in inits], [name], axis=0)
    return [node], inits


def int8_dynamic(src: str | Path, dst: str | Path) -> Path:
    """onnxruntime's dynamic quantization (int8 weights per channel, uint8 activations)."""
    with quiet_root_logger():
        quantize_dynamic(str(src), str(dst), per_channel=True, weight_type=QuantType.QInt8)
    return Path(dst)


@contextmanager
def quiet_root_logger() -> Iterator[None]:
    """Only errors from the root logger, where onnxruntime.quantization gives its advice (to
    pre-process the model)."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)


#: variant name -> (file name, writer from the fp32 file; None for fp32 itself)
VARIANTS: dict[str, tuple[str, Callable[[Path, Path], Path] | None]] = {
    "fp32": ("generator.onnx", None),
    "fp16": ("generator.fp16.onnx", partial(store_weights, encode=fp16_encode)),
    "int8": ("generator.int8.onnx", partial(store_weights, encode=int8_encode)),
    "int8-static": ("generator.int8-static.onnx", None),  # bundle writes it (calibrated)
    "int8-dynamic": ("generator.int8-dynamic.onnx", int8_dynamic),
}


def ort_session(
    path: str | Path | bytes, threads: int = 1, config: dict[str, str] | None = None
) -> ort.InferenceSession:
    """An onnxruntime CPU session, of a file or of a serialized model, with the options the page
    uses (``config``: the variant's session options, default the int8 fold)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    for key, value in (INT8_SESSION_CONFIG if config is None else config).items():
        options.add_session_config_entry(key, value)
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def parity(
    model: nn.Module,
    path: str | Path,
    inputs: dict[str, torch.Tensor],
    output: str = OUTPUT,
    config: dict[str, str] | None = None,
) -> dict[str, float | None]:
    """Differences between PyTorch's output and the ONNX file's on the same ``inputs`` (graph
    input name -> tensor), in [-1, 1] units: max and mean absolute difference, and PSNR in dB
    over the [-1, 1] range (None when the outputs are identical: JSON has no infinity)."""
    with torch.no_grad():
        expected = model.cpu().eval()(*inputs.values()).numpy()
    feed = {name: x.numpy() for name, x in inputs.items()}
    got = ort_session(path, config=config).run([output], feed)[0]
    diff = np.abs(got.astype(np.float64) - expected)
    mse = float((diff**2).mean())
    psnr = None if mse == 0 else round(float(10 * np.log10(4.0 / mse)), 2)
    return {"max_abs": float(diff.max()), "mean_abs": float(diff.mean()), "psnr_db": psnr}


def export_upscaler(model: nn.Module, path: str | Path) -> Path:
    """Write the (eval-mode, CPU) upscaler as ONNX with dynamic batch, height and width."""
    path = write_onnx(
        _clamped(model),
        (torch.zeros(1, 3, 16, 16),),
        path,
        {"image": {0: "N", 2: "H", 3: "W"}},
        {"upscaled": {0: "N", 2: "H2", 3: "W2"}},
    )
    onnx.checker.check_model(str(path))
    return path


def upscaler_parity(model: nn.Module, path: str | Path, images: torch.Tensor) -> dict:
    """:func:`parity` of the upscaler's ONNX file on ``images`` (in [-1, 1])."""
    return parity(_clamped(model), path, {"image": images}, "upscaled")


def _clamped(model: nn.Module) -> nn.Module:
    """The upscaler with its output clamped to [-1, 1], as its graph has it (ONNX Clip)."""
    return nn.Sequential(model, nn.Hardtanh()).cpu().eval()


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
    constants = {
        "taps": np.ascontiguousarray(flipped, dtype=np.float32),
        "columns": np.array([0, out_ch * k * k, -1], np.int64),
        "image": np.array([height, width], np.int64),
        "block": np.array([k, k], np.int64),
        "bias4": bias.reshape(1, out_ch, 1, 1).astype(np.float32),
    }
    new_inits = [numpy_helper.from_array(a, f"{name}.{key}") for key, a in constants.items()]
    c, t = f"{name}.", f"{name}/"  # constants and tensors of the new nodes
    nodes = [
        helper.make_node(
            "Conv",
            [conv.input[0], c + "taps"],
            [t + "taps"],
            kernel_shape=[1, 1],
            name=t + "Conv1x1",
        ),
        helper.make_node(
            "Reshape", [t + "taps", c + "columns"], [t + "columns"], name=t + "Reshape"
        ),
        helper.make_node(
            "Col2Im",
            [t + "columns", c + "image", c + "block"],
            [t + "sum"],
            pads=[r, r, r, r],
            name=t + "Col2Im",
        ),
        helper.make_node("Add", [t + "sum", c + "bias4"], [conv.output[0]], name=t + "Bias"),
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


def quantized_layers(model: onnx.ModelProto, feed: dict[str, np.ndarray]) -> list[str]:
    """The convolutions of int8_static: those above the trunk's resolution (the upsampling
    convolutions after the first, which carry most of the work) and the output convolution.
    The trunk's residual blocks stay float: quantizing them costs most of the error. Sides are
    measured by running ``feed`` (shape inference cannot follow reflect padding's Pad sizes)."""
    convs = [n.output[0] for n in model.graph.node if n.op_type in CONVOLUTIONS]
    names = {n.output[0]: n.name for n in model.graph.node}
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    probe.graph.output.extend(helper.make_empty_tensor_value_info(out) for out in convs)
    sides = [a.shape[2] for a in ort_session(probe.SerializeToString()).run(convs, feed)]
    layers = [names[out] for out, side in zip(convs, sides) if side > min(sides)]
    if names[convs[-1]] not in layers:
        layers.append(names[convs[-1]])  # the output convolution (the 1x1 of the Col2Im form)
    return layers


#: Ops after a quantized convolution that stay in int8 with it (the ReLU is absorbed into the
#: convolution's output range; DepthToSpace moves bytes instead of floats).
FOLLOWERS = ("Relu", "DepthToSpace")
#: The layers int8_static may quantize (ConvTranspose: the DCGAN generator's).
CONVOLUTIONS = ("Conv", "ConvTranspose")


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
    feeds = list(calibration)

    class Feeds(CalibrationDataReader):
        def get_next(self) -> dict[str, np.ndarray] | None:
            return feeds.pop() if feeds else None

    model = onnx.load(str(src))
    layers = quantized_layers(model, feeds[0])
    layers += _followers(model, layers)
    # the dense layer stays float; its weights are stored as int8, the others' as fp16
    gemm_weights = {n.input[1] for n in model.graph.node if n.op_type == "Gemm"}
    encode = lambda name, a: (int8_encode if name in gemm_weights else fp16_encode)(name, a)
    tmp = Path(dst).with_suffix(".qdq-tmp.onnx")
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
                op_types_to_quantize=[*CONVOLUTIONS, *FOLLOWERS],
            )
        return store_weights(tmp, dst, encode)
    finally:
        for leftover in (tmp, Path(str(tmp) + ".data"), Path("augmented_model.onnx")):
            leftover.unlink(missing_ok=True)
