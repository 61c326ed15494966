import json

import numpy as np
import pytest
from PIL import Image

from anime_gan.errors import UserError
from anime_gan.faces.review import (
    INDEX_FILE,
    REJECTS_FILE,
    extend_index,
    load_index,
    read_rejects,
    write_review,
)
from tests.unit.faces_fixture import make_faces


def test_sheets_are_numbered_and_indexed(tmp_path):
    rows = make_faces(tmp_path / "faces", [2008] * 25)
    result = write_review(tmp_path / "faces", tmp_path / "review", per_sheet=10, ncol=5, cell=32)
    assert [p.name for p in result.sheets] == ["sheet_000.png", "sheet_001.png", "sheet_002.png"]
    assert result.crops == 25 and result.rejected == 0 and result.rejected_sheets == []
    index = load_index(tmp_path / "review" / INDEX_FILE)
    assert index == {i: r["id"] for i, r in enumerate(rows)}
    lines = (tmp_path / "review" / INDEX_FILE).read_text().splitlines()
    assert lines[0] == "number\tid\tsheet" and lines[13] == "12\tsrc012_0\t1"
    with Image.open(result.sheets[0]) as im:
        assert im.size[0] > 5 * 32 and im.size[1] > 2 * 32
    assert (tmp_path / "review" / REJECTS_FILE).read_text().startswith("#")


def test_numbers_are_stable_when_crops_come_and_go(tmp_path):
    make_faces(tmp_path / "faces", [2008] * 5)
    write_review(tmp_path / "faces", tmp_path / "review", per_sheet=4)
    # detect found more crops (and one old crop is gone): old numbers keep their crops
    rows = make_faces(tmp_path / "faces", [2008] * 7)
    done = (tmp_path / "faces" / "done.jsonl").read_text().splitlines()
    (tmp_path / "faces" / "done.jsonl").write_text(
        "\n".join(done[:1] + done[2:]) + "\n"
    )  # drop src001
    result = write_review(tmp_path / "faces", tmp_path / "review", per_sheet=4)
    index = load_index(tmp_path / "review" / INDEX_FILE)
    assert index[0] == rows[0]["id"] and index[1] == rows[1]["id"] and index[6] == rows[6]["id"]
    assert result.crops == 6  # src001 is numbered but no longer shown
    assert extend_index({0: "a", 5: "b"}, ["b", "c", "a", "d"]) == {0: "a", 5: "b", 6: "c", 7: "d"}


def test_reject_list_syntax(tmp_path):
    index = {i: f"img{i}_0" for i in range(10)}
    path = tmp_path / "rejects.txt"
    path.write_text("# header\n3\n5-7   # a range\n\nimg9_0, 2 # two on a line\nnot_a_crop\n42\n")
    rejects = read_rejects(path, index)
    assert rejects.ids == {"img3_0", "img5_0", "img6_0", "img7_0", "img9_0", "img2_0"}
    assert rejects.unknown == ["not_a_crop", "42"]
    assert read_rejects(tmp_path / "absent.txt", index).ids == set()
    with pytest.raises(UserError, match="review"):
        read_rejects(path, {}, ids={"img9_0"})  # numbers without an index


def test_rejects_are_marked_and_shown_apart_and_never_overwritten(tmp_path):
    make_faces(tmp_path / "faces", [2008] * 12)
    review = tmp_path / "review"
    write_review(tmp_path / "faces", review, per_sheet=10, cell=32)
    before = Image.open(review / "sheets" / "sheet_000.png").convert("RGB")
    (review / REJECTS_FILE).write_text("1\nsrc011_0\n")
    result = write_review(tmp_path / "faces", review, per_sheet=10, cell=32)
    assert result.rejected == 2 and (review / REJECTS_FILE).read_text() == "1\nsrc011_0\n"
    assert [p.name for p in result.rejected_sheets] == ["rejected_000.png"]
    after = np.asarray(Image.open(review / "sheets" / "sheet_000.png").convert("RGB")).astype(int)
    was_red, now_red = (_red(np.asarray(before).astype(int)), _red(after))
    xs = np.nonzero(now_red & ~was_red)[1]
    assert len(xs) > 20 and xs.min() >= 4 + 72 and xs.max() < 4 + 2 * 72  # a cross on tile #1 only
    (review / REJECTS_FILE).write_text("")
    result = write_review(tmp_path / "faces", review, per_sheet=10, cell=32)
    assert result.rejected_sheets == [] and not (review / "sheets" / "rejected_000.png").exists()
    state = json.loads((review / "sheets" / ".state.json").read_text())
    assert set(state) == {"sheet_000.png", "sheet_001.png"}


def _red(rgb: np.ndarray) -> np.ndarray:
    return (rgb[..., 0] > 150) & (rgb[..., 1] < 100) & (rgb[..., 2] < 100)


def test_review_without_detect_output_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="make detect"):
        write_review(tmp_path / "nothing", tmp_path / "review")
