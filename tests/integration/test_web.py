"""The web page in real (headless) Chromium, served by `anime-gan serve` with tiny real models:
the basics (a face, tags, settings files, share links). Features and the bugs found in review are in
test_web_features.py; fixtures in conftest.py."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.integration.webpage import pixels, settings, wait_message

REPO = Path(__file__).resolve().parents[2]
BENCH_JSON = REPO / "runs" / "bench" / "web_page_test.json"
pytestmark = pytest.mark.slow


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
    BENCH_JSON.write_text(
        json.dumps(
            {
                "what": "ms per face reported by the page (test model: 16 px, 8 channels, 1 res block)",
                "first_face_ms": ms,
                **{k: v for k, v in bench.items()},
            },
            indent=2,
        )
        + "\n"
    )


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


@pytest.mark.parametrize(
    "content, reason",
    [
        (b"{not json", "not valid JSON"),
        (
            b'{"format": "anime-gan/settings", "version": 1, "face": {"seed": 1, "tags": ["blonde hair"]}}',
            "exactly one eye color",
        ),
        (
            b'{"format": "anime-gan/settings", "version": 1, "controls": {"hair_color": "tartan hair"}}',
            "hair_color",
        ),
    ],
)
def test_malformed_settings_file_shows_a_message_and_keeps_the_state(page, content, reason):
    before, image = settings(page), pixels(page)
    page.set_input_files(
        "#import", files=[{"name": "bad.json", "mimeType": "application/json", "buffer": content}]
    )
    text = wait_message(page, "was not imported")
    assert reason in text and "current settings are kept" in text
    assert page.is_visible("#message.error")
    assert settings(page) == before and np.array_equal(pixels(page), image)


@pytest.mark.parametrize(
    "link, reason",
    [
        ("#seed=12x&tags=blonde+hair,blue+eyes", "seed is not a whole number"),
        ("#seed=3&tags=blonde+hair,red+hair,blue+eyes", "exactly one hair color"),
        ("#z=AAAA&tags=blonde+hair,blue+eyes", "the model needs 128"),
        ("#seed=3&tags=blonde+hair,blue+eyes&fix=-blonde+hair", "cannot be off"),
    ],
)
def test_malformed_share_link_shows_a_message_and_keeps_the_state(page, link, reason):
    before, image = settings(page), pixels(page)
    page.evaluate("h => { location.hash = h; }", link)
    text = wait_message(page, "share link could not be read")
    assert reason in text
    assert settings(page) == before and np.array_equal(pixels(page), image)
