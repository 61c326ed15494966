"""ErogameScape result pages, Getchu pages and image checks: pure functions, no server."""

from __future__ import annotations

import ast
import csv
import io
import re
from email.message import Message

import pytest
from PIL import Image

from anime_gan.crawl.client import Response
from anime_gan.crawl.download import FINAL_IMAGE_CAUSES, ImageRejected, inspect_image, sniff
from anime_gan.crawl.erogamescape import games_from_rows, parse_release_date, parse_result_page
from anime_gan.crawl.getchu import clean_name, is_character_image, parse_soft_page, with_gc
from anime_gan.errors import UserError
from tests.fakes.pages import (
    FakeGame,
    FakeImage,
    make_jpeg,
    placeholder_gif,
    render_age_check,
    render_changed_layout,
    render_removed,
    render_soft_page,
    render_sql_error,
    render_sql_result,
)

BASE = "http://www.getchu.com"


def _response(body: bytes, content_type: str = "text/html") -> Response:
    headers = Message()
    headers["Content-Type"] = content_type
    return Response(BASE + "/soft.phtml?id=1", 200, headers, body)


def test_result_table_becomes_games_in_order() -> None:
    games = [
        FakeGame(1294, 12, "二本目 & <more>", "2006-07-14"),
        FakeGame(1291, 11, "一本目", "2005-03-25"),
        FakeGame(9, 13, "未定", "2030-01-01"),
        FakeGame(1291, 14, "再販", "2011-01-01"),
    ]
    rows = parse_result_page(render_sql_result(games).decode("utf-8"))
    assert rows[0] == {
        "id": "11",
        "gamename": "一本目",
        "sellday": "2005-03-25",
        "links": "www.getchu.com/soft.phtml?id=1291",
    }
    parsed = games_from_rows(rows, BASE + "/")
    # ordered by sellday; the re-release of page 1291 is dropped; 2030 means "not decided"
    assert [(g.game_id, g.egs_id, g.year) for g in parsed] == [
        (1291, 11, 2005),
        (1294, 12, 2006),
        (9, 13, None),
    ]
    assert parsed[1].name == "二本目 & <more>" and parsed[1].release_date == "2006-07-14"
    assert parsed[0].page_url == "http://www.getchu.com/soft.phtml?id=1291"
    assert parsed[2].release_date is None


def test_sql_error_page_is_a_user_error_naming_the_fix() -> None:
    with pytest.raises(UserError, match=r"rejected the SQL query .*erogamescape\.sql") as info:
        parse_result_page(render_sql_error().decode("utf-8"))
    assert "\n" not in str(info.value) and 'near "FORM"' in str(info.value)


def test_page_without_result_table_is_reported() -> None:
    with pytest.raises(UserError, match="no div#query_result_main"):
        parse_result_page("<html><body><p>maintenance</p></body></html>")


def test_rows_without_link_column_are_a_user_error_and_bad_links_are_skipped() -> None:
    with pytest.raises(UserError, match="no Getchu link column"):
        games_from_rows([{"id": "1", "gamename": "x"}], BASE)
    rows = [{"id": "1", "links": "www.getchu.com/soft.phtml?id="}, {"id": "2", "comike": "77"}]
    assert [g.game_id for g in games_from_rows(rows, BASE)] == [77]


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2005-03-25", ("2005-03-25", 2005)),
        ("2017-12-01 00:00:00", ("2017-12-01", 2017)),
        ("2030-01-01", (None, None)),
        ("", (None, None)),
        (None, (None, None)),
        ("近日", (None, None)),
    ],
)
def test_release_dates(value: str | None, expected: tuple) -> None:
    assert parse_release_date(value) == expected


def _game() -> FakeGame:
    return FakeGame(
        1291,
        1,
        "テスト",
        "2005-01-01",
        [FakeImage(1, "春日野 穹（かすがの そら）"), FakeImage(2, "①番目の子"), FakeImage(3, "")],
    )


def test_soft_page_in_euc_jp_gives_absolute_urls_and_names() -> None:
    page = _response(render_soft_page(_game()), "text/html").text(
        "euc_jp"
    )  # NEC ① needs the fallback
    status, images = parse_soft_page(page, BASE + "/soft.phtml?id=1291")
    assert status == "ok"
    assert [im.url for im in images] == [
        f"{BASE}/brandnew/1291/c1291chara{n}.jpg" for n in (1, 2, 3)
    ]
    assert [im.character for im in images] == [
        "春日野 穹（かすがの そら）",
        "①番目の子",
        None,
    ]  # no package art


