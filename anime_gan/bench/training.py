"""Training throughput (iterations/s, images/s), peak memory and utilisation of one config."""

from __future__ import annotations

from typing import Any

import torch

from anime_gan.bench.flops import iteration_flops
from anime_gan.bench.peaks import peak_for
from anime_gan.bench.step import TrainStep, Variant, build_networks
from anime_gan.bench.timing import (
    count_host_syncs,
    peak_memory_mib,
    reset_peak_memory,
    row_key,
    time_call,
)


def measure_training(
    name: str,
    model: dict[str, Any],
    batch: int,
    variant_name: str,
    device: torch.device,
    timing: dict[str, Any],
    peaks: dict[str, Any],
) -> dict[str, Any]:
    """Time :class:`TrainStep` (D step with the penalty, then G step, Adam on both) on a
    synthetic batch already on the device, as the GPU-resident datamodule hands it over.

    On a GPU, ``host_syncs_per_iteration`` counts the step's host-GPU synchronisations.
    The FLOPs per iteration are counted on the same config, so ``achieved_tflops`` is exactly
    what this config did; ``utilisation`` compares it with the device's peak for the precision.
    """
    variant = Variant.parse(variant_name)
    if variant.onnx or variant.compile:
        raise ValueError(
            f"training variant {variant_name!r}: only precision, 'cl' and 'fused' apply "
            f"to training (the penalty's double backward cannot be compiled)."
        )
    g, d = build_networks(model, device)
    step = TrainStep(g, d, variant)
    real, labels, known = step.fake_batch(batch)
    reset_peak_memory(device)
    t = time_call(
        lambda: step(real, labels, known), device, timing["min_run_time"], timing["max_repeats"]
    )
    memory = peak_memory_mib(device)
    syncs = count_host_syncs(lambda: step(real, labels, known), device)
    flops = iteration_flops(model, batch)
    its = 1.0 / t.median_s
    peak = peak_for(peaks, device, variant.precision)
    achieved = flops["total"] * its / 1e12
    return {
        **row_key(name, model, device, variant_name, batch),
        "iterations_per_s": its,
        "images_per_s": its * batch,
        "ms_per_iteration": 1e3 * t.median_s,
        "tflop_per_iteration": flops["total"] / 1e12,
        "flops_per_iteration": flops,
        "achieved_tflops": achieved,
        "peak_tflops": peak,
        "utilisation": achieved / peak if peak else None,
        "host_syncs_per_iteration": syncs,
        "timing": t.to_dict(),
        **memory,
    }
