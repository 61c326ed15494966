"""The benchmark suite behind ``anime-gan bench``: runs the figures a config names, returns one
JSON-ready dict, writes it atomically and formats it as a table.

A config (conf/bench.yaml) has ``mode`` (quick or full), ``device`` (auto, cpu, cuda),
``models`` (named network sizes) and ``modes.<mode>`` with the timing settings and, per device
type, the training configs and the generator variants to time.

Own code: the run order and the plain-text table, whose columns are the bench's output format.
"""

import datetime as dt
import os
import time
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

import torch

from anime_gan.bench.flops import paper_cost
from anime_gan.bench.throughput import (
    device_peaks,
    measure_fit,
    measure_generator,
    measure_training,
)
from anime_gan.bench.timing import machine_info
from anime_gan.device import resolve_device
from anime_gan.errors import UserError
from anime_gan.outputs import write_json_atomic


def _model(cfg: Mapping[str, Any], name: str) -> dict[str, Any]:
    if name not in cfg["models"]:
        raise UserError(
            f"benchmark model {name!r} is not under models: in conf/bench.yaml "
            f"(known: {sorted(cfg['models'])})."
        )
    return dict(cfg["models"][name])


def run_suite(cfg: Mapping[str, Any], say: Callable[[str], None] = print) -> dict[str, Any]:
    """Run every figure of ``cfg``'s mode on its device; returns the result dict (see module)."""
    if cfg["mode"] not in cfg["modes"]:
        raise UserError(
            f"mode={cfg['mode']!r} is not a benchmark mode: use one of {sorted(cfg['modes'])}."
        )
    settings = cfg["modes"][cfg["mode"]]
    device = resolve_device(cfg["device"])
    timing = {key: settings[key] for key in ("min_run_time", "max_repeats")}
    start = time.perf_counter()
    result: dict[str, Any] = {
        "schema_version": 1,
        "mode": cfg["mode"],
        "command": cfg.get("command"),
        "started_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_info(device),
        "timing_settings": timing,
    }
    say("counting FLOPs (meta device) and measuring the CPU's GEMM peak ...")
    result["cost"] = paper_cost(batch_size=64)
    result["peaks"] = peaks = device_peaks(device)
    for key, title, measure in (
        ("training", "training", partial(measure_training, timing=timing, peaks=peaks)),
        ("fit", "fit (the real module under Lightning)", measure_fit),
    ):
        result[key] = []
        for e in settings.get(key, {}).get(device.type, []):
            say(f"{title}: {e['model']} batch {e['batch']} {e['variant']} on {device.type} ...")
            result[key].append(measure(e, _model(cfg, e["model"]), device))
    result["generator"] = []
    for dev in [device] if device.type == "cpu" else [device, torch.device("cpu")]:
        spec = settings["generator"].get(dev.type) or {}
        for name in spec.get("models", []):
            for variant in spec["variants"]:
                result["generator"] += measure_generator(
                    name, _model(cfg, name), variant, spec["batches"], dev, timing, peaks, say
                )
    result["machine"]["loadavg_end"] = list(os.getloadavg())
    result["seconds"] = time.perf_counter() - start
    return result


def write_json(result: Mapping[str, Any], path: str | Path) -> Path:
    """Write ``result`` to ``path`` atomically (a temporary file in the same folder, renamed)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return write_json_atomic(path, result)


def _row(r: Mapping[str, Any]) -> str:
    variant = r["variant"] + (" (fit)" if "timed_iterations" in r else "")
    return f"  {r['model']:<13}{r['resolution']:>4}{r['batch']:>6} {variant:<18} {r['device']:<5}"


def _compute(r: Mapping[str, Any]) -> str:
    """The TFLOP/s and utilisation columns ('-' where unknown: fit rows, unknown peaks)."""
    if "achieved_tflops" not in r:
        return f"{'-':>9}{'-':>6}"
    util = "-" if r["utilisation"] is None else format(r["utilisation"], ">6.1%")
    return f"{r['achieved_tflops']:>9.3f}{util}"


def format_table(result: Mapping[str, Any]) -> str:
    """The result as plain-text tables: sizes and FLOPs, training, generator."""
    m, cost = result["machine"], result["cost"]
    start, end = m["loadavg_1_5_15"][0], m["loadavg_end"][0]
    lines = [
        f"anime-gan bench ({result['mode']}) on {m['device']}: {m.get('gpu', m['cpu'])}, "
        f"{m['torch_threads']} threads, load {start:.2f} -> {end:.2f}, torch {m['torch']}, "
        f"{result['seconds']:.0f} s",
        "",
    ]
    load = max(start, end)
    if m["device"] == "cpu" and load > 0.75 * (m["cpu_count"] or 1):
        lines.insert(
            1,
            f"warning: load {load:.1f} on {m['cpu_count']} cores: other processes shared the "
            f"CPU, so its figures are low and noisy; rerun on an idle machine.",
        )
    lines.append("networks at 128 px (counted from the models)    params   GFLOP/image")
    lines += [
        f"  {name:<44}{row['params']:>10,} {row['gflop_per_image']:>11.3f}"
        for name, row in cost["sizes"].items()
    ]
    ratio = cost["sizes"]["dcgan_generator"]["params_vs_srresnet"]
    lines += [
        f"  DCGAN G / SRResNet G parameters: {ratio:.2f}x (paper: ~4x)",
        "",
        f"TFLOP per iteration, batch {cost['batch_size']}, 128 px    counted   reference",
    ]
    lines += [
        f"  {key:<44}{value:>8.3f} {cost['reference'][key]:>9.2f}"
        for key, value in cost["counted"].items()
    ]
    lines += [
        "",
        "training        res batch variant            dev     it/s    img/s   ms/it"
        "  TFLOP/s  util  peak MiB",
    ]
    lines += [
        _row(r)
        + f"{r['iterations_per_s']:>8.2f}{r['images_per_s']:>9.1f}{r['ms_per_iteration']:>8.0f}"
        + f"{_compute(r)}{r['peak_mib']:>10.0f}"
        for r in result["training"] + result["fit"]
    ]
    lines += [
        "",
        "generator       res batch variant            dev    img/s   ms/img  TFLOP/s  util",
    ]
    lines += [
        _row(r) + f"{r['images_per_s']:>8.1f}{r['ms_per_image']:>9.2f}{_compute(r)}"
        for r in result["generator"]
    ]
    return "\n".join(lines)
