"""The web page's second version in real headless Chromium: model choice, the grid,
interpolation, expert mode, languages, loading, and one test per bug fixed. Fixtures: conftest.py
(two exports served: ``tiny``, 16 px, the default, and ``small32``, 32 px)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from PIL import Image

from tests.integration.webpage import (
    banner,
    download,
    idle,
    pixels,
    set_slider,
    settings,
    wait_message,
)

pytestmark = pytest.mark.slow

CELLULAR = "Object.defineProperty(navigator, 'connection', {value: {type: 'cellular', effectiveType: '4g', saveData: false}})"
SAVE_DATA = "Object.defineProperty(navigator, 'connection', {value: {type: 'wifi', effectiveType: '4g', saveData: true}})"


def face_vector(page) -> list[float]:
    return page.evaluate("Array.from(animeGan.state.face.tags)")


# ---- model choice


def test_the_page_lists_the_exports_and_switches_model(page):
    options = page.eval_on_selector_all(
        "#model-select option", "os => os.map(o => [o.value, o.textContent])"
    )
    assert options == [["small32", "small32 · 32 px"], ["tiny", "tiny · 16 px"]]
    assert re.search(
        r"16×16 px · 2 iterations · srresnet 8ch × 1 · exported \d{4}-\d\d-\d\d",
        page.inner_text("#model-desc"),
    )
    variants = page.eval_on_selector_all(
        "#variant-select option", "os => os.map(o => o.textContent)"
    )
    assert [v.split(" · ")[0] for v in variants] == ["fp32", "int8", "int8-static"]
    assert all(" MB · " in v and "dB" in v for v in variants)
    seed = page.evaluate("animeGan.state.face.seed")
    tags = settings(page)["face"]["tags"]
    page.select_option("#model-select", "small32")
    page.wait_for_function("animeGan.info.model === 'small32'")
    idle(page)
    assert len(pixels(page)) == 32 * 32  # the 32 px model draws now ...
    assert (
        page.evaluate("animeGan.state.face.seed") == seed and settings(page)["face"]["tags"] == tags
    )  # ... the same face
    assert "model=small32" in page.url and "random weights" in page.inner_text("#model-desc")
    assert settings(page)["model"] == {"name": "small32", "resolution": 32, "z_dim": 128}
    page.select_option("#variant-select", "fp32")
    page.wait_for_function("animeGan.info.variant === 'fp32'")
    assert "fp32 model 6.0 MB" in page.inner_text("#status") and "variant=fp32" in page.url


def test_the_int8_static_variant_draws_the_fp32_face(open_page):
    """int8-static (the default: int8 arithmetic in its largest convolutions) against fp32."""
    link = "#seed=11&tags=aqua+hair,smile,red+eyes"
    fast, exact = open_page(link), open_page("?variant=fp32" + link)
    assert fast.evaluate(
        "animeGan.info.variant"
    ) == "int8-static" and "int8-static model" in fast.inner_text("#status")
    diff = np.abs(pixels(fast).astype(int) - pixels(exact).astype(int))[:, :3]
    assert diff.mean() < 2.0 and diff.max() < 40  # 8-bit levels


def test_a_link_with_a_model_opens_that_model(open_page):
    page = open_page("?model=small32#seed=7&tags=blonde+hair,blue+eyes")
    assert page.evaluate("animeGan.info.model") == "small32" and len(pixels(page)) == 32 * 32
    assert settings(page)["face"] == {"seed": 7, "tags": ["blonde hair", "blue eyes"]}
    bad = open_page("?model=nothing")
    assert (
        'There is no model "nothing" (the server has small32, tiny): the page shows "tiny" instead.'
        == bad.inner_text("#message-text")
    )
    assert bad.evaluate("animeGan.info.model") == "tiny" and "model=tiny" in bad.url


# ---- the grid


def test_grid_mode_faces_open_keep_download_and_share(open_page, tmp_path):
    page = open_page(permissions=["clipboard-read", "clipboard-write"])
    page.click(
        'label[for="hair_color--blonde hair"]'
    )  # so that blue hair, later, changes every face
    idle(page)
    page.fill("#count", "5")
    page.dispatch_event("#count", "change")
    page.click("#generate")
    idle(page)
    assert page.locator("#grid .cell").count() == 5 and page.is_visible("#grid-card")
    assert page.inner_text("#timing").startswith("5 faces in")
    cells = [pixels(page, f"#grid .cell:nth-child({k}) canvas") for k in range(1, 6)]
    assert len({c.tobytes() for c in cells}) == 5  # five different faces
    before = page.locator("#history .thumb").count()
    assert all(
        "blonde hair"
        in page.evaluate(f"animeGan.schema.namesFromVector(animeGan.state.grid[{k}].tags)")
        for k in range(5)
    )
    page.click("#grid .cell:nth-child(3) .open")
    assert (
        np.array_equal(pixels(page), cells[2])
        and page.locator("#history .thumb").count() == before + 1
    )
    page.click("#grid .cell:nth-child(4) .keep")
    assert page.locator("#history .thumb").count() == before + 2
    saved = download(page, "#grid .cell:nth-child(2) .save", tmp_path)
    assert re.fullmatch(r"anime-gan_tiny_s\d+_[a-z]+-hair_[a-z]+-eyes\.png", saved.name)
    assert np.array_equal(np.asarray(Image.open(saved).convert("RGBA")).reshape(-1, 4), cells[1])
    page.click("#grid .cell:nth-child(5) .link")
    wait_message(page, "share link is copied")
    link = page.evaluate("navigator.clipboard.readText()")
    fresh = open_page(link.split("/", 3)[3])  # "?model=tiny#seed=..."
    assert np.array_equal(pixels(fresh), cells[4])  # the 5th face, opened from its link
    # a tag change redraws every face of the grid with its noise
    page.click('label[for="hair_color--blue hair"]')
    idle(page)
    assert all(
        not np.array_equal(pixels(page, f"#grid .cell:nth-child({k}) canvas"), cells[k - 1])
        for k in range(1, 6)
    )
    page.fill("#count", "1")
    page.dispatch_event("#count", "change")
    page.click("#generate")
    idle(page)
    assert not page.is_visible("#grid-card")


# ---- interpolation


def two_faces_as_ends(page) -> tuple[np.ndarray, np.ndarray]:
    page.click('label[for="hair_color--blonde hair"]')
    idle(page)
    a = pixels(page)
    page.click('label[for="hair_color--blue hair"]')
    page.click("#generate")
    idle(page)
    b = pixels(page)
    # history, newest first: blue (noise 2), blue (noise 1), blonde (noise 1), the first face
    page.click("#history .thumb-item:nth-child(1) .pick-b")
    page.click("#history .thumb-item:nth-child(3) .pick-a")
    idle(page)
    return a, b


def test_interpolation_strip_between_two_history_faces(page):
    a, b = two_faces_as_ends(page)
    frames = page.locator("#strip canvas")
    assert frames.count() == 8
    assert np.array_equal(pixels(page, "#strip .frame:first-child canvas"), a)
    assert np.array_equal(pixels(page, "#strip .frame:last-child canvas"), b)
    middles = {}
    for method in ("linear", "spherical", "polar"):
        page.select_option("#interp-method", method)
        idle(page)
        middles[method] = pixels(page, "#strip .frame:nth-child(4) canvas")
    assert len({m.tobytes() for m in middles.values()}) == 3  # three different paths
    page.fill("#interp-steps", "5")
    page.dispatch_event("#interp-steps", "input")
    idle(page)
    assert frames.count() == 5
    page.click("#strip .frame:nth-child(3)")
    assert np.array_equal(pixels(page), pixels(page, "#strip .frame:nth-child(3) canvas"))
    assert (
        settings(page)["face"]["seed"] is None and "values" in settings(page)["face"]
    )  # half blonde, half blue


def test_interpolation_methods(page):
    result = page.evaluate("""async () => {
        const m = await import('./noise.js');
        const a = m.noiseFromSeed(1, 128), b = m.noiseFromSeed(2, 128);
        const norm = (v) => Math.hypot(...v);
        const polar = m.interpolateNoise(a, b, 0.5, 'polar');
        const out = {polarError: Math.max(...polar.map((v, i) => Math.abs(v - (a[i] + b[i]) / Math.SQRT2)))};
        for (const method of m.INTERPOLATIONS) {
            const ends = [m.interpolateNoise(a, b, 0, method), m.interpolateNoise(a, b, 1, method)];
            out[method] = {
                ends: Math.max(...ends[0].map((v, i) => Math.abs(v - a[i])), ...ends[1].map((v, i) => Math.abs(v - b[i]))),
                mid: norm(m.interpolateNoise(a, b, 0.5, method)),
            };
        }
        return {out, a: norm(a), b: norm(b), tags: Array.from(m.interpolateTags(new Float32Array([0, 1]), new Float32Array([1, 1]), 0.25))};
    }""")
    out = result["out"]
    assert out.pop("polarError") < 1e-5  # cos(pi/4) a + sin(pi/4) b
    assert all(v["ends"] < 1e-5 for v in out.values())
    mean = (result["a"] + result["b"]) / 2
    assert out["linear"]["mid"] < 0.8 * mean  # the chord's midpoint is short (~1/sqrt(2))
    assert abs(out["spherical"]["mid"] - mean) < 1e-3 * mean  # the arc keeps the length
    assert result["tags"] == [0.25, 1.0]


def test_interpolation_exports_png_gif_and_webp(page, tmp_path):
    two_faces_as_ends(page)
    png = Image.open(download(page, "#strip-png", tmp_path))
    scale = 128 // 16
    assert png.size == (8 * 16 * scale, 16 * scale)
    gif_path = download(page, "#strip-gif", tmp_path)
    webp_path = download(page, "#strip-webp", tmp_path)
    assert re.fullmatch(r"anime-gan_tiny_linear-8_s\d+-s\d+\.gif", gif_path.name)
    assert webp_path.name == gif_path.name.replace(".gif", ".webp")
    for path in (gif_path, webp_path):
        image = Image.open(path)
        assert image.size == (16 * scale, 16 * scale) and image.n_frames == 14  # A -> B -> A
        image.seek(0)
        first = np.asarray(image.convert("RGB"), dtype=float)
        expected = np.asarray(png.convert("RGB"), dtype=float)[:, : 16 * scale]
        assert np.abs(first - expected).mean() < 12  # palette / lossy coding, same picture
    head = webp_path.read_bytes()[:40]
    assert head[:4] == b"RIFF" and head[8:12] == b"WEBP" and b"ANIM" in webp_path.read_bytes()[:64]


def test_interpolation_needs_faces_of_the_model_in_use(page):
    page.select_option("#model-select", "small32")
    page.wait_for_function("animeGan.info.model === 'small32'")
    idle(page)
    page.click("#history .thumb-item:last-child .pick-a")  # the first face, from tiny
    wait_message(page, 'drawn by the model "tiny"')


# ---- expert mode


def test_expert_sliders_map_onto_the_tag_range_with_fix_all_and_reset(page):
    page.click('label[for="tag:smile--on"]')
    idle(page)
    on_image = pixels(page)
    page.check("#expert")
    assert page.locator("#controls input[type=range]").count() == 34
    assert (
        page.eval_on_selector('#controls input[type=range][data-tag="smile"]', "e => e.value")
        == "100"
    )  # on = 100
    set_slider(page, "smile", 40)
    assert settings(page)["controls"]["smile"] == 40
    assert settings(page)["face"]["values"]["smile"] == pytest.approx(0.7)  # -100..100 -> 0..1
    assert not np.array_equal(pixels(page), on_image)
    set_slider(page, "smile", 100)
    assert settings(page)["controls"]["smile"] == "on" and np.array_equal(pixels(page), on_image)
    set_slider(page, "smile", -100)
    assert settings(page)["controls"]["smile"] == "off"
    set_slider(page, "blonde hair", 60)  # moving one colour fixes the whole group
    hair = settings(page)["controls"]["hair_color"]
    assert isinstance(hair, dict) and hair["blonde hair"] == 60 and len(hair) == 13
    before = pixels(page)
    page.click("#fix-all")
    idle(page)
    assert "random" not in settings(page)["controls"].values()
    assert np.array_equal(pixels(page), before)  # fixing keeps the face
    page.click("#reset")
    assert set(settings(page)["controls"].values()) == {"random"} and np.array_equal(
        pixels(page), before
    )


def test_expert_values_round_trip_through_a_link_and_a_file(open_page, tmp_path):
    page = open_page()
    page.check("#expert")
    set_slider(page, "hat", 25)
    set_slider(page, "red eyes", -20)
    link, image, before = page.evaluate("location.hash"), pixels(page), settings(page)
    assert "hat%3A25" in link and "values=" in link
    fresh = open_page(link)
    assert (
        np.array_equal(pixels(fresh), image) and settings(fresh)["controls"] == before["controls"]
    )
    saved = download(page, "#export", tmp_path)
    assert json.loads(saved.read_text()) == before and before["version"] == 2
    other = open_page()
    other.set_input_files("#import", str(saved))
    wait_message(other, "Imported")
    assert np.array_equal(pixels(other), image)


# ---- languages


def test_language_from_the_browser_with_a_switch(open_page):
    page = open_page(locale="ja-JP")
    assert page.evaluate("document.documentElement.lang") == "ja"
    assert page.inner_text("#generate") == "生成" and page.inner_text("#timing").endswith(
        "ms で生成"
    )
    assert "金" in page.inner_text('label[for="hair_color--blonde hair"]')
    assert page.inner_text('.tri[data-tag="smile"] .tag-name') == "笑顔"
    page.select_option("#language", "en")
    page.wait_for_function("document.getElementById('generate').textContent === 'Generate'")
    assert page.inner_text('.tri[data-tag="smile"] .tag-name') == "smile"
    page.reload()
    page.evaluate("animeGan.ready")
    assert page.inner_text("#generate") == "Generate"  # the choice is remembered
    assert open_page("?lang=ja", locale="en-US").inner_text("#generate") == "生成"
    failed = open_page("#seed=x&tags=a", locale="ja-JP")
    assert "共有リンクは読めません" in wait_message(failed, "共有リンク")


def test_every_string_has_a_japanese_translation(page):
    en, ja = page.evaluate("""async () => Promise.all(['en', 'ja'].map(
        (c) => fetch(`locales/${c}.json`).then((r) => r.json())))""")

    def keys(d, prefix=""):
        out = set()
        for k, v in d.items():
            plural = isinstance(v, dict) and set(v) <= {"one", "other"}
            out |= keys(v, f"{prefix}{k}.") if isinstance(v, dict) and not plural else {prefix + k}
        return out

    assert keys(en) <= keys(ja)
    assert set(ja["tags"]) == set(page.evaluate("animeGan.schema.tags"))


# ---- loading


def test_loading_shows_the_download_progress(page):
    progress = page.evaluate("animeGan.info.progress")
    size = page.evaluate("animeGan.info.model_bytes")
    assert progress["loaded"] == size == page.evaluate("animeGan.info.downloaded_bytes")
    assert progress["total"] == size and progress["events"] >= 1
    mb = f"{size / 1e6:.1f}"
    assert page.inner_text("#load-text") == f"{mb} / {mb} MB" and not page.is_visible("#loading")
    assert page.evaluate(
        "[document.getElementById('load-progress').value, document.getElementById('load-progress').max]"
    ) == [size, size]


def test_a_large_download_on_a_metered_connection_asks_first(open_page):
    page = open_page("?model=small32&variant=fp32", wait=False, init_script=CELLULAR)
    page.wait_for_selector("#confirm:not([hidden])")
    text = page.inner_text("#confirm-text")
    assert "mobile connection" in text and "6.0 MB" in text
    assert (
        page.inner_text("#status") == "waiting for your go-ahead"
        and page.evaluate("animeGan.state.face") is None
    )
    assert "int8" in page.inner_text("#confirm-smaller")
    page.click("#confirm-smaller")
    page.evaluate("animeGan.ready")
    idle(page)
    assert page.evaluate("[animeGan.info.variant, animeGan.info.asked]") == ["int8", "cellular"]
    small = open_page(init_script=SAVE_DATA)  # the tiny model: small enough not to ask
    assert small.evaluate("animeGan.info.asked") is None and not small.is_visible("#confirm")
    saver = open_page("?model=small32&variant=fp32", wait=False, init_script=SAVE_DATA)
    saver.wait_for_selector("#confirm:not([hidden])")
    assert "save data" in saver.inner_text("#confirm-text")
    saver.click("#confirm-download")
    saver.evaluate("animeGan.ready")
    assert saver.evaluate("[animeGan.info.variant, animeGan.info.asked]") == ["fp32", "saveData"]


# ---- the bugs found in the first version


def test_bug1_error_banner_goes_after_a_later_success(page):
    page.evaluate("h => { location.hash = h; }", "#seed=1x&tags=blonde+hair,blue+eyes")
    wait_message(page, "could not be read")
    assert banner(page) == "error"
    page.evaluate("h => { location.hash = h; }", "#seed=5&tags=blonde+hair,blue+eyes")
    page.wait_for_function("animeGan.state.face.seed === 5")
    idle(page)
    assert banner(page) is None
    page.set_input_files(
        "#import", files=[{"name": "bad.json", "mimeType": "application/json", "buffer": b"{"}]
    )
    wait_message(page, "was not imported")
    good = json.dumps(settings(page)).encode()
    page.set_input_files(
        "#import", files=[{"name": "good.json", "mimeType": "application/json", "buffer": good}]
    )
    wait_message(page, "Imported")
    assert banner(page) == "info"
    page.click("#generate")
    idle(page)
    assert banner(page) is None


def test_bug2_webgpu_without_a_gpu_reports_the_wasm_backend(open_page):
    page = open_page("?backend=webgpu")
    status = page.inner_text("#status")
    assert status.startswith("WASM · ") and "no WebGPU adapter: running on WASM" in status
    assert page.evaluate("[animeGan.info.backend, animeGan.info.fallback]") == [
        "wasm",
        "unavailable",
    ]


def test_bug3_history_timing_line_reads_well(page):
    page.click("#generate")
    idle(page)
    page.click("#history .thumb-item:nth-child(2) .thumb")
    page.wait_for_function(
        "document.getElementById('timing').textContent.startsWith('from history')"
    )
    assert re.fullmatch(r"from history \(generated in \d+(\.\d)? ms\)", page.inner_text("#timing"))


def test_bug4_all_random_redraws_the_face(page):
    for tag in (
        "long hair",
        "twintails",
        "drill hair",
        "ponytail",
        "blush",
        "smile",
        "open mouth",
        "hat",
        "ribbon",
        "glasses",
    ):
        page.click(f'label[for="tag:{tag}--on"]')
    page.click('label[for="hair_color--gray hair"]')
    idle(page)
    seed, tags, image, count = (
        page.evaluate("animeGan.state.face.seed"),
        face_vector(page),
        pixels(page),
        page.locator("#history .thumb").count(),
    )
    page.click("#all-random")
    idle(page)
    assert set(settings(page)["controls"].values()) == {"random"}
    assert page.evaluate("animeGan.state.face.seed") == seed and face_vector(page) != tags
    assert (
        not np.array_equal(pixels(page), image)
        and page.locator("#history .thumb").count() == count + 1
    )


def test_bug5_a_bad_link_on_a_fresh_page_and_whole_counts(open_page):
    page = open_page("#z=AAAA&tags=blonde+hair,blue+eyes")
    text = wait_message(page, "could not be read")
    assert "A new face is drawn instead" in text and "kept" not in text
    assert "3 bytes long" in text and "0.75" not in text
    assert page.evaluate("animeGan.state.face") is not None
    page.evaluate("h => { location.hash = h; }", "#z=" + "A" * 11 + "&tags=blonde+hair,blue+eyes")
    assert "the noise vector has 2 numbers, the model needs 128" in wait_message(
        page, "could not be read"
    )


def test_bug6_long_and_short_hair_exclude_each_other(page):
    page.click('label[for="tag:long hair--on"]')
    page.click('label[for="tag:short hair--on"]')
    idle(page)
    controls = settings(page)["controls"]
    assert controls["short hair"] == "on" and controls["long hair"] == "off"
    assert page.is_checked(
        'input[id="tag:long hair--off"]'
    ) and "exclude each other" in page.inner_text("#message-text")
    assert "long hair and short hair exclude each other" in page.inner_text(
        'fieldset[data-group="hair_style"] legend'
    )
    both = page.evaluate("""() => {
        const s = animeGan.schema, [l, h] = [s.index.get('long hair'), s.index.get('short hair')];
        let n = 0;
        for (let i = 0; i < 2000; i++) { const c = s.resolve(s.defaultControls(), Math.random); n += c[l] > 0.5 && c[h] > 0.5; }
        const long = {...s.defaultControls(), 'long hair': 'on'};
        for (let i = 0; i < 500; i++) { const c = s.resolve(long, Math.random); n += c[h] > 0.5; }
        return n;
    }""")
    assert both == 0
    page.set_input_files(
        "#import",
        files=[
            {
                "name": "both.json",
                "mimeType": "application/json",
                "buffer": json.dumps(
                    {
                        "format": "anime-gan/settings",
                        "version": 2,
                        "controls": {"long hair": "on", "short hair": "on"},
                    }
                ).encode(),
            }
        ],
    )
    assert "cannot both be on" in wait_message(page, "was not imported")


def test_bug6_downloads_have_unique_descriptive_names(page, tmp_path):
    seeded = download(page, "#download", tmp_path)
    seed = page.evaluate("animeGan.state.face.seed")
    assert re.fullmatch(rf"anime-gan_tiny_s{seed}_[a-z]+-hair_[a-z]+-eyes\.png", seeded.name)
    names = set()
    for _ in range(2):
        page.click("#perturb")
        idle(page)
        names.add(download(page, "#download", tmp_path).name)
    assert len(names) == 2 and all(
        re.fullmatch(r"anime-gan_tiny_z[0-9a-f]{8}_[a-z]+-hair_[a-z]+-eyes\.png", n) for n in names
    )


def test_bug6_an_imported_file_for_another_resolution_is_refused(page):
    before, image = settings(page), pixels(page)
    other = {**before, "model": {"name": "paper", "resolution": 128, "z_dim": 128}}
    page.set_input_files(
        "#import",
        files=[
            {
                "name": "big.json",
                "mimeType": "application/json",
                "buffer": json.dumps(other).encode(),
            }
        ],
    )
    text = wait_message(page, "was not imported")
    assert "made for a 128 px model and the loaded model is 16 px" in text
    assert settings(page) == before and np.array_equal(pixels(page), image)


def test_the_page_at_phone_width(open_page):
    page = open_page(viewport={"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.fill("#count", "4")
    page.dispatch_event("#count", "change")
    page.click("#generate")
    idle(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_the_screenshot_command_shoots_the_docs_pictures(built_page, browser, exports, tmp_path):
    from anime_gan.export.screenshots import shoot

    paths, seeds = shoot(exports / "tiny", tmp_path, count=4, ends=(1, 3), browser=browser)
    assert [p.name for p in paths] == ["web_page.png", "web_expert.png"]
    page, expert = (Image.open(p) for p in paths)
    assert page.width == 1200 and page.height > 1000 and expert.width > 600
    assert (
        len(set(seeds)) == 4
        and shoot(exports / "tiny", tmp_path / "again", count=4, ends=(1, 3), browser=browser)[1]
        == seeds
    )
