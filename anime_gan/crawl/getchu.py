"""Getchu ``soft.phtml?id=N`` pages: fetch with the age-check cookie, find characters and names.

Facts (paper Appendix 8.1, and the site as crawled): pages are EUC-JP; without the cookie
``getchu_adalt_flag=getchu.com`` (or ``&gc=gc`` on the URL) an age-check page comes instead;
character images are
``<img src="./brandnew/<id>/c<id>chara<N>.jpg" alt="...キャラ...">`` with names in
``h2.chara-name``. A page may be gone (404, or a "not found" page) or laid out differently;
each such page is reported with a status, never fatal.
"""

from __future__ import annotations

import posixpath
import re
import urllib.parse
from dataclasses import asdict, dataclass
from html.parser import HTMLParser
from typing import Any

from anime_gan.crawl.client import FetchError, PoliteClient
from anime_gan.crawl.erogamescape import Game

AGE_GATE_MARKS = ("年齢認証", "18歳未満", "18歳以上")
REMOVED_MARKS = ("見つかりません", "存在しません", "お探しの商品", "取り扱いを終了", "販売を終了")
_CHARA_FILE = re.compile(r"chara\d+\.(?:jpe?g|png|gif|webp)$", re.I)
_CV = re.compile(r"\s*(?:CV|ＣＶ)\s*[:：].*$", re.S)
#: Page statuses. A rerun fetches again every page whose status is not final.
FINAL_PAGE_STATUSES = frozenset({"ok", "removed", "no_images"})


@dataclass
class GetchuSettings:
    """``getchu.*`` in conf/crawl.yaml."""

    base_url: str = "http://www.getchu.com"
    cookie: str = "getchu_adalt_flag=getchu.com"  # empty: rely on &gc=gc alone
    max_page_bytes: int = 5_000_000


@dataclass
class CharacterImage:
    """A character picture found on a page, with the character's name when the page gives it."""

    url: str
    character: str | None = None


class SoftPageParser(HTMLParser):
    """Character ``<img>`` tags and ``h2.chara-name`` headings, paired in document order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.images: list[CharacterImage] = []
        self.text: list[str] = []
        self._pending_names: list[str] = []
        self._name: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "img" and is_character_image(a.get("src", ""), a.get("alt", "")):
            self.images.append(CharacterImage(a["src"].strip()))
            if self._pending_names:  # a layout with the name before the picture
                self.images[-1].character = self._pending_names.pop(0)
        elif tag == "h2" and "chara-name" in a.get("class", "").split():
            self._name = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "h2" and self._name is not None:
            name = clean_name("".join(self._name))
            self._name = None
            unnamed = [im for im in self.images if im.character is None]
            if name and unnamed:  # the usual layout: the picture, then the name beside it
                unnamed[0].character = name
            elif name:
                self._pending_names.append(name)

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._name is not None:
            self._name.append(data)


def is_character_image(src: str, alt: str) -> bool:
    """True for Getchu's ``c<id>chara<N>.jpg`` files, or any picture whose alt says キャラ."""
    name = posixpath.basename(urllib.parse.urlsplit(src.strip()).path)
    return bool(src.strip()) and (bool(_CHARA_FILE.search(name)) or "キャラ" in alt)


def clean_name(text: str) -> str:
    """The heading's text without the voice actor ("CV：...") and with single spaces."""
    return " ".join(_CV.sub("", text.replace("\u3000", " ")).split())


def parse_soft_page(html: str, page_url: str) -> tuple[str, list[CharacterImage]]:
    """(status, images) of one page; image URLs made absolute against ``page_url``."""
    parser = SoftPageParser()
    parser.feed(html)
    parser.close()
    images: dict[str, str | None] = {}  # url -> name: the first of a repeated picture wins
    for image in parser.images:
        images.setdefault(urllib.parse.urljoin(page_url, image.url), image.character)
    if images:
        return "ok", [CharacterImage(url, name) for url, name in images.items()]
    text = "".join(parser.text)
    if any(mark in text for mark in AGE_GATE_MARKS) or "attestation" in page_url:
        return "age_gate", []
    if any(mark in text for mark in REMOVED_MARKS):
        return "removed", []
    return "no_images", []


def with_gc(url: str) -> str:
    """The page URL with ``gc=gc``, Getchu's other way past the age check."""
    return url if re.search(r"[?&]gc=gc\b", url) else f"{url}{'&' if '?' in url else '?'}gc=gc"


def fetch_page(client: PoliteClient, game: Game, settings: GetchuSettings) -> dict[str, Any]:
    """Fetch and read one game's page, the cookie first, then ``&gc=gc`` if the age check shows:
    its record in pages.jsonl, with status ok / age_gate / removed / no_images / failed, the
    images, and the cause of a failure (timeout, http_500, ...)."""

    def result(
        status: str, images: list[CharacterImage] | None = None, cause: str | None = None
    ) -> dict[str, Any]:
        return {
            "game_id": game.game_id,
            "page_url": game.page_url,
            "status": status,
            "images": [asdict(image) for image in images or []],
            "cause": cause,
        }

    headers = {"Cookie": settings.cookie} if settings.cookie else {}
    for url in (game.page_url, with_gc(game.page_url)):
        try:
            response = client.get(url, headers=headers, max_bytes=settings.max_page_bytes)
        except FetchError as e:
            return result("failed", cause=e.cause)
        if response.status != 200:
            gone = response.status in (404, 410)
            return result("removed" if gone else "failed", cause=f"http_{response.status}")
        status, images = parse_soft_page(response.text("euc_jp"), response.url)
        if status != "age_gate":
            return result(status, images)
    return result("age_gate", cause="age_gate")
