"""The pages and pictures of the fake ErogameScape + Getchu (see :mod:`tests.fakes.site`).

Built from the HTML of the real pages and the real URL patterns of Getchu (``brandnew/<id>/
c<id>chara<N>.jpg``): the SQL form's result table and error page, EUC-JP product pages with one
row per character (picture, then ``h2.chara-name``), the age check, a "not found" page, and a
redesigned page the parser does not know.
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass, field
from functools import cache

from PIL import Image, ImageDraw

#: What an image URL does, by FakeImage.mode.
IMAGE_MODES = {
    "ok": "a 250x300 JPEG",
    "placeholder": "Getchu's 1x1 GIF for a missing picture",
    "html": "an HTML error page sent as image/jpeg",
    "truncated": "half the JPEG, with the full Content-Length",
    "oversize": "a body over the size cap, with Content-Length",
    "oversize_unsized": "a body over the size cap, without Content-Length",
    "missing": "404",
    "error_once": "500, then the picture",
    "busy_once": "429 with Retry-After, then the picture",
    "unavailable_once": "503 with Retry-After, then the picture",
    "stall_once": "no answer past the client's timeout, then the picture",
    "stall": "no answer past the client's timeout, every time",
    "error_always": "500 on every try",
    "slow_drip": "the JPEG's Content-Length, then one byte every drip_s",
}
#: What a page does, by FakeGame.mode.
PAGE_MODES = {
    "ok": "the product page",
    "removed": 'a 200 "not found" page',
    "gone": "404",
    "layout": "a redesigned page with pictures the parser does not recognise",
    "age_gate": "the age check whatever the cookie",
    "error_once": "500, then the page",
}


@dataclass
class FakeImage:
    """One character picture; ``seed`` fixes its pixels (equal seeds give equal bytes)."""

    seed: int
    character: str = ""
    mode: str = "ok"
    file: str = ""  # default c<id>chara<N>.jpg


@dataclass
class FakeGame:
    """One game: an ErogameScape row and its Getchu page."""

    getchu_id: int
    egs_id: int
    name: str
    sellday: str
    images: list[FakeImage] = field(default_factory=list)
    mode: str = "ok"

    def files(self) -> list[str]:
        return [im.file or f"c{self.getchu_id}chara{n}.jpg" for n, im in enumerate(self.images, 1)]


@cache
def make_jpeg(seed: int, size: tuple[int, int] = (250, 300)) -> bytes:
    """A small real JPEG whose pixels depend on ``seed`` only."""
    im = Image.new("RGB", size, ((seed * 67) % 256, (seed * 131) % 256, (seed * 29) % 256))
    ImageDraw.Draw(im).ellipse(
        (40, 30, 40 + seed % 150 + 20, 30 + seed % 200 + 20), fill=(250, 220, 200)
    )
    buffer = io.BytesIO()
    im.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


@cache
def placeholder_gif() -> bytes:
    """Getchu's stand-in for a missing picture: a 1x1 GIF."""
    buffer = io.BytesIO()
    Image.new("P", (1, 1), 0).save(buffer, "GIF")
    return buffer.getvalue()


def render_soft_page(game: FakeGame) -> bytes:
    """A Getchu product page in EUC-JP: package art, then one row per character."""
    gid = game.getchu_id
    rows = "".join(
        f'<tr><td valign="middle" align="center"><img src="./brandnew/{gid}/{file}" '
        f'width="250" height="300" alt="キャラ{n}"></td><td valign="top">'
        f'<h2 class="chara-name"><charalist>{html.escape(im.character)}</charalist>'
        f"\u3000CV：声優{n}</h2><dl><dd>紹介文{n}</dd></dl></td></tr>\n"
        for n, (im, file) in enumerate(zip(game.images, game.files(), strict=True), 1)
    )
    return _euc_page(
        f"{html.escape(game.name)} | Getchu.com",
        (
            f'<h1 id="soft-title">{html.escape(game.name)}</h1>'
            f'<img src="./brandnew/{gid}/rc{gid}package.jpg" alt="パッケージ">'
            f'<div class="tabletitle">キャラクター</div><table width="100%">\n{rows}</table>'
        ),
    )


def render_changed_layout(game: FakeGame) -> bytes:
    """The same page after a redesign the parser does not know: pictures under other names."""
    body = "".join(
        f'<div class="chara"><img src="/img/{game.getchu_id}/{n}.webp"></div>'
        for n in range(1, len(game.images) + 1)
    )
    return _euc_page(game.name, f"<h1>{html.escape(game.name)}</h1>{body}")


def render_age_check(page_url: str) -> bytes:
    return _euc_page(
        "Getchu.com：年齢認証",
        (
            "<p>年齢認証</p><p>当ページは18歳未満の方の閲覧を禁止しています。あなたは18歳以上ですか？</p>"
            f'<a href="{html.escape(page_url)}&amp;gc=gc">はい</a>'
        ),
    )


def render_removed() -> bytes:
    return _euc_page("Getchu.com", "<p>お探しの商品は見つかりませんでした。</p>")


def render_sql_result(games: list[FakeGame]) -> bytes:
    """ErogameScape's answer to the paper's query, ordered by sellday."""
    rows = "".join(
        f"<tr><td>{g.egs_id}</td><td>{html.escape(g.name)}</td><td>{g.sellday}</td>"
        f"<td>www.getchu.com/soft.phtml?id={g.getchu_id}</td></tr>\n"
        for g in sorted(games, key=lambda g: g.sellday)
    )
    return _sql_page(
        '<div id="query_result_header"><p>実行時間: 0.12 秒</p></div>'
        '<div id="query_result_main"><table border="1">\n'
        f"<tr><th>id</th><th>gamename</th><th>sellday</th><th>links</th></tr>\n{rows}"
        "</table></div>"
    )


def render_sql_error() -> bytes:
    return _sql_page(
        '<div id="query_result_header"><p>エラー(SQL間違い)</p>'
        '<p>ERROR: syntax error at or near "FORM"</p></div>'
    )


def _euc_page(title: str, body: str) -> bytes:
    return (
        f'<html><head><meta http-equiv="Content-Type" content="text/html; charset=EUC-JP">'
        f'<title>{title}</title></head><body><div id="wrapper">{body}</div></body></html>'
    ).encode("euc_jis_2004")


def _sql_page(result: str) -> bytes:
    return (
        f'<!DOCTYPE html><html><head><meta charset="UTF-8"><title>SQL</title></head><body>'
        f'<form method="post"><textarea name="sql"></textarea></form>{result}</body></html>'
    ).encode()
