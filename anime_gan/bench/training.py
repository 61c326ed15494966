"""Training throughput (iterations/s, images/s), peak memory and utilisation of one config."""

from __future__ import annotations

from typing import Any

import torch

from anime_gan.bench.flops import iteration_flops
from anime_gan.bench.peaks import utilisation
from anime_gan.bench.step import TrainStep, Variant, build_networks
from anime_gan.bench.timing import (
    count_host_syncs,
    peak_memory_mib,
    reset_peak_memory,
    row_key,
    time_call,
)


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
    reset_peak_memory(device)
    t = time_call(lambda: step(real, labels, known), device, **timing)
    memory = peak_memory_mib(device)
    syncs = count_host_syncs(lambda: step(real, labels, known), device)
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
        **memory,
    }
