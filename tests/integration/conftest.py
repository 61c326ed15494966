"""Fixtures of the web page tests (test_web*.py): real headless Chromium and `anime-gan serve`
with two small exports, shared by every page test of the session.

Set-up: Debian's chromium (installed with apt-get when missing and we are root), the
``playwright`` package, and the built page (npm ci + web/build.mjs). Each test skips with the
reason when one of them cannot be had.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
WEB = REPO / "web"


@pytest.fixture(scope="session")
def chromium() -> str:
    """/usr/bin/chromium, installed with apt-get when absent (root only)."""
    pytest.importorskip(
        "playwright.sync_api",
        reason="the playwright package is not installed (pip install playwright)",
    )
    from anime_gan.export.bench_web import CHROMIUM

    if not Path(CHROMIUM).exists():
        if shutil.which("apt-get") is None or os.geteuid() != 0:
            pytest.skip(
                f"{CHROMIUM} is missing and cannot be installed here (needs apt-get as root)"
            )
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        res = subprocess.run(
            ["apt-get", "install", "-y", "chromium"],
            capture_output=True,
            text=True,
            timeout=900,
            env=env,
        )
        if res.returncode != 0 or not Path(CHROMIUM).exists():
            tail = (res.stderr or res.stdout).strip().splitlines()[-1:] or ["no output"]
            pytest.skip(f"apt-get install chromium failed: {tail[0]}")
    return CHROMIUM


def _sources() -> list[Path]:
    return [
        p
        for p in [*WEB.iterdir(), *(WEB / "locales").iterdir()]
        if p.is_file() and p.suffix in (".html", ".js", ".css", ".mjs", ".json")
    ]


def _stale(dist: Path) -> bool:
    """True when web/dist is missing or older than a page source or the build script."""
    built = dist / "index.html"
    if not built.exists() or not (dist / "ort" / "ort.wasm.min.mjs").exists():
        return True
    return any(p.stat().st_mtime > built.stat().st_mtime for p in _sources())


@pytest.fixture(scope="session")
def built_page() -> Path:
    """web/dist, built as `make web` does (npm ci when node_modules is missing or older than the lockfile)."""
    dist = WEB / "dist"
    installed = WEB / "node_modules" / ".package-lock.json"
    if (
        not installed.exists()
        or installed.stat().st_mtime < (WEB / "package-lock.json").stat().st_mtime
    ):
        if shutil.which("npm") is None:
            pytest.skip(
                "npm is not installed: cannot install onnxruntime-web and gifenc to build the page"
            )
        res = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"],
            cwd=WEB,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if res.returncode != 0:
            pytest.skip(f"npm ci failed in web/: {res.stderr.strip().splitlines()[-1:]}")
    if _stale(dist):
        if shutil.which("node") is None:
            pytest.skip("node is not installed: cannot build the page")
        subprocess.run(["node", "build.mjs"], cwd=WEB, check=True, capture_output=True, timeout=120)
    return dist


def _exports(root: Path) -> Path:
    """Two exports: ``tiny`` (16 px, trained 2 iterations, int8-static by default) and ``small32`` (the demo's 32 px
    model=small generator, random weights: 6 MB in fp32, large enough for the download warning)."""
    import torch

    from anime_gan.data.priors import LabelPrior
    from anime_gan.export.bundle import export_bundle, export_generator
    from anime_gan.models.generator import SRResNetGenerator
    from anime_gan.train import train
    from tests.helpers import tiny_dataset, train_config

    exports = root / "exports"
    train(train_config(tiny_dataset(root / "data", n=16), root / "run", "iterations=2"))
    export_bundle(
        root / "run/checkpoints/last.ckpt",
        exports / "tiny",
        variants=["fp32", "int8", "int8-static"],
        default_variant="int8-static",
        samples=4,
    )
    torch.manual_seed(0)
    g = SRResNetGenerator(32, channels=32, num_res_blocks=4).eval()
    export_generator(
        g,
        exports / "small32",
        LabelPrior.training(),
        {
            "checkpoint": None,
            "iteration": None,
            "generator_config": g.config(),
            "note": "random weights",
        },
        ["fp32", "int8"],
        "int8",
        samples=2,
    )
    return exports


@pytest.fixture(scope="session")
def exports(tmp_path_factory) -> Path:
    """A folder with the two exports of :func:`_exports`."""
    return _exports(tmp_path_factory.mktemp("web"))


@pytest.fixture(scope="session")
def served(built_page, exports, tmp_path_factory) -> str:
    """`anime-gan serve` (a subprocess on a free port) with the two exports, tiny the default."""
    root = tmp_path_factory.mktemp("serve")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "anime_gan.cli.main",
            "serve",
            f"page_dir={built_page}",
            f"model_dir={exports}",
            "default_model=tiny",
            "port=0",
            "timeout=1200",
            f"hydra.run.dir={root / 'hydra'}",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    line = proc.stdout.readline()
    if "serving the page at" not in line:
        proc.kill()
        pytest.fail(f"anime-gan serve did not start: {line}{proc.stderr.read()}")
    yield line.split()[4]
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="session")
def browser(chromium):
    from playwright.sync_api import sync_playwright

    from anime_gan.export.bench_web import launch

    with sync_playwright() as p:
        b = launch(p, chromium)
        yield b
        b.close()


@pytest.fixture
def open_page(browser, served):
    """``open_page(query="", **context_options)``: a fresh context (no stored language, no
    history) on the page, started and idle; at the end, no uncaught page errors."""
    contexts, errors = [], []

    def open_(query: str = "", wait: bool = True, init_script: str | None = None, **options):
        options = {"accept_downloads": True, "viewport": {"width": 1200, "height": 900}, **options}
        context = browser.new_context(**options)
        contexts.append(context)
        if init_script:
            context.add_init_script(init_script)
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(served + query)
        if wait:
            page.evaluate("animeGan.ready")
            page.evaluate("animeGan.idle()")
        return page

    yield open_
    for context in contexts:
        context.close()
    assert not errors


@pytest.fixture
def page(open_page):
    return open_page()
