"""The crawl folder after kills: torn lines, orphan files, leftovers, the folder lock."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from anime_gan.crawl.download import inspect_image
from anime_gan.crawl.erogamescape import Game
from anime_gan.crawl.manifest import read_jsonl, read_manifest
from anime_gan.crawl.pipeline import CrawlStore, select_games
from anime_gan.errors import UserError
from anime_gan.jsonl import repair_tail
from tests.fakes.pages import make_jpeg


def _meta(n: int, game_id: int = 7) -> dict:
    return {
        "url": f"http://x/brandnew/{game_id}/c{game_id}chara{n}.jpg",
        "game_id": game_id,
        "page_url": f"http://x/soft.phtml?id={game_id}",
        "release_date": "2005-01-01",
        "year": 2005,
    }


def _add(store: CrawlStore, n: int, seed: int | None = None) -> tuple[str, dict]:
    body = make_jpeg(n if seed is None else seed)
    return store.add_image(body, inspect_image(body, "image/jpeg", "u"), _meta(n))


def test_reader_skips_a_torn_last_line_only(tmp_path: Path) -> None:
    path = tmp_path / "manifest.jsonl"
    path.write_text('{"url": "a"}\n{"url": "b"}\n{"url": "c", "pa')
    assert [r["url"] for r in read_manifest(tmp_path)] == ["a", "b"]
    path.write_text('{"url": "a"}\n{"url": \n{"url": "c"}\n')
    with pytest.raises(UserError, match="line 2 of .* is not valid JSON"):
        read_jsonl(path)
    with pytest.raises(UserError, match="no crawl manifest .* run `make crawl` first"):
        read_manifest(tmp_path / "nothing")


def test_appends_follow_a_repaired_tail(tmp_path: Path) -> None:
    torn, whole = tmp_path / "pages.jsonl", tmp_path / "failures.jsonl"
    torn.write_text('{"n": 1}\n{"n": 2, "x"')
    whole.write_text('{"n": 1}\n{"n": 2}')
    (tmp_path / "manifest.jsonl").touch()
    assert repair_tail(tmp_path / "manifest.jsonl") is False  # empty: nothing to repair
    with CrawlStore(tmp_path) as store:
        store.append("pages.jsonl", {"n": 3})
        store.append("failures.jsonl", {"n": 3})
    assert [r["n"] for r in read_jsonl(torn)] == [1, 3]
    assert [r["n"] for r in read_jsonl(whole)] == [1, 2, 3]
    assert not repair_tail(torn) and not repair_tail(whole)


def test_images_are_saved_once_and_recorded(tmp_path: Path) -> None:
    with CrawlStore(tmp_path) as store:
        outcome, record = _add(store, 1)
        assert outcome == "saved" and record["path"] == "images/7/c7chara1.jpg"
        assert _add(store, 2, seed=1) == (
            "duplicate",
            {
                "url": _meta(2)["url"],
                "cause": "duplicate",
                "duplicate_of": "images/7/c7chara1.jpg",
                "sha256": record["sha256"],
                "game_id": 7,
            },
        )
    (row,) = read_manifest(tmp_path)
    assert [r["cause"] for r in read_jsonl(tmp_path / "skipped.jsonl")] == ["duplicate"]
    data = (tmp_path / row["path"]).read_bytes()
    assert row["sha256"] == hashlib.sha256(data).hexdigest() and row["bytes"] == len(data)
    assert (row["width"], row["height"], row["year"], row["game_id"]) == (250, 300, 2005, 7)
    assert sorted(p.name for p in (tmp_path / "images" / "7").iterdir()) == ["c7chara1.jpg"]


def test_open_reconciles_files_and_manifest(tmp_path: Path) -> None:
    with CrawlStore(tmp_path) as store:
        for n in (1, 2, 3):
            _add(store, n)
    images = tmp_path / "images" / "7"
    (images / "c7chara3.jpg").unlink()  # a record whose file is gone
    (images / "c7chara4.jpg").write_bytes(make_jpeg(4))  # renamed, then killed before the record
    (images / "c7chara5.jpg.part").write_bytes(b"\xff\xd8")  # killed while writing
    with open(tmp_path / "manifest.jsonl", "a") as f:
        f.write('{"url": "http://x/torn", "pa')  # killed while appending
    with CrawlStore(tmp_path) as store:
        assert store.cleaned == {"dropped_records": 1, "orphan_files": 1, "partial_files": 1}
        assert set(store.records) == {_meta(1)["url"], _meta(2)["url"]}
        _add(store, 3)
    urls = [r["url"] for r in read_manifest(tmp_path)]
    assert urls == [_meta(n)["url"] for n in (1, 2, 3)]
    assert sorted(p.name for p in images.iterdir()) == [
        "c7chara1.jpg",
        "c7chara2.jpg",
        "c7chara3.jpg",
    ]
    assert (tmp_path / "manifest.jsonl").read_bytes().endswith(b"}\n")


def test_skips_are_recorded_once_and_remembered(tmp_path: Path) -> None:
    with CrawlStore(tmp_path) as store:
        store.skip("http://x/1.jpg", "placeholder")
        store.skip("http://x/1.jpg", "placeholder")
    with CrawlStore(tmp_path) as store:
        assert store.skipped_urls == {"http://x/1.jpg"}
    assert len((tmp_path / "skipped.jsonl").read_text().splitlines()) == 1


def test_a_second_crawl_on_the_same_folder_is_refused(tmp_path: Path) -> None:
    with CrawlStore(tmp_path):
        with pytest.raises(UserError, match="another crawl is writing to .* another out= folder"):
            CrawlStore(tmp_path).open()
    CrawlStore(tmp_path).open().close()  # free again afterwards


def test_same_file_name_from_two_urls_gets_a_suffix(tmp_path: Path) -> None:
    with CrawlStore(tmp_path) as store:
        body_a, body_b = make_jpeg(1), make_jpeg(2)
        meta_b = {**_meta(1), "url": "http://x/other/c7chara1.jpg"}
        _, a = store.add_image(body_a, inspect_image(body_a, "", "u"), _meta(1))
        _, b = store.add_image(body_b, inspect_image(body_b, "", "u"), meta_b)
    assert a["path"] == "images/7/c7chara1.jpg"
    assert b["path"] == f"images/7/c7chara1-{b['sha256'][:8]}.jpg"
    assert (
        json.loads((tmp_path / "manifest.jsonl").read_text().splitlines()[1])["path"] == b["path"]
    )


def test_year_range_and_max_games() -> None:
    games = [
        Game(i, i, "", None if y is None else f"{y}-01-01", y, "")
        for i, y in enumerate([2003, 2005, None, 2008, 2010, 2012])
    ]
    assert [g.year for g in select_games(games, None, 2005, 2010)] == [2005, 2008, 2010]
    assert [g.year for g in select_games(games, 2, 2006, None)] == [2008, 2010]
    assert [g.game_id for g in select_games(games, 3, None, None)] == [
        0,
        1,
        2,
    ]  # unknown years kept
