"""The benchmark's counts (FLOPs by hand and against the reference figures of docs/design.md,
parameters), its training step against the real LightningModule, and the quick mode end to end
at a tiny size."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import lightning as L
import pytest
import torch
from torch import nn

from anime_gan.bench.flops import count_flops, iteration_flops, paper_cost
from anime_gan.bench.step import Variant
from anime_gan.models.discriminator import ResNetDiscriminator
from anime_gan.models.generator import SRResNetGenerator
from anime_gan.models.module import ConditionalGAN

REPO = Path(__file__).resolve().parents[2]
TINY = {
    "resolution": 16,
    "generator": {"channels": 8, "num_res_blocks": 1},
    "discriminator": {"channels": 4},
}


def test_linear_and_conv_flops_equal_a_hand_count():
    linear = nn.Linear(7, 5)
    assert count_flops(lambda: linear(torch.zeros(3, 7))) == 2 * 7 * 5 * 3
    conv = nn.Conv2d(4, 6, 3, padding=1)
    # one multiply-add per (output element, input channel, kernel tap): 2 FLOPs
    assert count_flops(lambda: conv(torch.zeros(2, 4, 8, 8))) == 2 * (2 * 6 * 8 * 8) * (4 * 3 * 3)
    x = torch.zeros(3, 7, requires_grad=True)
    # backward: the input gradient and the weight gradient, each as much as the forward
    assert count_flops(lambda: linear(x).sum().backward()) == 3 * (2 * 7 * 5 * 3)


@pytest.fixture(scope="module")
def cost() -> dict:
    return paper_cost(batch_size=64)


def test_paper_networks_match_the_reference_sizes_and_flops(cost):
    sizes = cost["sizes"]
    assert sizes["srresnet_generator"]["params"] == 4_352_643
    assert sizes["resnet_discriminator"]["params"] == 19_078_531
    assert sizes["srresnet_generator"]["gflop_per_image"] == pytest.approx(2.72, rel=0.02)
    assert sizes["resnet_discriminator"]["gflop_per_image"] == pytest.approx(1.77, rel=0.02)
    assert sizes["dcgan_generator"]["params_vs_srresnet"] == pytest.approx(4.0, rel=0.05)


def test_iteration_flops_match_spec_11(cost):
    counted, flops = cost["counted"], cost["flops"]
    assert counted["d_step_tflop"] == pytest.approx(0.85, rel=0.03)
    assert counted["penalty_tflop"] == pytest.approx(0.69, rel=0.03)
    # the reference G step (0.75) runs G forward again; the module reuses the D step's fakes
    assert (flops["g_step"] + flops["g_forward"]) / 1e12 == pytest.approx(0.75, rel=0.03)
    assert flops["total"] == flops["g_forward"] + flops["d_step"] + flops["g_step"]
    assert flops["g_forward"] == pytest.approx(64 * 2.7232e9, rel=1e-3)


def test_bench_step_counts_the_flops_of_the_real_training_step(tmp_path):
    """One iteration of ConditionalGAN under Lightning costs what the bench's step is counted at."""
    L.seed_everything(0)
    model = ConditionalGAN(
        SRResNetGenerator(16, channels=8, num_res_blocks=1),
        ResNetDiscriminator(16, channels=4),
        ema_decay=0.5,
    )
    images = torch.rand(4, 3, 16, 16) * 2 - 1
    labels = model.prior.sample(4, generator=torch.Generator().manual_seed(0))
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(images, labels, torch.ones_like(labels)), batch_size=4
    )
    trainer = L.Trainer(
        accelerator="cpu",
        max_steps=2,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
    )
    total = count_flops(lambda: trainer.fit(model, loader))
    assert model.iteration == 1
    assert total == iteration_flops(TINY, 4, device="cpu")["total"]


def test_variant_names_parse_and_bad_ones_say_how_to_write_them():
    assert Variant.parse("bf16+cl+fused") == Variant("bf16", channels_last=True, fused=True)
    assert Variant.parse("onnx").onnx and Variant.parse("fp32") == Variant()
    with pytest.raises(ValueError, match="e.g. 'bf16\\+cl\\+fused'"):
        Variant.parse("fp16+cl")


def test_quick_bench_at_a_tiny_size_writes_every_field(tmp_path):
    tiny = "{resolution:16,generator:{channels:8,num_res_blocks:1},discriminator:{channels:4}}"
    out = tmp_path / "bench.json"
    args = [
        f"models.paper={tiny}",
        f"models.demo={tiny}",
        "device=cpu",
        "threads=1",
        f"out={out}",
        "modes.quick.min_run_time=0.01",
        "modes.quick.generator.cpu.batches=[1,2]",
        "modes.quick.training.cpu=[{model:paper,batch:4,variant:fp32},{model:demo,batch:2,variant:bf16+cl+fused}]",
        "modes.quick.fit.cpu=[{model:demo,batch:4,variant:fp32,warmup:1,iterations:2}]",
        f"hydra.run.dir={tmp_path}",
    ]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    res = subprocess.run(
        [sys.executable, "-m", "anime_gan.cli.main", "bench", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    assert "iteration_tflop" in res.stdout and "generator" in res.stdout
    result = json.loads(out.read_text())
    assert {
        "machine",
        "cost",
        "peaks",
        "training",
        "fit",
        "generator",
        "command",
        "mode",
        "seconds",
    } <= result.keys()
    assert len(result["machine"]["loadavg_1_5_15"]) == 3 and result["machine"]["torch_threads"] == 1
    assert result["cost"]["counted"]["iteration_tflop"] > 2 and result["peaks"]["cpu"]["fp32"] > 0
    assert [(t["model"], t["variant"]) for t in result["training"]] == [
        ("paper", "fp32"),
        ("demo", "bf16+cl+fused"),
    ]
    for t in result["training"]:
        assert t["iterations_per_s"] > 0 and t["images_per_s"] == pytest.approx(
            t["iterations_per_s"] * t["batch"]
        )
        assert t["peak_mib"] > 0 and t["tflop_per_iteration"] > 0 and t["utilisation"] > 0
        assert t["host_syncs_per_iteration"] is None  # counted on a GPU only
    (fit,) = result["fit"]
    assert fit["timed_iterations"] == 2 and fit["iterations_per_s"] > 0 and fit["peak_mib"] > 0
    seen = {(g["model"], g["variant"], g["batch"]) for g in result["generator"]}
    assert seen == {
        (m, v, b) for m in ("paper", "demo") for v in ("fp32", "bf16", "onnx") for b in (1, 2)
    }
    for g in result["generator"]:
        assert g["images_per_s"] > 0 and g["gflop_per_image"] > 0 and g["utilisation"] > 0
    assert not list(tmp_path.glob(".bench.json.*"))  # the atomic write left no temporary file
