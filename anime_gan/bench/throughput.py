"""Throughput figures with their FLOP/s, utilisation and peak memory.

- Peaks: a GPU's are the vendors' dense figures (no sparsity), looked up by the device's name. A
  CPU has no reliable table figure (cores, clocks and AMX vary, and the machine is shared), so
  its "peak" is measured: the best throughput of a large matrix product on the threads torch
  uses; utilisation against it says how far the convolutions are from this machine's best GEMM.
- Training: one iteration's compute (iterations/s, images/s of the bench's step), and the real
  ConditionalGAN under a Lightning Trainer (``fit``): what ``anime-gan train`` runs (the
  datamodule's GPU-resident uint8 set and its on-device conversion, the module's step with its
  logging, EMA update, lr schedule and non-finite guard, Lightning's loop), so the difference
  between the two is the overhead of everything around the compute.
- Generator: images/s per variant (eager fp32, bf16 autocast, channels_last, torch.compile, and
  onnxruntime on CPU over the fp32 ONNX file the web page loads, exported here from the same
  network: ``anime_gan.export.onnx``).

Own code: the rows' fields, the table of GPU peaks (torch has none) and an iteration clock
(Lightning has no iteration timer that synchronises the device); the timing, FLOP counts and
the ONNX export are torch's and the project's.
"""

import contextlib
import logging
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from torch.utils.benchmark import Timer

from anime_gan.bench.flops import forward_flops_per_image, iteration_flops
from anime_gan.bench.step import TrainStep, Variant, build_networks
from anime_gan.bench.timing import (
    counting_host_syncs,
    peak_memory_mib,
    reset_peak_memory,
    row_key,
    synchronize,
    time_call,
)
from anime_gan.callbacks.channels_last import ChannelsLast
from anime_gan.data.datamodule import FaceDataModule
from anime_gan.data.dataset import FaceDataset
from anime_gan.data.priors import LabelPrior
from anime_gan.export.onnx import export_fp32, ort_session
from anime_gan.models.module import ConditionalGAN

#: Dense TFLOP/s by GPU name fragment (first match wins: more specific names first).
#: fp32 on these GPUs runs convolutions and matrix products as TF32 by default (cuDNN), so
#: the fp32 variants are compared with the TF32 peak.
GPU_PEAKS_TFLOPS = {
    "H100 PCIe": {"fp32": 378.0, "bf16": 756.0},
    "H100": {"fp32": 494.0, "bf16": 989.0},  # SXM / HBM3
    "H200": {"fp32": 494.0, "bf16": 989.0},
    "A100": {"fp32": 156.0, "bf16": 312.0},
    "L4": {"fp32": 60.0, "bf16": 121.0},
}

_GEMM_SIDE = 1024


def measured_gemm_tflops(dtype: torch.dtype) -> float:
    """Best TFLOP/s of a 1024^3 matrix product on the CPU (2 * n^3 FLOPs per product)."""
    a, b = torch.randn(2, _GEMM_SIDE, _GEMM_SIDE, dtype=dtype)
    timer = Timer(stmt="a @ b", globals={"a": a, "b": b}, num_threads=torch.get_num_threads())
    best = min(timer.blocked_autorange(min_run_time=0.3).times)  # after its own sizing runs
    return 2 * _GEMM_SIDE**3 / best / 1e12


def device_peaks(device: torch.device) -> dict[str, Any]:
    """``{"fp32": TFLOP/s, "bf16": TFLOP/s, "source": ...}`` for the device the suite runs on,
    plus the CPU's measured GEMM figures (the CPU generator figures are compared with those)."""
    out: dict[str, Any] = {
        "cpu": {
            "fp32": measured_gemm_tflops(torch.float32),
            "bf16": measured_gemm_tflops(torch.bfloat16),
            "source": f"measured: best {_GEMM_SIDE}^3 torch.mm on {torch.get_num_threads()} threads",
        }
    }
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        unknown = {"fp32": None, "bf16": None}
        peaks = next((p for f, p in GPU_PEAKS_TFLOPS.items() if f in name), unknown)
        out["cuda"] = {
            **peaks,
            "name": name,
            "source": "vendor dense peak (fp32 = TF32)"
            if peaks["bf16"]
            else f"unknown: {name!r} is not in anime_gan.bench.throughput.GPU_PEAKS_TFLOPS",
        }
    return out


