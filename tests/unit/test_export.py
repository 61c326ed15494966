"""ONNX export: folding, parity with PyTorch, dynamic batch, variant sizes, model.json."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from anime_gan.data.priors import LabelPrior
from anime_gan.data.tags import GROUPS, TAG_NAMES
from anime_gan.errors import UserError
from anime_gan.export.bundle import export_bundle
from anime_gan.export.fold import FoldedSRResNet, inference_generator
from anime_gan.export.onnx import INT8_SESSION_CONFIG, OUTPUT, ort_session
from anime_gan.models.checkpoint import load_generator
from anime_gan.models.dcgan import DCGANGenerator
from anime_gan.models.generator import SRResNetGenerator
from anime_gan.train import train
from tests.helpers import tiny_dataset, train_config

VARIANTS = ["fp32", "fp16", "int8", "int8-static", "int8-dynamic"]


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> tuple[Path, Path, dict]:
    """A tiny real checkpoint (2 iterations) exported with every variant."""
    root = tmp_path_factory.mktemp("export")
    train(train_config(tiny_dataset(root / "data", n=16), root / "run", "iterations=2"))
    ckpt = root / "run" / "checkpoints" / "last.ckpt"
    card = export_bundle(ckpt, root / "out", variants=VARIANTS, default_variant="int8", samples=6)
    return ckpt, root / "out", card


def _randomize_batchnorms(g: torch.nn.Module) -> None:
    torch.manual_seed(1)
    for m in g.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.3, 2)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.5, 0.5)


@pytest.mark.parametrize(
    "variant, upsample, rgb_kernel, padding",
    [
        ("paper", "subpixel", 9, "zeros"),
        ("site", "subpixel", 9, "zeros"),
        ("paper", "nearest", 3, "zeros"),
        ("site", "nearest", 9, "zeros"),
        ("paper", "nearest", 9, "reflect"),
        ("paper", "subpixel", 9, "reflect"),
    ],
)
def test_folded_generator_computes_the_same_images(variant, upsample, rgb_kernel, padding):
    # nearest: the upsampling of model=plus (the demo's recipe); reflect: the 64 px experiments'
    g = SRResNetGenerator(
        32,
        channels=8,
        num_res_blocks=2,
        variant=variant,
        upsample=upsample,
        rgb_kernel=rgb_kernel,
        padding=padding,
    )
    _randomize_batchnorms(g)
    g.eval()
    folded = inference_generator(g)
    assert isinstance(folded, FoldedSRResNet)
    assert not any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in folded.modules())
    z, c = torch.randn(3, 128), (torch.rand(3, 34) > 0.6).float()
    with torch.no_grad():
        assert (folded(z, c) - g(z, c)).abs().max() < 1e-5


def test_fold_uses_running_statistics_and_leaves_other_generators_alone():
    g = SRResNetGenerator(16, channels=4, num_res_blocks=1).train()
    assert isinstance(inference_generator(g), FoldedSRResNet) and not g.training
    dcgan = DCGANGenerator(16, base_channels=4)
    assert inference_generator(dcgan) is dcgan


def test_fp32_matches_pytorch_at_any_batch_size(exported):
    ckpt, out, card = exported
    assert card["models"]["fp32"]["parity"]["max_abs"] < 1e-4
    generator, meta = load_generator(ckpt)
    session = ort_session(out / "generator.onnx")
    for n in (1, 5):
        z, c = torch.randn(n, 128), LabelPrior.training().sample(n)
        got = session.run([OUTPUT], {"z": z.numpy(), "c": c.numpy()})[0]
        with torch.no_grad():
            expected = generator(z, c).numpy()
        assert got.shape == (n, 3, 16, 16)
        np.testing.assert_allclose(got, expected, atol=1e-4, rtol=0)
    graph = onnx.load(str(out / "generator.onnx")).graph
    assert [i.name for i in graph.input] == ["z", "c"] and [o.name for o in graph.output] == [
        "image"
    ]
    assert graph.input[0].type.tensor_type.shape.dim[0].dim_param == "N"  # dynamic batch
    assert "BatchNormalization" not in {n.op_type for n in graph.node}


def test_variants_are_smaller_and_close(exported):
    _, out, card = exported
    models = card["models"]
    assert set(models) == set(VARIANTS)
    for name, entry in models.items():
        assert (out / entry["file"]).stat().st_size == entry["bytes"], name
    fp32 = models["fp32"]["bytes"]
    assert 0.45 < models["fp16"]["bytes"] / fp32 < 0.55
    assert models["int8"]["bytes"] / fp32 < 0.3 and models["int8-dynamic"]["bytes"] / fp32 < 0.3
    assert models["int8-static"]["bytes"] / fp32 < 0.6
    level = 2 / 255  # one 8-bit pixel level in the output's [-1, 1] units
    fp16, int8, dynamic, static = (
        models[k]["parity"] for k in ("fp16", "int8", "int8-dynamic", "int8-static")
    )
    assert static["mean_abs"] < 2 * level and static["psnr_db"] > 35
    assert models["int8-static"]["session_config"] == {"session.disable_quant_qdq": "0"}
    assert models["int8"]["session_config"] == {"session.disable_quant_qdq": "1"}
    assert fp16["max_abs"] < level and fp16["psnr_db"] > 60
    assert int8["mean_abs"] < level and int8["psnr_db"] > 40  # visually lossless on average
    assert dynamic["mean_abs"] < 2 * level and dynamic["psnr_db"] > 35


def test_int8_weights_become_float_constants_at_load(exported, tmp_path):
    """With the page's session option, onnxruntime folds the DequantizeLinear nodes away, so the
    int8 file runs the same float32 graph as fp32 (no per-run dequantization)."""
    import onnxruntime as ort

    _, out, _ = exported
    options = ort.SessionOptions()
    for key, value in INT8_SESSION_CONFIG.items():
        options.add_session_config_entry(key, value)
    options.optimized_model_filepath = str(tmp_path / "optimized.onnx")
    ort.InferenceSession(
        str(out / "generator.int8.onnx"), options, providers=["CPUExecutionProvider"]
    )
    assert "DequantizeLinear" in {
        n.op_type for n in onnx.load(str(out / "generator.int8.onnx")).graph.node
    }
    ops = {n.op_type for n in onnx.load(str(tmp_path / "optimized.onnx")).graph.node}
    assert "DequantizeLinear" not in ops and ops & {"Conv", "FusedConv"}


def test_model_json_has_schema_prior_and_provenance(exported):
    ckpt, out, card = exported
    assert json.loads((out / "model.json").read_text()) == card
    assert card["schema"]["tags"] == list(TAG_NAMES)
    assert card["schema"]["groups"] == [
        {"name": g.name, "exclusive": g.exclusive, "tags": list(g.tags)} for g in GROUPS
    ]
    _, meta = load_generator(ckpt)
    assert card["prior"] == LabelPrior.from_dict(meta["prior"]).to_dict()
    assert card["prior"]["kind"] == "empirical"
    assert (card["resolution"], card["z_dim"], card["num_tags"]) == (16, 128, 34)
    assert card["io"]["output"]["image"] == ["N", 3, 16, 16] and card["io"]["range"] == [-1.0, 1.0]
    assert card["source"]["iteration"] == 2 and card["source"]["checkpoint"].endswith("last.ckpt")
    assert card["source"]["generator_config"]["channels"] == 8
    assert card["default_variant"] == "int8"
    assert dt.datetime.fromisoformat(card["exported"]).tzinfo is not None


def test_auto_default_takes_int8_static_where_it_is_faster_and_as_good():
    from anime_gan.export.bundle import auto_default

    def models(static_db, int8_db=40.0):
        return {
            "fp32": {"bytes": 4, "parity": {"psnr_db": None}},
            "int8": {"bytes": 1, "parity": {"psnr_db": int8_db}},
            "int8-static": {"bytes": 2, "parity": {"psnr_db": static_db}},
        }

    assert auto_default(models(39.5), 128) == "int8-static"
    assert auto_default(models(38.0), 128) == "int8"  # more than 1 dB worse
    assert auto_default(models(45.0), 32) == "int8"  # nothing to gain below 64 px
    assert (
        auto_default(
            {"fp32": {"bytes": 4, "parity": {"psnr_db": None}}, "fp16": {"bytes": 2, "parity": {}}},
            128,
        )
        == "fp16"
    )


def test_user_errors_name_the_problem(exported, tmp_path):
    ckpt, _, _ = exported
    with pytest.raises(UserError, match="does not exist"):
        export_bundle(tmp_path / "missing.ckpt", tmp_path / "out")
    with pytest.raises(UserError, match="unknown export variant"):
        export_bundle(ckpt, tmp_path / "out", variants=["fp32", "fp8"], default_variant="fp32")
    with pytest.raises(UserError, match="default_variant"):
        export_bundle(ckpt, tmp_path / "out", variants=["fp32"], default_variant="int8")


@pytest.mark.parametrize("k", [1, 3, 5, 9])
def test_polyphase_conv_commutes_with_pixel_shuffle(k):
    from anime_gan.export.fold import polyphase_conv

    torch.manual_seed(k)
    x = torch.randn(2, 8, 6, 6)
    conv = torch.nn.Conv2d(2, 3, k, 1, k // 2)
    weight, bias, padding = polyphase_conv(conv.weight.detach(), conv.bias.detach())
    with torch.no_grad():
        expected = conv(torch.nn.functional.pixel_shuffle(x, 2))
        got = torch.nn.functional.pixel_shuffle(
            torch.nn.functional.conv2d(x, weight, bias, padding=padding), 2
        )
    taps = {1: 1, 3: 3, 5: 3, 9: 5}[k]  # a 9x9 kernel on the shuffled map is 5x5 on the input
    assert weight.shape == (12, 8, taps, taps)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)


def test_cli_exports_and_reports(exported, tmp_path):
    import os
    import subprocess
    import sys

    ckpt, _, _ = exported
    repo = Path(__file__).resolve().parents[2]
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "anime_gan.cli.main",
            "export",
            f"ckpt={ckpt}",
            f"out={tmp_path / 'out'}",
            "variants=[fp32,int8]",
            "default_variant=int8",
            "samples=2",
            f"hydra.run.dir={tmp_path / 'hydra'}",
        ],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert res.returncode == 0, res.stderr[-2000:]
    assert "generator.int8.onnx" in res.stdout and "max |diff|" in res.stdout
    assert json.loads((tmp_path / "out" / "model.json").read_text())["default_variant"] == "int8"


def test_int8_static_computes_its_largest_convolutions_in_int8(exported, tmp_path):
    """The QDQ pairs of int8-static fuse into QLinearConv under its session options; the other
    layers stay float convolutions with their weights folded to constants."""
    import onnxruntime as ort

    _, out, card = exported
    options = ort.SessionOptions()
    for key, value in card["models"]["int8-static"]["session_config"].items():
        options.add_session_config_entry(key, value)
    options.optimized_model_filepath = str(tmp_path / "optimized.onnx")
    ort.InferenceSession(
        str(out / "generator.int8-static.onnx"), options, providers=["CPUExecutionProvider"]
    )
    ops = [n.op_type for n in onnx.load(str(tmp_path / "optimized.onnx")).graph.node]
    # 16 px, no upsampling: only the output conv (the 1x1 of the Col2Im form) is quantized
    assert ops.count("QLinearConv") == 1 and {"Conv", "FusedConv"} & set(ops) and "Col2Im" in ops


@pytest.mark.parametrize("resolution", [16, 64, 128])
def test_output_conv_as_col2im_is_the_same_function(resolution, tmp_path):
    """The output convolution rewritten as 1x1 Conv + Col2Im (opset 18) computes the same images."""
    from anime_gan.export.onnx import export_fp32, quantized_layers

    g = SRResNetGenerator(resolution, channels=4, num_res_blocks=1)
    _randomize_batchnorms(g)
    g.eval()
    path = export_fp32(g, tmp_path / "g.onnx")
    model = onnx.load(str(path))
    ops = [n.op_type for n in model.graph.node]
    assert "Col2Im" in ops and model.opset_import[0].version == 18
    z, c = torch.randn(3, 128), LabelPrior.training().sample(3)
    with torch.no_grad():
        expected = g(z, c).numpy()
    got = ort_session(path).run([OUTPUT], {"z": z.numpy(), "c": c.numpy()})[0]
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=0)
    layers = quantized_layers(model, {"z": z[:1].numpy(), "c": c[:1].numpy()})
    expected_layers = {
        16: [],
        64: ["/upsample.1/Conv"],
        128: ["/upsample.1/Conv", "/upsample.2/Conv"],
    }[resolution]
    assert layers == [*expected_layers, "/to_rgb/Conv/Conv1x1"]


def test_reflect_padded_generator_exports_the_same_function(tmp_path):
    """Reflection is a Pad node before the output conv, so that conv keeps its own form."""
    from anime_gan.export.onnx import export_fp32

    g = SRResNetGenerator(64, channels=4, num_res_blocks=1, upsample="nearest", padding="reflect")
    _randomize_batchnorms(g)
    g.eval()
    path = export_fp32(g, tmp_path / "g.onnx")
    ops = [n.op_type for n in onnx.load(str(path)).graph.node]
    assert "Pad" in ops and "Col2Im" not in ops
    z, c = torch.randn(3, 128), LabelPrior.training().sample(3)
    with torch.no_grad():
        expected = g(z, c).numpy()
    got = ort_session(path).run([OUTPUT], {"z": z.numpy(), "c": c.numpy()})[0]
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=0)


@pytest.mark.parametrize(
    "generator",
    [
        lambda: SRResNetGenerator(32, channels=4, num_res_blocks=1, padding="reflect"),
        lambda: DCGANGenerator(32, base_channels=8),
    ],
    ids=["reflect", "dcgan"],
)
def test_int8_static_exports_reflect_padded_and_dcgan_generators(generator, tmp_path):
    """Layer sides are measured by running the graph, so reflection's Pad nodes (whose sizes
    shape inference cannot follow) and a generator of ConvTranspose layers export too."""
    from anime_gan.export.bundle import export_generator

    torch.manual_seed(0)
    g = generator()
    _randomize_batchnorms(g)
    card = export_generator(
        g.eval(),
        tmp_path / "out",
        LabelPrior.training(),
        {},
        ["fp32", "int8-static"],
        samples=4,
        default_variant="int8-static",
    )
    assert card["models"]["int8-static"]["parity"]["psnr_db"] > 25
