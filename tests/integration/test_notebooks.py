"""The notebooks run top to bottom on tiny artifacts made here (CI has no runs/demo), and git
holds them without outputs."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from anime_gan.data.dataset import save_dataset
from anime_gan.demo.render import render_dataset
from anime_gan.metrics.precision import PrecisionResult
from anime_gan.metrics.precision_table import (
    precision_rows,
    write_precision_sheets,
    write_precision_table,
)
from anime_gan.reports.dataset import default_report_dir, write_report
from anime_gan.train import train
from tests.helpers import train_config

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
CELL_TIMEOUT = 60  # seconds per cell
KERNEL = "anime-gan-test"


def notebook_paths() -> list[Path]:
    """The committed notebooks (git) and any new ones in notebooks/."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "*.ipynb"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        listed = []
    return sorted({REPO / p for p in listed} | set(NOTEBOOKS.glob("*.ipynb")))


def test_notebooks_are_committed_without_outputs():
    paths = notebook_paths()
    assert {p.name for p in paths} >= {"explore_model.ipynb", "dataset.ipynb"}
    for path in paths:
        nb = json.loads(path.read_text())
        assert "widgets" not in nb["metadata"], f"{path}: widget state (make notebooks-clean)"
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [], f"{path}: outputs (make notebooks-clean)"
                assert cell["execution_count"] is None, f"{path}: execution count"


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory) -> dict[str, Path]:
    """Rendered 16 px faces with a build report, a 2-iteration checkpoint trained on them and
    a precision report beside it (written by the report's own writers)."""
    root = tmp_path_factory.mktemp("notebooks")
    ds = render_dataset(64, 16, seed=0, workers=1)
    data = save_dataset(ds, root / "data")
    mean_face = ds.images.mean(axis=0).astype(np.uint8)
    write_report(
        default_report_dir(data),
        {"count": len(ds)},
        ds.labels,
        ds.known,
        Counter({"2010": 40, "unknown": 24}),
        ["2010"],
        [48] * len(ds),
        [("2010", mean_face, 40)],
    )
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny models on shared cores run faster on one thread
    try:
        train(train_config(data, root / "run", "iterations=2"))
    finally:
        torch.set_num_threads(threads)
    ckpt = root / "run" / "checkpoints" / "last.ckpt"
    result = PrecisionResult(
        precision={"smile": 0.75, "blue hair": 0.25},
        images={"smile": ds.images[:4], "blue hair": ds.images[4:8]},
        probs={
            "smile": np.array([0.9, 0.8, 0.7, 0.1]),
            "blue hair": np.array([0.6, 0.2, 0.1, 0.3]),
        },
        shown={"smile": np.array([1, 1, 1, 0], bool), "blue hair": np.array([1, 0, 0, 0], bool)},
    )
    precision = root / "run" / "report" / "precision"
    write_precision_table(
        precision_rows(result, SimpleNamespace(held_out=None), 4), precision, "a test judge"
    )
    write_precision_sheets(result, precision)
    return {"data": data, "ckpt": ckpt}


@pytest.fixture
def kernel(tmp_path, monkeypatch, artifacts) -> str:
    """A kernelspec for this interpreter (a fresh CI venv has no registered kernel, and a user
    one may point elsewhere), the artifacts' paths in the environment the kernel inherits."""
    pytest.importorskip("nbclient", reason="nbclient is missing: pip install -e '.[dev]'")
    pytest.importorskip("ipykernel", reason="ipykernel is missing: pip install -e '.[dev]'")
    spec = tmp_path / "jupyter" / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "anime-gan test",
                "language": "python",
            }
        )
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("ANIME_GAN_CKPT", str(artifacts["ckpt"]))
    monkeypatch.setenv("ANIME_GAN_DATA", str(artifacts["data"]))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.delenv("ANIME_GAN_REPORT", raising=False)
    return KERNEL


def execute(name: str, kernel: str):
    """Run a notebook as Jupyter would (in its folder); a failing cell raises with its
    traceback."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    start = time.perf_counter()
    NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name=kernel,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    ).execute()
    print(f"{name}: {time.perf_counter() - start:.1f} s")
    return nb


def outputs(nb, mime: str) -> list:
    return [
        o["data"][mime]
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if mime in o.get("data", {})
    ]


def stdout(nb) -> str:
    return "".join(
        o.get("text", "")
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.get("name") == "stdout"
    )


@pytest.mark.slow
def test_explore_model_notebook_runs(kernel, artifacts):
    nb = execute("explore_model.ipynb", kernel)
    assert all(c.execution_count for c in nb.cells if c.cell_type == "code")
    assert f"{artifacts['ckpt']}: iteration 2, 16x16 px" in stdout(nb)
    assert "unknown tag 'smiel': did you mean 'smile'?" in stdout(nb)
    # sample sheet, noise-walk still, interpolation strip, precision overview
    assert len(outputs(nb, "image/png")) >= 4
    assert len(outputs(nb, "image/gif")) == 1
    assert len(outputs(nb, "application/vnd.jupyter.widget-view+json")) == 1
    table = "\n".join(outputs(nb, "text/markdown"))
    assert "| smile | 0.75 | 4 | 0.95 |" in table and "a test judge" in table


@pytest.mark.slow
def test_dataset_notebook_runs(kernel, artifacts):
    nb = execute("dataset.ipynb", kernel)
    assert all(c.execution_count for c in nb.cells if c.cell_type == "code")
    text = stdout(nb)
    assert f"{artifacts['data']}: 64 images of 16x16 px" in text
    assert "fully labelled: 64" in text
    shown = "\n".join(outputs(nb, "text/markdown"))
    for figure in ("tags.png", "years.png", "short_edge.png", "mean_faces.png"):
        assert figure in shown
    assert len(outputs(nb, "image/png")) >= 4 + 2  # the report's figures + two example grids


def test_strip_outputs_cleans_a_run_notebook(tmp_path):
    nbformat = pytest.importorskip(
        "nbformat", reason="nbformat is missing: pip install -e '.[dev]'"
    )
    sys.path.insert(0, str(NOTEBOOKS))
    try:
        from strip_outputs import main, strip_notebook
    finally:
        sys.path.remove(str(NOTEBOOKS))
    nb = nbformat.read(NOTEBOOKS / "dataset.ipynb", as_version=4)
    for k, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        cell.execution_count = k + 1
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="ran\n")]
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    path = tmp_path / "run.ipynb"
    nbformat.write(nb, path)
    assert main(["--check", str(path)]) == 1
    assert main([str(path)]) == 0 and main(["--check", str(path)]) == 0
    clean = nbformat.read(path, as_version=4)
    assert not strip_notebook(clean)
    assert [c.source for c in clean.cells] == [c.source for c in nb.cells]