def utilisation(
    peaks: dict[str, Any], device: torch.device, precision: str, flop_per_s: float
) -> dict[str, float | None]:
    """``achieved_tflops``, and the peak of ``device`` at ``precision`` with the utilisation
    they imply (None where the peak is unknown)."""
    peak = peaks.get(device.type, {}).get("bf16" if precision == "bf16" else "fp32")
    achieved = flop_per_s / 1e12
    return {
        "achieved_tflops": achieved,
        "peak_tflops": peak,
        "utilisation": achieved / peak if peak else None,
    }


def measure_training(
    entry: dict[str, Any],
    model: dict[str, Any],
    device: torch.device,
    timing: dict[str, Any],
    peaks: dict[str, Any],
) -> dict[str, Any]:
    """Time :class:`TrainStep` (D step with the penalty, then G step, Adam on both) for a
    training ``entry`` (model, batch, variant) on a synthetic batch already on the device, as
    the GPU-resident datamodule hands it over.

    On a GPU, ``host_syncs_per_iteration`` counts the step's host-GPU synchronisations.
    The FLOPs per iteration are counted on the same config, so ``achieved_tflops`` is exactly
    what this config did; ``utilisation`` compares it with the device's peak for the precision.
    """
    batch, variant = int(entry["batch"]), Variant.parse(entry["variant"])
    if variant.onnx or variant.compile:
        raise ValueError(
            f"training variant {entry['variant']!r}: only precision, 'cl' and 'fused' apply "
            f"to training (the penalty's double backward cannot be compiled)."
        )
    step = TrainStep(*build_networks(model, device), variant)
    real, labels, known = step.fake_batch(batch)
    t = time_call(lambda: step(real, labels, known), device, **timing)
    syncs = None  # on CPU there is nothing to wait for
    if device.type == "cuda":
        synchronize(device)
        with counting_host_syncs() as count:
            step(real, labels, known)
        syncs = count[0]
    flops = iteration_flops(model, batch)
    its = 1.0 / t["median_s"]
    return {
        **row_key(entry["model"], model, device, entry["variant"], batch),
        "iterations_per_s": its,
        "images_per_s": its * batch,
        "ms_per_iteration": 1e3 * t["median_s"],
        "tflop_per_iteration": flops["total"] / 1e12,
        "flops_per_iteration": flops,
        **utilisation(peaks, device, variant.precision, flops["total"] * its),
        "host_syncs_per_iteration": syncs,
        "timing": t,
        **peak_memory_mib(device),  # the sync count's run repeats the same step
    }


class IterationClock(L.Callback):
    """Wall time of the iterations after ``warmup`` (device synchronised at both ends only), and
    on a GPU the host-GPU synchronisations of the last warm-up iteration (sync debug mode)."""

    def __init__(self, warmup: int) -> None:
        self.warmup, self.start, self.seconds, self.iterations = max(1, warmup), 0.0, 0.0, 0
        self.host_syncs: int | None = None
        self._counting = contextlib.ExitStack()

    def on_train_batch_start(self, trainer, pl_module, *args) -> None:
        if pl_module.iteration == self.warmup - 1 and pl_module.device.type == "cuda":
            self._count = self._counting.enter_context(counting_host_syncs())
        if pl_module.iteration == self.warmup:
            synchronize(pl_module.device)
            self.start = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, *args) -> None:
        if pl_module.iteration == self.warmup and pl_module.device.type == "cuda":
            self._counting.close()
            self.host_syncs = self._count[0]

    def on_train_end(self, trainer, pl_module) -> None:
        synchronize(pl_module.device)
        self.seconds = time.perf_counter() - self.start
        self.iterations = pl_module.iteration - self.warmup


