"""onnxruntime-web's profile lines -> per-operator and per-node medians (anime_gan.export.bench_web)."""

from __future__ import annotations

import json

from anime_gan.export.bench_web import summarize


def _line(name: str, op: str, us: int, ts: int) -> str:
    return (
        json.dumps(
            {
                "cat": "Node",
                "name": f"{name}_kernel_time",
                "dur": us,
                "ts": ts,
                "args": {"op_name": op, "input_type_shape": [{"float": [1, 64, 16, 16]}]},
            }
        )
        + ","
    )


def test_summarize_takes_medians_after_the_warm_up_per_node_and_per_operator():
    lines = ["[", "not json {", json.dumps({"cat": "Session", "name": "model_run", "dur": 9})]
    for run, (conv, relu) in enumerate([(9000, 900), (2000, 100), (1000, 300), (3000, 200)]):
        lines += [
            _line("/a/Conv", "FusedConv", conv, 10 * run),
            _line("/b/Relu", "Relu", relu, 10 * run + 1),
        ]
    lines.append(lines[-1])  # a repeated console line is counted once
    out = summarize(lines, skip=1)
    assert out["total_ms"] == 2.2  # medians 2.0 and 0.2 ms (the first run is warm-up)
    assert [o["op"] for o in out["by_op"]] == ["FusedConv", "Relu"]
    assert out["by_op"][0]["share"] == round(2.0 / 2.2, 3)
    assert out["slowest"][0] == {
        "node": "/a/Conv",
        "op": "FusedConv",
        "ms": 2.0,
        "inputs": [[1, 64, 16, 16]],
    }
    assert "FusedConv" in out["table"]
