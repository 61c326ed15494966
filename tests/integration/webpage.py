"""Reading the page under test (tests/integration/test_web*.py): pixels, settings, messages, files."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def pixels(page, selector: str = "#face") -> np.ndarray:
    """The RGBA pixels of a canvas, [H * W, 4]."""
    data = page.evaluate(
        """s => {
        const c = document.querySelector(s);
        return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data);
    }""",
        selector,
    )
    return np.array(data, dtype=np.uint8).reshape(-1, 4)


def settings(page) -> dict:
    return page.evaluate("animeGan.settings()")


def idle(page) -> None:
    page.evaluate("animeGan.idle()")


def wait_message(page, text: str) -> str:
    page.wait_for_function(
        "t => document.getElementById('message-text').textContent.includes(t)", arg=text
    )
    idle(page)
    return page.inner_text("#message-text")


def banner(page) -> str | None:
    """The banner's kind ("error", "info") when it shows, else None."""
    if not page.is_visible("#message"):
        return None
    return page.get_attribute("#message", "class").replace("message", "").strip()


def download(page, selector: str, folder: Path) -> Path:
    """Click `selector` and save what it downloads into `folder` under its suggested name."""
    with page.expect_download() as info:
        page.click(selector)
    path = folder / info.value.suggested_filename
    info.value.save_as(path)
    return path


def set_slider(page, tag: str, value: int) -> None:
    """Move an expert slider as a visitor would (an input event), then wait for the face."""
    page.evaluate(
        """([tag, v]) => {
        const r = document.querySelector(`#controls input[type=range][data-tag="${tag}"]`);
        r.value = String(v);
        r.dispatchEvent(new Event('input', {bubbles: true}));
    }""",
        [tag, value],
    )
    idle(page)