def synthetic_datamodule(resolution: int, batch: int) -> FaceDataModule:
    """A FaceDataModule over eight batches of random uint8 faces held in memory (on the GPU when
    there is one)."""
    n = batch * 8
    labels = LabelPrior.training().sample(n, generator=torch.Generator().manual_seed(0)).numpy()
    labels = labels.astype(np.uint8)
    images = np.random.default_rng(0).integers(0, 256, (n, resolution, resolution, 3), np.uint8)
    dm = FaceDataModule(
        path="<synthetic>", resolution=resolution, batch_size=batch, val_fraction=0.0, device="auto"
    )
    dm.train_set = FaceDataset(
        images, labels, np.ones_like(labels), [{"id": str(i)} for i in range(n)]
    )
    return dm


def measure_fit(
    entry: dict[str, Any], model: dict[str, Any], device: torch.device
) -> dict[str, Any]:
    """Iterations/s of ``trainer.fit`` for a fit ``entry`` (model, batch, variant): ``iterations``
    iterations timed after ``warmup`` ones."""
    batch, variant = int(entry["batch"]), Variant.parse(entry["variant"])
    warmup, iterations = int(entry["warmup"]), int(entry["iterations"])
    adam = variant.adam()
    module = ConditionalGAN(*build_networks(model, "cpu"), optimizer_g=adam, optimizer_d=adam)
    clock = IterationClock(warmup)
    lightning_log = logging.getLogger("lightning.pytorch")
    level = lightning_log.level
    lightning_log.setLevel(logging.WARNING)  # no "GPU available" banners in the bench's output
    try:
        trainer = L.Trainer(
            accelerator=device.type,
            devices=1,
            precision="bf16-mixed" if variant.precision == "bf16" else "32-true",
            max_steps=2 * (warmup + iterations),
            logger=False,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            callbacks=[clock, ChannelsLast()] if variant.channels_last else [clock],
            default_root_dir=tempfile.gettempdir(),
        )
        reset_peak_memory(device)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            trainer.fit(module, datamodule=synthetic_datamodule(int(model["resolution"]), batch))
    finally:
        lightning_log.setLevel(level)
    its = clock.iterations / clock.seconds
    return {
        **row_key(entry["model"], model, device, entry["variant"], batch),
        "iterations_per_s": its,
        "images_per_s": its * batch,
        "ms_per_iteration": 1e3 / its,
        "timed_iterations": clock.iterations,
        "warmup_iterations": clock.warmup,
        "host_syncs_per_iteration": clock.host_syncs,
        **peak_memory_mib(device),
    }


def measure_generator(
    name: str,
    model: dict[str, Any],
    variant_name: str,
    batches: Sequence[int],
    device: torch.device,
    timing: dict[str, Any],
    peaks: dict[str, Any],
    say: Callable[[str], None],
) -> list[dict[str, Any]]:
    """Images/s of one generator variant at each batch size, with FLOP/s and utilisation. The
    network is built (exported, compiled) once for all the batches."""
    variant = Variant.parse(variant_name)
    if variant.onnx:
        device = torch.device("cpu")
    g, _ = build_networks(model, device)
    g.eval().requires_grad_(False)
    flops = forward_flops_per_image(g)
    if variant.onnx:
        with tempfile.TemporaryDirectory() as tmp:
            session = ort_session(
                export_fp32(g, Path(tmp) / "generator.onnx"),
                threads=torch.get_num_threads(),
                config={},
            )
    elif variant.channels_last:
        g = g.to(memory_format=torch.channels_last)
    net = torch.compile(g) if variant.compile else g

    @torch.inference_mode()
    def generate(z: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        with variant.autocast(device):
            return net(z, c)

    rows = []
    for batch in batches:
        say(f"generator: {name} {variant_name} batch {batch} on {device.type} ...")
        z = torch.randn(batch, g.z_dim, device=device)
        c = torch.zeros(batch, g.num_tags, device=device)
        if variant.onnx:
            fn = partial(session.run, None, {"z": z.numpy(), "c": c.numpy()})
        else:
            fn = partial(generate, z, c)
        t = time_call(fn, device, **timing)
        images_per_s = batch / t["median_s"]
        rows.append(
            {
                **row_key(name, model, device, variant_name, int(batch)),
                "images_per_s": images_per_s,
                "ms_per_image": 1e3 / images_per_s,
                "gflop_per_image": flops / 1e9,
                **utilisation(peaks, device, variant.precision, flops * images_per_s),
                "timing": t,
                **peak_memory_mib(device),
            }
        )
    return rows
