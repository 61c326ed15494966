"""Generator throughput (images/s) per variant: eager fp32, bf16 autocast, channels_last,
torch.compile, and onnxruntime on CPU with an ONNX file exported here from the same network."""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from anime_gan.bench.flops import forward_flops_per_image
from anime_gan.bench.peaks import peak_for
from anime_gan.bench.step import Variant, build_networks
from anime_gan.bench.timing import peak_memory_mib, reset_peak_memory, row_key, time_call


def onnx_bytes(generator: nn.Module) -> bytes:
    """The generator as ONNX (inputs z, c with a dynamic batch; output image), fp32.

    Uses torch's TorchScript-based exporter (``dynamo=False``: it needs no onnxscript); the
    project's export stage writes the file the web page loads, this copy only serves timing.
    """
    z = torch.zeros(1, generator.z_dim)
    c = torch.zeros(1, generator.num_tags)
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            generator.eval(),
            (z, c),
            buf,
            dynamo=False,
            opset_version=17,
            input_names=["z", "c"],
            output_names=["image"],
            dynamic_axes={"z": {0: "n"}, "c": {0: "n"}, "image": {0: "n"}},
        )
    return buf.getvalue()


def onnx_session(generator: nn.Module) -> Any:
    """An onnxruntime CPU session over :func:`onnx_bytes`, on torch's thread count."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    options.inter_op_num_threads = 1
    return ort.InferenceSession(onnx_bytes(generator), options, providers=["CPUExecutionProvider"])


class GeneratorRunner:
    """Builds each (model, variant) generator once and hands out the call to time per batch."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self._cache: dict[tuple[str, str], Any] = {}

    def _network(self, name: str, model: dict[str, Any], variant: Variant) -> tuple[Any, int, int]:
        key = (name, "onnx" if variant.onnx else f"{variant.channels_last}{variant.compile}")
        if key not in self._cache:
            g, _ = build_networks(model, "cpu" if variant.onnx else self.device)
            g.eval().requires_grad_(False)
            if variant.onnx:
                net: Any = onnx_session(g)
            else:
                if variant.channels_last:
                    g = g.to(memory_format=torch.channels_last)
                net = torch.compile(g) if variant.compile else g
            self._cache[key] = (net, g.z_dim, g.num_tags)
        return self._cache[key]

    def call(
        self, name: str, model: dict[str, Any], variant: Variant, batch: int
    ) -> Callable[[], Any]:
        """A no-argument call generating ``batch`` images (inputs made once, outside the timing)."""
        net, z_dim, tags = self._network(name, model, variant)
        if variant.onnx:
            feeds = {"z": torch.randn(batch, z_dim).numpy(), "c": torch.zeros(batch, tags).numpy()}
            return lambda: net.run(None, feeds)
        z = torch.randn(batch, z_dim, device=self.device)
        c = torch.zeros(batch, tags, device=self.device)

        def run() -> torch.Tensor:
            with torch.inference_mode(), variant.autocast(self.device):
                return net(z, c)

        return run


def measure_generator(
    runner: GeneratorRunner,
    name: str,
    model: dict[str, Any],
    variant_name: str,
    batch: int,
    timing: dict[str, Any],
    peaks: dict[str, Any],
) -> dict[str, Any]:
    """Images/s of one generator variant at one batch size, with FLOP/s and utilisation."""
    variant = Variant.parse(variant_name)
    device = torch.device("cpu") if variant.onnx else runner.device
    fn = runner.call(name, model, variant, batch)
    reset_peak_memory(device)
    t = time_call(fn, device, timing["min_run_time"], timing["max_repeats"])
    g, _ = build_networks(model, "meta")
    flops = forward_flops_per_image(g)
    images_per_s = batch / t.median_s
    peak = peak_for(peaks, device, variant.precision)
    achieved = flops * images_per_s / 1e12
    return {
        **row_key(name, model, device, variant_name, batch),
        "images_per_s": images_per_s,
        "ms_per_image": 1e3 / images_per_s,
        "gflop_per_image": flops / 1e9,
        "achieved_tflops": achieved,
        "peak_tflops": peak,
        "utilisation": achieved / peak if peak else None,
        "timing": t.to_dict(),
        **peak_memory_mib(device),
    }
