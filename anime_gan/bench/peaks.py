"""Peak compute of the device, for the implied utilisation (achieved FLOP/s over the peak).

GPU peaks are the vendors' dense figures (no sparsity), looked up by the device's name. A CPU
has no reliable table figure (cores, clocks and AMX vary, and the machine is shared), so its
"peak" is measured: the best throughput of a large matrix product on the threads torch uses.
Utilisation against it says how far the convolutions are from the best GEMM of this machine.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.benchmark import Timer

#: Dense TFLOP/s by GPU name fragment (first match wins: more specific names first).
#: fp32 on these GPUs runs convolutions and matrix products as TF32 by default (cuDNN), so
#: the fp32 variants are compared with the TF32 peak.
GPU_PEAKS_TFLOPS: dict[str, dict[str, float]] = {
    "H100 PCIe": {"bf16": 756.0, "tf32": 378.0},
    "H100": {"bf16": 989.0, "tf32": 494.0},  # SXM / HBM3
    "H200": {"bf16": 989.0, "tf32": 494.0},
    "A100": {"bf16": 312.0, "tf32": 156.0},
    "L4": {"bf16": 121.0, "tf32": 60.0},
}

_GEMM_SIDE = 1024


def gpu_peak(name: str, precision: str) -> float | None:
    """The table's dense TFLOP/s for a GPU name and ``fp32``/``bf16`` (None when unknown)."""
    key = "bf16" if precision == "bf16" else "tf32"
    for fragment, peaks in GPU_PEAKS_TFLOPS.items():
        if fragment in name:
            return peaks[key]
    return None


def measured_gemm_tflops(
    device: torch.device, dtype: torch.dtype, min_run_time: float = 0.3
) -> float:
    """Best TFLOP/s of a 1024^3 matrix product on ``device`` (2 * n^3 FLOPs per product)."""
    a = torch.randn(_GEMM_SIDE, _GEMM_SIDE, device=device, dtype=dtype)
    b = torch.randn(_GEMM_SIDE, _GEMM_SIDE, device=device, dtype=dtype)
    torch.mm(a, b)
    timer = Timer(
        stmt="torch.mm(a, b)",
        globals={"torch": torch, "a": a, "b": b},
        num_threads=torch.get_num_threads(),
    )
    best = min(timer.blocked_autorange(min_run_time=min_run_time).times)
    return 2 * _GEMM_SIDE**3 / best / 1e12


def device_peaks(device: torch.device) -> dict[str, Any]:
    """``{"fp32": TFLOP/s, "bf16": TFLOP/s, "source": ...}`` for the device the suite runs on,
    plus the CPU's measured GEMM figures (the CPU generator figures are compared with those)."""
    cpu = {
        "fp32": measured_gemm_tflops(torch.device("cpu"), torch.float32),
        "bf16": measured_gemm_tflops(torch.device("cpu"), torch.bfloat16),
        "source": f"measured: best {_GEMM_SIDE}^3 torch.mm on {torch.get_num_threads()} threads",
    }
    out: dict[str, Any] = {"cpu": cpu}
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        fp32, bf16 = gpu_peak(name, "fp32"), gpu_peak(name, "bf16")
        out["cuda"] = {
            "fp32": fp32,
            "bf16": bf16,
            "name": name,
            "source": "vendor dense peak (fp32 = TF32)"
            if bf16
            else f"unknown: {name!r} is not in anime_gan.bench.peaks.GPU_PEAKS_TFLOPS",
        }
    return out


def peak_for(peaks: dict[str, Any], device: torch.device, precision: str) -> float | None:
    """The peak TFLOP/s a figure on ``device`` at ``precision`` is compared with."""
    entry = peaks.get("cuda" if device.type == "cuda" else "cpu") or {}
    return entry.get("bf16" if precision == "bf16" else "fp32")
