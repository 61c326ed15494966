"""Throughput figures with their FLOP/s, utilisation and peak memory: one training iteration's
compute (iterations/s, images/s of the bench's step) and the generator's images/s per variant
(eager fp32, bf16 autocast, channels_last, torch.compile, and onnxruntime on CPU over the fp32
ONNX file the web page loads, exported here from the same network: ``anime_gan.export.onnx``).

Own code: only the rows' fields; the timing, FLOP counts and the ONNX export are torch's and
the project's.
"""

import tempfile
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import torch

from anime_gan.bench.flops import forward_flops_per_image, iteration_flops
from anime_gan.bench.peaks import utilisation
from anime_gan.bench.step import TrainStep, Variant, build_networks
from anime_gan.bench.timing import (
    counting_host_syncs,
    peak_memory_mib,
    row_key,
    synchronize,
    time_call,
)
from anime_gan.export.onnx import export_fp32, ort_session


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
    bf16 = variant.precision == "bf16"
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16)
    net = torch.compile(g) if variant.compile else g
    generate = torch.inference_mode()(autocast(net.__call__))
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
