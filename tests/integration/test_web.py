"""The web page in real (headless) Chromium, served by `anime-gan serve` with a tiny real model.

Set-up: Debian's chromium (installed with apt-get when missing and we are root), the
``playwright`` package, and the built page (npm ci + web/build.mjs). Each test skips with the
reason when one of them cannot be had.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from anime_gan.export.bench_web import CHROMIUM
from anime_gan.export.bundle import export_bundle
from anime_gan.train import train
from tests.helpers import tiny_dataset, train_config

REPO = Path(__file__).resolve().parents[2]
WEB = REPO / "web"
BENCH_JSON = REPO / "runs" / "bench" / "web_page_test.json"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def chromium() -> str:
    """/usr/bin/chromium, installed with apt-get when absent (root only)."""
    pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed (pip install playwright)")
    if not Path(CHROMIUM).exists():
        if shutil.which("apt-get") is None or os.geteuid() != 0:
            pytest.skip(f"{CHROMIUM} is missing and cannot be installed here (needs apt-get as root)")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        res = subprocess.run(["apt-get", "install", "-y", "chromium"], capture_output=True, text=True,
                             timeout=900, env=env)
        if res.returncode != 0 or not Path(CHROMIUM).exists():
            tail = (res.stderr or res.stdout).strip().splitlines()[-1:] or ["no output"]
            pytest.skip(f"apt-get install chromium failed: {tail[0]}")
    return CHROMIUM


def _stale(dist: Path) -> bool:
    """True when web/dist is missing or older than a page source or the build script."""
    built = dist / "index.html"
    if not built.exists() or not (dist / "ort" / "ort.wasm.min.mjs").exists():
        return True
    sources = [p for p in WEB.iterdir() if p.is_file() and p.suffix in (".html", ".js", ".css", ".mjs", ".json")]
    return any(p.stat().st_mtime > built.stat().st_mtime for p in sources)


@pytest.fixture(scope="session")
def built_page() -> Path:
    """web/dist, built as `make web` does (npm ci when node_modules is missing)."""
    dist = WEB / "dist"
    if not (WEB / "node_modules" / "onnxruntime-web").is_dir():
        if shutil.which("npm") is None:
            pytest.skip("npm is not installed: cannot install onnxruntime-web to build the page")
        res = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=WEB, capture_output=True,
                             text=True, timeout=600)
        if res.returncode != 0:
            pytest.skip(f"npm ci failed in web/: {res.stderr.strip().splitlines()[-1:]}")
    if _stale(dist):
        if shutil.which("node") is None:
            pytest.skip("node is not installed: cannot build the page")
        subprocess.run(["node", "build.mjs"], cwd=WEB, check=True, capture_output=True, timeout=120)
    return dist


@pytest.fixture(scope="module")
def served(built_page, tmp_path_factory) -> str:
    """`anime-gan serve` (a subprocess on a free port) with a tiny model trained for 2 iterations."""
    root = tmp_path_factory.mktemp("web")
    train(train_config(tiny_dataset(root / "data", n=16), root / "run", "iterations=2"))
    export_bundle(root / "run/checkpoints/last.ckpt", root / "model", variants=["fp32", "int8"], samples=4)
    proc = subprocess.Popen(
        [sys.executable, "-m", "anime_gan.cli.main", "serve", f"page_dir={built_page}",
         f"model_dir={root / 'model'}", "port=0", "timeout=600", f"hydra.run.dir={root / 'hydra'}"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"})
    line = proc.stdout.readline()
    if "serving the page at" not in line:
        proc.kill()
        pytest.fail(f"anime-gan serve did not start: {line}{proc.stderr.read()}")
    yield line.split()[4]
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def browser(chromium):
    from playwright.sync_api import sync_playwright

    from anime_gan.export.bench_web import launch

    with sync_playwright() as p:
        b = launch(p, chromium)
        yield b
        b.close()


@pytest.fixture
def page(browser, served):
    context = browser.new_context(accept_downloads=True, viewport={"width": 1200, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(served)
    page.evaluate("animeGan.ready")
    page.evaluate("animeGan.idle()")
    yield page
    context.close()
    assert not errors


def pixels(page) -> np.ndarray:
    data = page.evaluate("""() => {
        const c = document.getElementById('face');
        return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data);
    }""")
    return np.array(data, dtype=np.uint8).reshape(-1, 4)


def settings(page) -> dict:
    return page.evaluate("animeGan.settings()")


def wait_message(page, text: str) -> str:
    page.wait_for_function("t => document.getElementById('message-text').textContent.includes(t)", arg=text)
    page.evaluate("animeGan.idle()")
    return page.inner_text("#message-text")


def test_page_generates_a_face_and_reports_its_time(page):
    rgba = pixels(page)
    assert len(rgba) == 16 * 16 and (rgba[:, 3] == 255).all()
    assert rgba[:, :3].std() > 1.0  # a face, not a blank canvas
    assert "WASM" in page.inner_text("#status")
    ms = float(page.get_attribute("#timing", "data-ms"))
    assert ms > 0 and "ms" in page.inner_text("#timing")
    assert page.locator("#history .thumb").count() == 1
    bench = page.evaluate("animeGan.benchmark(5, 1)")
    assert bench["median_ms"] > 0 and len(bench["times_ms"]) == 5
    BENCH_JSON.parent.mkdir(parents=True, exist_ok=True)
    BENCH_JSON.write_text(json.dumps({
        "what": "ms per face reported by the page (test model: 16 px, 8 channels, 1 res block)",
        "first_face_ms": ms, **{k: v for k, v in bench.items()}}, indent=2) + "\n")


def test_changing_hair_color_with_fixed_noise_changes_the_face(page):
    seed = page.evaluate("animeGan.state.face.seed")
    page.click('label[for="hair_color--blonde hair"]')
    page.evaluate("animeGan.idle()")
    blonde, tags_blonde = pixels(page), set(settings(page)["face"]["tags"])
    page.click('label[for="hair_color--blue hair"]')
    page.evaluate("animeGan.idle()")
    blue, tags_blue = pixels(page), set(settings(page)["face"]["tags"])
    assert page.evaluate("animeGan.state.face.seed") == seed  # same noise
    assert "blonde hair" in tags_blonde and "blue hair" in tags_blue
    assert tags_blonde - {"blonde hair"} == tags_blue - {"blue hair"}  # only the hair changed
    assert not np.array_equal(blonde, blue)
    assert page.locator("#history .thumb").count() == 3


def test_settings_export_then_import_round_trips(page, tmp_path):
    page.click('label[for="tag:smile--on"]')
    page.evaluate("animeGan.idle()")
    before, image = settings(page), pixels(page)
    with page.expect_download() as download:
        page.click("#export")
    saved = tmp_path / "settings.json"
    download.value.save_as(saved)
    assert json.loads(saved.read_text()) == before
    page.click('label[for="tag:smile--off"]')
    page.click("#generate")
    page.evaluate("animeGan.idle()")
    assert settings(page) != before
    page.set_input_files("#import", str(saved))
    wait_message(page, "Imported")
    assert settings(page) == before
    assert np.array_equal(pixels(page), image)


def test_share_link_round_trips_seed_and_perturbed_noise(page):
    page.fill("#amount", "0.5")
    page.click("#perturb")
    page.evaluate("animeGan.idle()")
    link, before, image = page.evaluate("location.hash"), settings(page), pixels(page)
    assert "z=" in link and before["face"]["seed"] is None
    page.click("#generate")
    page.evaluate("animeGan.idle()")
    assert not np.array_equal(pixels(page), image)
    page.evaluate("h => { location.hash = h; }", link)
    page.wait_for_function("() => animeGan.state.face.seed === null")
    page.evaluate("animeGan.idle()")
    assert settings(page) == before and np.array_equal(pixels(page), image)


@pytest.mark.parametrize("content, reason", [
    (b"{not json", "not valid JSON"),
    (b'{"format": "anime-gan/settings", "version": 1, "face": {"seed": 1, "tags": ["blonde hair"]}}',
     "exactly one eye color"),
    (b'{"format": "anime-gan/settings", "version": 1, "controls": {"hair_color": "tartan hair"}}',
     "hair_color"),
])
def test_malformed_settings_file_shows_a_message_and_keeps_the_state(page, content, reason):
    before, image = settings(page), pixels(page)
    page.set_input_files("#import", files=[{"name": "bad.json", "mimeType": "application/json", "buffer": content}])
    text = wait_message(page, "was not imported")
    assert reason in text and "current settings are kept" in text
    assert page.is_visible("#message.error")
    assert settings(page) == before and np.array_equal(pixels(page), image)


@pytest.mark.parametrize("link, reason", [
    ("#seed=12x&tags=blonde+hair,blue+eyes", "seed is not a whole number"),
    ("#seed=3&tags=blonde+hair,red+hair,blue+eyes", "exactly one hair color"),
    ("#z=AAAA&tags=blonde+hair,blue+eyes", "the model needs 128"),
    ("#seed=3&tags=blonde+hair,blue+eyes&fix=-blonde+hair", "cannot be off"),
])
def test_malformed_share_link_shows_a_message_and_keeps_the_state(page, link, reason):
    before, image = settings(page), pixels(page)
    page.evaluate("h => { location.hash = h; }", link)
    text = wait_message(page, "share link could not be read")
    assert reason in text
    assert settings(page) == before and np.array_equal(pixels(page), image)
