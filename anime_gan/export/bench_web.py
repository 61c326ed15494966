"""Milliseconds per face in a real browser: headless Chromium runs the page against an export.

``python -m anime_gan.export.bench_web --models random:128 data/export/demo`` exports a randomly
initialised paper generator (the speed does not depend on the weights; its BatchNorm statistics
are measured on a few batches, so every layer's activations have a trained network's scale and
the parity of the quantized variants means something) and/or takes export folders, serves each
with the built page, and asks the page itself (``animeGan.benchmark``) for the time of each
``session.run`` at batch 1, per variant and thread count, beside each variant's size and parity
with PyTorch. Results go to a JSON file (default runs/bench/web.json) with the machine's load
average before and after each measurement: on a shared machine, read the minimum as the
uncontended figure. Needs the built page (`make web`), Debian's chromium and the ``playwright``
package.

``--profile`` adds onnxruntime-web's per-operator profile of each run: with ``?profile=1`` the
page opens its session with ``enableProfiling``, and ``animeGan.endProfiling()`` makes
onnxruntime print the profile to the worker's console, one JSON event a line (Chrome trace
format: ``{"cat": "Node", "name": "<node>_kernel_time", "dur": us, "args": {"op_name",
"input_type_shape", ...}}``); :func:`summarize` turns those lines into the median time of each
node over the runs after the warm-up, per operator type and for the slowest nodes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from statistics import median
from typing import Any

CHROMIUM = "/usr/bin/chromium"
PAGE_DIR = Path(__file__).resolve().parents[2] / "web" / "dist"
WARMUP = 3  # runs of each measurement that are not counted


def launch(playwright: Any, executable: str = CHROMIUM) -> Any:
    """Headless Chromium (the system's, so nothing is downloaded)."""
    return playwright.chromium.launch(
        executable_path=executable,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
        ],
    )


def summarize(lines: Iterable[str], skip: int = 4, top: int = 8) -> dict[str, Any]:
    """Median ms per node over the runs after the first ``skip``, from the profile's console
    lines (other lines are skipped); totals per operator type; the ``top`` slowest nodes; and a
    printable table."""
    unique = {}  # the console may repeat a line: one event per (node, start time)
    for line in lines:
        try:
            event = json.loads(line.strip().rstrip(","))
        except ValueError:
            continue
        if (
            isinstance(event, dict)
            and event.get("cat") == "Node"
            and str(event.get("name", "")).endswith("_kernel_time")
        ):
            unique[event["name"], event.get("ts", 0)] = event
    runs: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in unique.values():
        runs[event["name"]].append(event)
    nodes = []
    for name, events in runs.items():
        args = events[0].get("args", {})
        shapes = args.get("input_type_shape", [])
        ms = median(e["dur"] for e in events[skip:] or events) / 1000
        nodes.append(
            {
                "node": name.removesuffix("_kernel_time"),
                "op": args.get("op_name", "?"),
                "ms": round(ms, 3),
                "inputs": [next(iter(s.values())) for s in shapes if isinstance(s, dict) and s],
            }
        )
    total = sum(n["ms"] for n in nodes)
    by_op: dict[str, float] = defaultdict(float)
    for n in nodes:
        by_op[n["op"]] += n["ms"]
    ops = [
        {"op": op, "ms": round(ms, 3), "share": round(ms / total, 3) if total else 0.0}
        for op, ms in sorted(by_op.items(), key=lambda kv: -kv[1])
    ]
    slowest = sorted(nodes, key=lambda n: -n["ms"])[:top]
    table = [f"  nodes: {total:.1f} ms in all"]
    table += [f"  {o['op']:<18}{o['ms']:8.2f} ms {100 * o['share']:5.1f}%" for o in ops]
    table += [
        f"  {n['node'][:38]:<40}{n['op']:<14}{n['ms']:7.2f} ms  {n['inputs'][:2]}" for n in slowest
    ]
    table = "\n".join(table)
    return {"total_ms": round(total, 3), "by_op": ops, "slowest": slowest, "table": table}


