"""Peak compute of the device, for the implied utilisation (achieved FLOP/s over the peak).

GPU peaks are the vendors' dense figures (no sparsity), looked up by the device's name. A CPU
has no reliable table figure (cores, clocks and AMX vary, and the machine is shared), so its
"peak" is measured: the best throughput of a large matrix product on the threads torch uses.
Utilisation against it says how far the convolutions are from the best GEMM of this machine.

Own code: torch has no table of device peaks.
"""

from typing import Any

import torch
from torch.utils.benchmark import Timer

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
            else f"unknown: {name!r} is not in anime_gan.bench.peaks.GPU_PEAKS_TFLOPS",
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
