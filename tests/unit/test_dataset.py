import json
import zipfile

import numpy as np
import pytest

from anime_gan.data.dataset import FaceDataset, check_resolution, load_dataset, save_dataset
from anime_gan.data.summary import format_summary, summarize
from anime_gan.data.tags import NUM_TAGS, to_multi_hot
from anime_gan.errors import UserError


def make_dataset(n: int = 6, res: int = 16) -> FaceDataset:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, res, res, 3), dtype=np.uint8)
    labels = np.stack([to_multi_hot(["blue hair", "red eyes"]) for _ in range(n)])
    known = np.ones((n, NUM_TAGS), np.uint8)
    known[0] = 0
    meta = [
        {"id": f"img{i}", "source": "test:x", "year": 2006 + i % 2, "width": 40, "height": 50}
        for i in range(n)
    ]
    return FaceDataset(images, labels, known, meta, {"source": "test"})


@pytest.mark.parametrize("name", ["ds", "ds.zip"])
def test_roundtrip(tmp_path, name):
    ds = make_dataset()
    save_dataset(ds, tmp_path / name, note="hello")
    back = load_dataset(tmp_path / name)
    np.testing.assert_array_equal(back.images, ds.images)
    np.testing.assert_array_equal(back.labels, ds.labels)
    np.testing.assert_array_equal(back.known, ds.known)
    assert back.metadata == ds.metadata
    assert (
        back.info["note"] == "hello" and back.info["resolution"] == 16 and back.info["count"] == 6
    )
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp leftovers


def test_overwrite_is_atomic_on_failure(tmp_path, monkeypatch):
    save_dataset(make_dataset(4), tmp_path / "ds")

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "save", boom)
    with pytest.raises(KeyboardInterrupt):
        save_dataset(make_dataset(6), tmp_path / "ds")
    monkeypatch.undo()
    assert len(load_dataset(tmp_path / "ds")) == 4  # old dataset intact
    assert [p.name for p in tmp_path.iterdir()] == ["ds"]


def test_missing_and_foreign_paths_give_clear_errors(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        load_dataset(tmp_path / "nope")
    (tmp_path / "junk").mkdir()
    with pytest.raises(UserError, match="not a readable anime-gan dataset"):
        load_dataset(tmp_path / "junk")
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip")
    with pytest.raises(UserError, match="not a readable"):
        load_dataset(bad)
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as zf:
        for n in ("images", "labels", "known"):
            zf.writestr(f"{n}.npy", b"")
        zf.writestr("dataset.json", json.dumps({"format": "x"}))
        zf.writestr("metadata.jsonl", "")
    with pytest.raises(UserError):
        load_dataset(tmp_path / "other.zip")


def test_inconsistent_arrays_rejected():
    ds = make_dataset()
    with pytest.raises(ValueError):
        FaceDataset(ds.images, ds.labels[:3], ds.known, ds.metadata)
    with pytest.raises(ValueError):
        FaceDataset(ds.images[:, :8], ds.labels, ds.known, ds.metadata)


def test_wrong_resolution_message():
    with pytest.raises(UserError, match="16x16.*expects 64x64"):
        check_resolution(make_dataset(), 64, "data/x")


def test_summary_counts():
    s = summarize(make_dataset())
    assert s["count"] == 6 and s["resolution"] == 16
    assert s["tags"]["blue hair"] == {"positive": 6, "known": 5}
    assert s["unlabelled"] == 1 and s["fully_known"] == 5
    assert s["years"] == {"2006": 3, "2007": 3}
    text = format_summary(s)
    assert "blue hair" in text and "images: 6" in text