def measure(browser: Any, url: str, variant: str, threads: int, n: int, profile: bool) -> dict:
    """Open the page with ``?variant=&threads=`` and return its benchmark (median ms etc.)."""
    lines: list[str] = []
    with browser.new_page() as page:
        page.on("console", lambda message: lines.append(message.text))
        load_before = os.getloadavg()[0]
        page.goto(
            f"{url}?variant={variant}&threads={threads}&backend=wasm"
            + ("&profile=1" if profile else "")
        )
        page.evaluate("animeGan.ready")
        page.evaluate("animeGan.idle()")
        result = page.evaluate(f"animeGan.benchmark({n}, {WARMUP})")
        result["cross_origin_isolated"] = page.evaluate("crossOriginIsolated")
        result["load_average_1min"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
        if profile:
            page.evaluate("animeGan.endProfiling()")
            page.wait_for_timeout(500)  # the worker's console lines arrive after the reply
            result["profile"] = summarize(lines, skip=WARMUP + 1)
        return result


@contextmanager
def served_page(model_dir: Path, page_dir: Path = PAGE_DIR, browser: Any = None) -> Iterator:
    """Serve ``model_dir`` with the built page in the background; yields the server, its URL
    and ``browser`` (else a headless Chromium started for the block)."""
    from playwright.sync_api import sync_playwright

    from anime_gan.export.serve import serve_in_background

    server, url = serve_in_background(page_dir, model_dir)
    try:
        if browser is not None:
            yield server, url, browser
        else:
            with sync_playwright() as p:
                yield server, url, launch(p)
    finally:
        server.shutdown()
        server.server_close()


def benchmark(
    model_dir: Path,
    variants: Sequence[str],
    threads: Sequence[int],
    n: int,
    page_dir: Path = PAGE_DIR,
    profile: bool = False,
    rounds: int = 1,
) -> list[dict]:
    """Serve ``model_dir`` with the page and measure each (variant, threads) pair."""
    results = []
    with served_page(model_dir, page_dir) as (_, url, browser):
        for _ in range(rounds):  # interleaved: each round measures every pair back to back
            for t in threads:
                for variant in variants:
                    r = measure(browser, url, variant, t, n, profile)
                    load = r["load_average_1min"]
                    print(
                        f"{variant:<13} {t} thread(s): median {r['median_ms']:.1f} ms, "
                        f"min {r['min_ms']:.1f} ms (load {load[0]:.1f}-{load[1]:.1f})",
                        flush=True,
                    )
                    if profile:
                        print(r["profile"]["table"])
                    results.append(r)
    return results


def random_generator(resolution: int) -> torch.nn.Module:  # noqa: F821
    """The paper generator with random weights and BatchNorm statistics measured on 4 batches of
    16 prior-drawn inputs (at their defaults the output is nearly constant, std 0.01; measured,
    about 0.5 as a trained generator's), in eval mode."""
    import torch

    from anime_gan.data.priors import LabelPrior
    from anime_gan.models.generator import SRResNetGenerator

    torch.manual_seed(0)
    g = SRResNetGenerator(resolution).train()
    for m in g.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.momentum = None  # a plain average over the batches
            m.reset_running_stats()
    prior = LabelPrior.training()
    with torch.no_grad():
        for _ in range(4):
            g(torch.randn(16, g.z_dim), prior.sample(16).float())
    return g.eval()


def _model_entry(spec: str, args: argparse.Namespace, tmp: Path) -> dict:
    """Benchmark one model: ``random:<resolution>`` (a fresh paper generator) or an export folder."""
    variants = args.variants
    if spec.startswith("random:"):  # parity measured on 16 faces
        from anime_gan.data.priors import LabelPrior
        from anime_gan.export.bundle import export_generator

        model_dir = tmp / spec.replace(":", "_")
        g = random_generator(int(spec.split(":")[1]))
        source = {
            "checkpoint": None,
            "iteration": None,
            "generator_config": g.config(),
            "note": "random weights, BatchNorm statistics measured (for timing)",
        }
        card = export_generator(
            g, model_dir, LabelPrior.training(), source, variants, variants[0], samples=16
        )
    else:
        model_dir = Path(spec)
        card = json.loads((model_dir / "model.json").read_text())
        variants = [v for v in variants if v in card["models"]]
    config = card["source"].get("generator_config")
    print(f"{spec}: {card['resolution']} px, {config}")
    return {
        "model": spec,
        "resolution": card["resolution"],
        "generator_config": config,
        "sizes_bytes": {k: v["bytes"] for k, v in card["models"].items()},
        "parity": {k: v["parity"] for k, v in card["models"].items()},
        "results": benchmark(
            model_dir, variants, args.threads, args.n, profile=args.profile, rounds=args.rounds
        ),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--models",
        nargs="+",
        default=["random:128"],
        help="random:<resolution> (the paper generator, random weights) or export folders",
    )
    parser.add_argument("--variants", nargs="+", default=["int8-static", "int8", "fp32"])
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("-n", type=int, default=20)
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measure every (variant, threads) pair this many times, interleaved",
    )
    parser.add_argument(
        "--profile", action="store_true", help="add onnxruntime-web's per-operator profile"
    )
    parser.add_argument("--out", type=Path, default=Path("runs/bench/web.json"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        entries = [_model_entry(m, args, Path(tmp)) for m in args.models]
    load = os.getloadavg()
    report = {
        "what": "ms per face (batch 1, session.run only) in headless Chromium, onnxruntime-web WASM",
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "command": "python -m anime_gan.export.bench_web "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "load_average_1_5_15": [round(x, 2) for x in load],
        },
        "models": entries,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out} (load average {load[0]:.1f} on {os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
