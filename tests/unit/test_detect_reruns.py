"""Reruns of detect: a torn last line is repaired, changed settings are refused, a repaired file
is retried, and out= may not be the input (nothing already made is lost in any case)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PIL import Image

from anime_gan.errors import UserError
from anime_gan.faces.cascade import locate_cascade
from anime_gan.faces.detect import DetectParams, run_detect
from anime_gan.faces.records import read_done, read_faces


@pytest.fixture
def cascade(shared_dir: Path) -> Path:
    return locate_cascade(shared_dir / "assets" / "lbpcascade_animeface.xml")


@pytest.fixture
def source(tmp_path: Path, shared_dir: Path) -> Path:
    """Three images with one face each, a blank one and a broken file."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("a", "b", "c"):
        shutil.copy(shared_dir / "assets" / "shiroha.jpg", src / f"{name}.jpg")
    Image.new("RGB", (80, 60), "white").save(src / "d_blank.png")
    (src / "e_broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    return src


def detect(src: Path, out: Path, cascade: Path, **kw) -> object:
    return run_detect(
        src, out, cascade, kw.pop("params", DetectParams()), workers=1, progress=False, **kw
    )


def lines_parse(path: Path) -> bool:
    return all(json.loads(line) is not None for line in path.read_text().splitlines())


def test_a_torn_last_line_is_cut_before_the_next_row(tmp_path, source, cascade):
    out = tmp_path / "faces"
    detect(source, out, cascade, limit=1)
    for name in ("faces.jsonl", "done.jsonl"):  # a kill in the middle of writing a row
        with open(out / name, "ab") as f:
            f.write('{"id": "b_0", "source_path": "é'.encode()[:-1])  # inside a UTF-8 character
    assert [r["id"] for r in read_faces(out)] == ["a_0"]  # the torn rows are skipped
    detect(source, out, cascade)
    assert lines_parse(out / "faces.jsonl") and lines_parse(out / "done.jsonl")
    assert [r["id"] for r in read_faces(out)] == ["a_0", "b_0", "c_0"]  # no face lost
    assert len(read_done(out)) == 5


def test_a_rerun_with_other_settings_is_refused(tmp_path, source, cascade):
    out = tmp_path / "faces"
    detect(source, out, cascade, limit=2)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    with pytest.raises(
        UserError,
        match=r"made with detector\.zoom=1\.5, not 1\.0: rerun with "
        r"detector\.zoom=1\.5 to resume, or choose a new out=",
    ):
        detect(source, out, cascade, params=DetectParams(zoom=1.0))
    with pytest.raises(UserError, match="holds the faces of input="):
        detect(source.rename(tmp_path / "moved"), out, cascade)
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    summary = json.loads((out / "detect.json").read_text())
    assert summary["params"]["zoom"] == 1.5 and summary["stage"] == "detect"


def test_an_unreadable_file_is_retried_once_it_changed(tmp_path, source, cascade):
    out = tmp_path / "faces"
    first = detect(source, out, cascade)
    assert first.unreadable == ["e_broken.png"]
    assert detect(source, out, cascade).processed == 0  # unchanged: not retried
    shutil.copy(source / "a.jpg", source / "e_broken.png")  # the user repaired it
    again = detect(source, out, cascade)
    assert again.processed == 1 and not again.unreadable
    assert read_done(out)["e_broken.png"]["status"] == "ok"
    assert [r["id"] for r in read_faces(out)] == ["a_0", "b_0", "c_0", "e_broken_0"]


def test_out_may_not_be_the_input(tmp_path, source, cascade):
    before = sorted(p.name for p in source.iterdir())
    with pytest.raises(UserError, match="is the folder given as input="):
        detect(source, source, cascade)
    with pytest.raises(UserError, match="contains input="):
        detect(source, tmp_path, cascade)
    assert sorted(p.name for p in source.iterdir()) == before  # no crops/ or faces.jsonl added
