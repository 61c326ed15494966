"""Where the time goes in the browser: onnxruntime-web's per-operator profile, summarized.

With ``?profile=1`` the page opens its session with ``enableProfiling``, and
``animeGan.endProfiling()`` makes onnxruntime print the profile to the worker's console, one JSON
event a line (Chrome trace format: ``{"cat": "Node", "name": "<node>_kernel_time", "dur": us,
"args": {"op_name", "input_type_shape", ...}}``). :func:`summarize` turns those lines into the
median time of each node over the runs after the warm-up, per operator type and for the slowest
nodes, with their input shapes.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from statistics import median
from typing import Any


def node_events(lines: Iterable[str]) -> list[dict[str, Any]]:
    """The per-node kernel events among console lines (other lines are skipped)."""
    events = []
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
            events.append(event)
    return events


def summarize(lines: Iterable[str], skip: int = 4, top: int = 8) -> dict[str, Any]:
    """Median ms per node over the runs after the first ``skip``; totals per operator type; the
    ``top`` slowest nodes; and a printable table."""
    # the console may repeat a line: one event per (node, start time)
    unique = {(e["name"], e.get("ts", 0)): e for e in node_events(lines)}
    runs: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in unique.values():
        runs[event["name"]].append(event)
    nodes = []
    for name, events in runs.items():
        kept = events[skip:] or events
        args = events[0].get("args", {})
        nodes.append(
            {
                "node": name.removesuffix("_kernel_time"),
                "op": args.get("op_name", "?"),
                "ms": round(median(e["dur"] for e in kept) / 1000, 3),
                "inputs": [
                    next(iter(s.values()))
                    for s in args.get("input_type_shape", [])
                    if isinstance(s, dict) and s
                ],
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
    return {
        "total_ms": round(total, 3),
        "by_op": ops,
        "slowest": slowest,
        "table": "\n".join(table),
    }
