"""The benchmark suite behind ``anime-gan bench``: runs the figures a config names, returns one
JSON-ready dict, writes it atomically and formats it as a table.

A config (conf/bench.yaml) has ``mode`` (quick or full), ``device`` (auto, cpu, cuda),
``models`` (named network sizes) and ``modes.<mode>`` with the timing settings and, per device
type, the training configs and the generator variants to time.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch

from anime_gan.bench.fit import measure_fit
from anime_gan.bench.flops import paper_cost
from anime_gan.bench.generation import GeneratorRunner, measure_generator
from anime_gan.bench.peaks import device_peaks
from anime_gan.bench.timing import machine_info
from anime_gan.bench.training import measure_training
from anime_gan.device import resolve_device
from anime_gan.errors import UserError

SCHEMA_VERSION = 1


def _settings(cfg: Mapping[str, Any]) -> Mapping[str, Any]:
    modes = cfg["modes"]
    if cfg["mode"] not in modes:
        raise UserError(
            f"mode={cfg['mode']!r} is not a benchmark mode: use one of {sorted(modes)}."
        )
    return modes[cfg["mode"]]


def _model(cfg: Mapping[str, Any], name: str) -> dict[str, Any]:
    if name not in cfg["models"]:
        raise UserError(
            f"benchmark model {name!r} is not under models: in conf/bench.yaml "
            f"(known: {sorted(cfg['models'])})."
        )
    return dict(cfg["models"][name])


def run_suite(cfg: Mapping[str, Any], say: Callable[[str], None] = print) -> dict[str, Any]:
    """Run every figure of ``cfg``'s mode on its device; returns the result dict (see module)."""
    settings = _settings(cfg)
    device = resolve_device(cfg["device"])
    timing = {
        "min_run_time": float(settings["min_run_time"]),
        "max_repeats": int(settings["max_repeats"]),
    }
    start = time.perf_counter()
    result: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "mode": cfg["mode"],
        "command": cfg.get("command"),
        "started_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_info(device),
        "timing_settings": timing,
    }
    say("counting FLOPs (meta device) and measuring the CPU's GEMM peak ...")
    result["cost"] = paper_cost(batch_size=64)
    result["peaks"] = peaks = device_peaks(device)
    result["training"] = []
    for entry in settings["training"].get(device.type, []):
        say(
            f"training: {entry['model']} batch {entry['batch']} {entry['variant']} on {device.type} ..."
        )
        result["training"].append(
            measure_training(
                entry["model"],
                _model(cfg, entry["model"]),
                int(entry["batch"]),
                entry["variant"],
                device,
                timing,
                peaks,
            )
        )
    result["fit"] = []
    for entry in settings.get("fit", {}).get(device.type, []):
        say(
            f"fit (the real module under Lightning): {entry['model']} batch {entry['batch']} "
            f"{entry['variant']} ..."
        )
        result["fit"].append(
            measure_fit(
                entry["model"],
                _model(cfg, entry["model"]),
                int(entry["batch"]),
                entry["variant"],
                device,
                int(entry["warmup"]),
                int(entry["iterations"]),
            )
        )
    result["generator"] = []
    for dev in [device] if device.type == "cpu" else [device, torch.device("cpu")]:
        spec = settings["generator"].get(dev.type)
        if not spec:
            continue
        runner = GeneratorRunner(dev)
        for name in spec["models"]:
            for variant in spec["variants"]:
                for batch in spec["batches"]:
                    say(f"generator: {name} {variant} batch {batch} on {dev.type} ...")
                    result["generator"].append(
                        measure_generator(
                            runner, name, _model(cfg, name), variant, int(batch), timing, peaks
                        )
                    )
    result["machine"]["loadavg_end"] = list(os.getloadavg())
    result["seconds"] = time.perf_counter() - start
    return result


def write_json(result: Mapping[str, Any], path: str | Path) -> Path:
    """Write ``result`` to ``path`` atomically (a temporary file in the same folder, renamed)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(result, f, indent=2)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _fmt(value: Any, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def _row(r: Mapping[str, Any], variant: str) -> str:
    return f"  {r['model']:<13}{r['resolution']:>4}{r['batch']:>6} {variant:<18} {r['device']:<5}"


def format_table(result: Mapping[str, Any]) -> str:
    """The result as plain-text tables: sizes and FLOPs, training, generator."""
    m, cost = result["machine"], result["cost"]
    lines = [
        f"anime-gan bench ({result['mode']}) on {m['device']}: {m.get('gpu', m['cpu'])}, "
        f"{m['torch_threads']} threads, load {m['loadavg_1_5_15'][0]:.2f} -> "
        f"{m.get('loadavg_end', [0])[0]:.2f}, torch {m['torch']}, {result['seconds']:.0f} s",
        "",
        "networks at 128 px (counted from the models)    params   GFLOP/image",
    ]
    load = max(m["loadavg_1_5_15"][0], m.get("loadavg_end", [0])[0])
    if m["device"] == "cpu" and load > 0.75 * (m["cpu_count"] or 1):
        lines[1:1] = [
            f"warning: load {load:.1f} on {m['cpu_count']} cores: other processes shared the "
            f"CPU, so its figures are low and noisy; rerun on an idle machine."
        ]
    for name, row in cost["sizes"].items():
        lines.append(f"  {name:<44}{row['params']:>10,} {row['gflop_per_image']:>11.3f}")
    ratio = cost["sizes"]["dcgan_generator"]["params_vs_srresnet"]
    lines += [
        f"  DCGAN G / SRResNet G parameters: {ratio:.2f}x (paper: ~4x)",
        "",
        f"TFLOP per iteration, batch {cost['batch_size']}, 128 px    counted   reference",
    ]
    for key, value in cost["counted"].items():
        lines.append(f"  {key:<44}{value:>8.3f} {cost['reference'][key]:>9.2f}")
    lines += [
        "",
        "training        res batch variant            dev     it/s    img/s   ms/it"
        "  TFLOP/s  util  peak MiB",
    ]
    for r in result["training"] + result.get("fit", []):
        fit = "timed_iterations" in r
        speed = (
            f"{r['iterations_per_s']:>8.2f}{r['images_per_s']:>9.1f}{r['ms_per_iteration']:>8.0f}"
        )
        compute = (
            f"{'-':>9}{'-':>6}"
            if fit
            else f"{r['achieved_tflops']:>9.3f}{_fmt(r['utilisation'], '>6.1%')}"
        )
        variant = r["variant"] + (" (fit)" if fit else "")
        lines.append(_row(r, variant) + speed + compute + f"{r['peak_mib']:>10.0f}")
    lines += [
        "",
        "generator       res batch variant            dev    img/s   ms/img  TFLOP/s  util",
    ]
    for r in result["generator"]:
        lines.append(
            _row(r, r["variant"]) + f"{r['images_per_s']:>8.1f}{r['ms_per_image']:>9.2f}"
            f"{r['achieved_tflops']:>9.3f}{_fmt(r['utilisation'], '>6.1%')}"
        )
    return "\n".join(lines)