def test_names_before_pictures_and_repeated_urls() -> None:
    page = (
        '<h2 class="chara-name">先の名前 CV:誰か</h2><img src="brandnew/5/c5chara1.jpg">'
        '<img src="brandnew/5/c5chara1.jpg"><img src="/x/y.jpg" alt="キャラクター2">'
        '<img src="/banner.gif" alt="バナー">'
    )
    status, images = parse_soft_page(page, BASE + "/soft.phtml?id=5")
    assert status == "ok"
    assert [(im.url, im.character) for im in images] == [
        (f"{BASE}/brandnew/5/c5chara1.jpg", "先の名前"),
        (f"{BASE}/x/y.jpg", None),
    ]


@pytest.mark.parametrize(
    "html, status",
    [
        (render_age_check("/soft.phtml?id=1"), "age_gate"),
        (render_removed(), "removed"),
        (render_changed_layout(FakeGame(1, 1, "x", "2001-01-01", [FakeImage(1)])), "no_images"),
    ],
)
def test_pages_without_pictures_are_classified(html: bytes, status: str) -> None:
    assert parse_soft_page(_response(html).text("euc_jp"), BASE + "/soft.phtml?id=1") == (
        status,
        [],
    )


def test_sample_urls_are_all_found(shared_dir) -> None:  # noqa: ANN001
    """Pages rebuilt from the 497 real Getchu pages give back exactly their character images."""
    rows = list(
        csv.DictReader(open(shared_dir / "assets" / "getchu_urls_sample.csv", encoding="utf-8"))
    )
    total = 0
    for row in rows:
        game_id = int(re.search(r"id=(\d+)", row["url"]).group(1))
        expected = [u for u in ast.literal_eval(row["img_urls"]) if "chara" in u.rsplit("/", 1)[1]]
        files = [u.rsplit("/", 1)[1] for u in expected]
        game = FakeGame(
            game_id, 0, "x", "2001-01-01", [FakeImage(i, file=f) for i, f in enumerate(files)]
        )
        status, images = parse_soft_page(render_soft_page(game).decode("euc_jis_2004"), row["url"])
        assert [im.url for im in images] == expected, row["url"]
        assert status == ("ok" if expected else "no_images")  # one page shows only package art
        total += len(images)
    assert (len(rows), total) == (497, 2663)


def test_decoding_prefers_header_then_meta_then_default() -> None:
    text = "キャラ紹介"
    assert _response(f'<meta charset="utf-8">{text}'.encode()).text("euc_jp").endswith(text)
    assert _response(text.encode("euc_jp"), "text/html; charset=EUC-JP").text("utf-8") == text
    assert _response(text.encode("euc_jp")).text("euc_jp") == text
    assert "\ufffd" in _response(b"\xff\xfe broken").text("euc_jp")


def test_helpers() -> None:
    assert with_gc(BASE + "/soft.phtml?id=3") == BASE + "/soft.phtml?id=3&gc=gc"
    assert with_gc(BASE + "/soft.phtml?id=3&gc=gc") == BASE + "/soft.phtml?id=3&gc=gc"
    assert clean_name(" 朝倉\u3000音夢 ＣＶ：たかはし ") == "朝倉 音夢"
    assert is_character_image("./brandnew/1/c1chara12.jpg", "") and not is_character_image(
        "rc1package.jpg", ""
    )


def _png(size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (1, 2, 3)).save(buffer, "PNG")
    return buffer.getvalue()


def test_image_checks() -> None:
    jpeg = make_jpeg(3)
    info = inspect_image(jpeg, "image/jpeg", "u")
    assert (info.format, info.ext, info.width, info.height) == ("jpeg", ".jpg", 250, 300)
    assert inspect_image(_png((20, 30)), "", "u").ext == ".png"  # no Content-Type: the bytes decide
    cases = {
        "not_image": [(jpeg, "text/html"), (b"<html>denied</html>", "image/jpeg")],
        "truncated": [(jpeg[: len(jpeg) // 2], "image/jpeg")],
        "placeholder": [(placeholder_gif(), "image/gif"), (_png((1, 1)), "image/png")],
        "bad_image": [(b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "image/png")],
    }
    for cause, bodies in cases.items():
        for body, ctype in bodies:
            with pytest.raises(ImageRejected) as info_:
                inspect_image(body, ctype, "u")
            assert info_.value.cause == cause, (cause, ctype)
    assert "placeholder" in FINAL_IMAGE_CAUSES and "truncated" not in FINAL_IMAGE_CAUSES
    assert sniff(b"RIFF\0\0\0\0WEBPVP8 ") == ("webp", ".webp") and sniff(b"GIF89a") == (
        "gif",
        ".gif",
    )
