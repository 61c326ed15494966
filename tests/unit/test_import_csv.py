"""The import's tags CSV never loses data without a word: extra columns, unquoted multi-tag rows
and duplicate rows are warned about (or refused in one sentence); year counts skip bad files."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from anime_gan.data.tags import TAG_INDEX
from anime_gan.errors import UserError
from anime_gan.importer.stage import import_images


def folder(root: Path, csv: str, names: tuple[str, ...] = ("a.png", "b.png")) -> Path:
    root.mkdir()
    for name in names:
        buf = io.BytesIO()
        Image.new("RGB", (16, 16), (200, 30, 30)).save(buf, "PNG")
        (root / name).write_bytes(buf.getvalue())
    (root / "tags.csv").write_text(csv)
    return root


def run(src: Path):
    ds, report = import_images(src, None, 16, progress=False)
    labels = {ds.ids[k]: ds.labels[k] for k in range(len(ds))}
    return labels, report["warnings"]


def test_unquoted_tags_are_all_read_with_a_warning(tmp_path):
    labels, warnings = run(
        folder(tmp_path / "s", "file,tags\na.png,blonde hair\nb.png,BLUE HAIR,Red Eyes\n")
    )
    assert labels["b"][TAG_INDEX["blue hair"]] == 1 and labels["b"][TAG_INDEX["red eyes"]] == 1
    assert warnings == [
        "1 rows of tags CSV " + str(tmp_path / "s") + ":tags.csv have more cells "
        "than the header (e.g. line 3): their extra cells were read as more "
        "tags; quote the tags field to say so."
    ]


def test_extra_columns_are_named(tmp_path):
    _, warnings = run(folder(tmp_path / "s", "file,tags,artist\na.png,smile,someone\n"))
    assert any("has columns that import does not read: artist." in w for w in warnings)


def test_an_overflowing_row_that_cannot_be_read_is_one_sentence(tmp_path):
    with pytest.raises(
        UserError,
        match=r"line 2 of tags CSV .* has 4 cells for 3 columns: quote "
        r"its tags field",
    ):
        run(folder(tmp_path / "s", "file,tags,artist\na.png,blue hair,red eyes,someone\n"))


def test_duplicate_rows_are_merged_with_a_warning(tmp_path):
    labels, warnings = run(folder(tmp_path / "s", "file,tags\na.png,smile\na.png,blue hair\n"))
    assert labels["a"][TAG_INDEX["smile"]] == 1 and labels["a"][TAG_INDEX["blue hair"]] == 1
    assert any(
        "1 CSV rows name an image that an earlier row already named (e.g. a.png): their "
        "tags were merged" in w
        for w in warnings
    )


def test_year_counts_are_of_the_imported_images(tmp_path):
    src = folder(tmp_path / "s", "file,tags\n", ("a_2004.png", "b_2008.png", "c.png"))
    (src / "d_2010.png").write_bytes(b"not an image")
    ds, report = import_images(src, None, 16, progress=False)
    assert len(ds) == 3 and report["skipped"] == {"not_an_image": 1}
    assert (report["years"]["with_year"], report["years"]["without_year"]) == (2, 1)
