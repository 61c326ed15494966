"""Generator throughput (images/s) per variant: eager fp32, bf16 autocast, channels_last,
torch.compile, and onnxruntime on CPU over the fp32 ONNX file the web page loads, exported here
from the same network (``anime_gan.export.onnx``)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import torch

from anime_gan.bench.flops import forward_flops_per_image
from anime_gan.bench.peaks import utilisation
from anime_gan.bench.step import Variant, build_networks
from anime_gan.bench.timing import peak_memory_mib, reset_peak_memory, row_key, time_call
from anime_gan.export.onnx import export_fp32, ort_session


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
    rows = []
    for batch in batches:
        say(f"generator: {name} {variant_name} batch {batch} on {device.type} ...")
        z = torch.randn(batch, g.z_dim, device=device)
        c = torch.zeros(batch, g.num_tags, device=device)
        if variant.onnx:
            fn = partial(session.run, None, {"z": z.numpy(), "c": c.numpy()})
        else:
            fn = partial(_generate, net, z, c, variant, device)
        reset_peak_memory(device)
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


def _generate(
    net: Callable, z: torch.Tensor, c: torch.Tensor, variant: Variant, device: torch.device
) -> torch.Tensor:
    with torch.inference_mode(), variant.autocast(device):
        return net(z, c)
