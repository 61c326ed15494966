"""The page's screenshots in docs/, shot again from any export in one command.

``python -m anime_gan.export.screenshots --export data/export/demo --out docs/`` serves the built
page with the export, opens it in headless Chromium at 1200 px, and with a seeded random source
(so the same export gives the same pictures) draws a grid of faces, keeps two of them in the
history, interpolates between them, and writes:

- ``web_page.png``: the whole page: the grid, the history and the interpolation strip;
- ``web_expert.png``: the face and the tag sliders of expert mode.

Needs the built page (`make web`), Debian's chromium and the ``playwright`` package.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from anime_gan.errors import UserError
from anime_gan.export.bench_web import served_page

#: Replaces crypto.getRandomValues and Math.random with one seeded stream (mulberry32).
SEEDED = """(() => {
  let a = %d >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  Math.random = next;
  crypto.getRandomValues = (array) => { for (let i = 0; i < array.length; i++) array[i] = Math.floor(next() * 2 ** 32); return array; };
})();"""


def shoot(
    export: Path,
    out: Path,
    seed: int = 1,
    count: int = 8,
    ends: tuple[int, int] = (1, 6),
    method: str = "spherical",
    browser: Any = None,
) -> tuple[list[Path], list[int]]:
    """Write the screenshots of ``export`` (an export folder) into ``out``; returns their paths
    and the seeds of the grid's faces (the same for the same ``seed``). ``browser``: a running
    Playwright browser to use (else one is started)."""
    paths = [out / "web_page.png", out / "web_expert.png"]
    with served_page(export, browser=browser) as (server, url, browser):
        out.mkdir(parents=True, exist_ok=True)
        viewport = {"width": 1200, "height": 900}
        with browser.new_context(viewport=viewport, locale="en-US") as context:
            context.add_init_script(SEEDED % seed)
            page = context.new_page()
            page.goto(f"{url}?model={next(iter(server.exports))}&lang=en")
            page.evaluate("animeGan.ready")
            page.evaluate("animeGan.idle()")
            page.fill("#count", str(count))
            page.dispatch_event("#count", "change")
            page.click("#generate")
            page.evaluate("animeGan.idle()")
            seeds = page.evaluate("animeGan.state.grid.map((f) => f.seed)")
            for k in ends:
                page.click(f"#grid .cell:nth-child({k}) .keep")
            page.click("#history .thumb-item:nth-child(2) .pick-a")  # kept first: the older one
            page.click("#history .thumb-item:nth-child(1) .pick-b")
            page.select_option("#interp-method", method)
            page.evaluate("animeGan.idle()")
            page.click(f"#grid .cell:nth-child({ends[0]}) .open")
            page.evaluate("animeGan.idle()")
            page.mouse.move(0, 0)
            page.screenshot(path=str(paths[0]), full_page=True)
            page.check("#expert")
            page.evaluate("animeGan.idle()")
            page.mouse.move(0, 0)
            page.locator("main").screenshot(path=str(paths[1]))
    return paths, seeds


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--export", type=Path, default=Path("data/export/demo"), help="an export folder"
    )
    parser.add_argument("--out", type=Path, default=Path("docs"))
    parser.add_argument("--seed", type=int, default=1, help="the seeded random source: other faces")
    parser.add_argument("--count", type=int, default=8, help="faces in the grid (2-20)")
    parser.add_argument("--method", default="spherical", choices=["linear", "spherical", "polar"])
    args = parser.parse_args(argv)
    try:
        paths = shoot(args.export, args.out, args.seed, args.count, method=args.method)[0]
    except UserError as e:  # no page built or no export: the sentence, not a traceback
        raise SystemExit(str(e)) from None
    for path in paths:
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
