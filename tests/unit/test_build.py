import json

import numpy as np
import pytest
from PIL import Image

from anime_gan.data.dataset import load_dataset
from anime_gan.errors import UserError
from anime_gan.faces.review import write_review
from anime_gan.reports.dataset import edge_histogram
from anime_gan.trainset.dedupe import dhash, find_duplicates, pixel_sha256
from anime_gan.trainset.stage import BuildParams, build_dataset, load_tags, tsne_2d
from tests.unit.faces_fixture import crop_pixels, make_faces, write_tags

YEARS = [2004, 2005, 2006, 2006, 2007, 2010, None, 2012]


@pytest.fixture
def faces(tmp_path):
    rows = make_faces(tmp_path / "faces", YEARS)
    write_tags(tmp_path / "tags.jsonl", [r["id"] for r in rows])
    return tmp_path


def _build(root, **kw):
    params = BuildParams(**{"resolution": 32, "workers": 1, **kw})
    return build_dataset(root / "faces", root / "tags.jsonl", root / "ds", params, progress=False)


def test_year_filter_resolution_labels_and_metadata(faces):
    result = _build(faces)
    ds = load_dataset(faces / "ds")
    assert ds.ids == ["src002_0", "src003_0", "src004_0", "src005_0", "src007_0"]  # 2006 and later
    assert ds.images.shape == (5, 32, 32, 3) and result.report["count"] == 5
    assert result.report["year_filtered"] == 3  # 2004, 2005 and the unknown year
    tags = load_tags(faces / "tags.jsonl")
    np.testing.assert_array_equal(ds.labels, np.stack([tags[i] for i in ds.ids]))
    assert ds.known.all()
    meta = ds.metadata[0]
    assert meta["year"] == 2006 and meta["width"] == meta["height"] == meta["short_edge"] == 102
    assert meta["box"] == [10, 10, 20, 20] and meta["source"].startswith("crawl:https://")
    expected = np.asarray(
        Image.fromarray(crop_pixels(2)).resize((32, 32), Image.Resampling.LANCZOS)
    )
    np.testing.assert_array_equal(ds.images[0], expected)
    assert ds.info["report"]["count"] == 5 and ds.info["build"]["min_year"] == 2006

    _build(faces, min_year=None, keep_unknown_year=True, resolution=16, resample="area")
    ds = load_dataset(faces / "ds")
    assert len(ds) == 8 and ds.resolution == 16
    _build(faces, min_year=2005, max_year=2007)
    assert load_dataset(faces / "ds").ids == ["src001_0", "src002_0", "src003_0", "src004_0"]


def test_exact_and_near_duplicates(tmp_path):
    a, b = crop_pixels(1), crop_pixels(2)
    jitter = np.random.default_rng(0).integers(-2, 3, a.shape)
    noisy = np.clip(a.astype(int) + jitter, 0, 255).astype(np.uint8)
    rows = make_faces(tmp_path / "faces", [2010] * 4, pixels=[a, b, a.copy(), noisy])
    write_tags(tmp_path / "tags.jsonl", [r["id"] for r in rows])
    exact = _build(tmp_path)
    assert load_dataset(tmp_path / "ds").ids == ["src000_0", "src001_0", "src003_0"]
    assert exact.report["duplicates"] == 1 and exact.report["duplicate_of"] == {
        "src002_0": "src000_0"
    }
    near = _build(tmp_path, dedupe="near", near_distance=4)
    assert (
        load_dataset(tmp_path / "ds").ids == ["src000_0", "src001_0"]
        and near.report["duplicates"] == 2
    )
    assert _build(tmp_path, dedupe="none").report["count"] == 4


def test_rejects_by_number_and_id_are_left_out(faces):
    write_review(faces / "faces", faces / "review", per_sheet=4)
    (faces / "review" / "rejects.txt").write_text("# false positives\n2\nsrc005_0\nnope_1\n")
    result = build_dataset(
        faces / "faces",
        faces / "tags.jsonl",
        faces / "ds",
        BuildParams(resolution=16, workers=1),
        review_dir=faces / "review",
        progress=False,
    )
    assert load_dataset(faces / "ds").ids == ["src003_0", "src004_0", "src007_0"]
    assert result.report["rejected"] == 2 and result.report["unknown_rejects"] == ["nope_1"]


def test_untagged_skip_or_unlabelled_and_missing_crops(faces):
    lines = (faces / "tags.jsonl").read_text().splitlines()
    (faces / "tags.jsonl").write_text("\n".join(lines[:3]) + "\n")  # only src000-src002 tagged
    (faces / "faces" / "crops" / "src007_0.png").unlink()
    skipped = _build(faces)
    assert (
        load_dataset(faces / "ds").ids == ["src002_0"] and skipped.report["untagged_skipped"] == 4
    )
    kept = _build(faces, untagged="unlabelled")
    ds = load_dataset(faces / "ds")
    assert ds.ids == ["src002_0", "src003_0", "src004_0", "src005_0"]
    assert ds.known[0].all() and not ds.known[1:].any() and not ds.labels[1:].any()
    assert kept.report["unlabelled"] == 3 and kept.report["missing_crops"] == 1
    assert [m["tagged"] for m in ds.metadata] == [True, False, False, False]


def test_report_numbers_and_files(faces):
    result = _build(faces, mean_face_samples=1)
    report_dir = faces / "ds" / "report"
    assert result.report_dir == report_dir
    report = json.loads((report_dir / "report.json").read_text())
    for name in ("tags.md", "tags.png", "years.png", "short_edge.png", "mean_faces.png"):
        assert (report_dir / name).stat().st_size > 0 and name in report["files"]
    assert not (report_dir / "tsne.png").exists() and report["tsne"] is None
    ds = load_dataset(faces / "ds")
    assert report["tags"]["long hair"]["count"] == int(ds.labels[:, 13].sum())
    assert report["tags"]["blonde hair"]["paper"] == 4991
    assert report["years"]["available"] == {
        "2004": 1,
        "2005": 1,
        "2006": 2,
        "2007": 1,
        "2010": 1,
        "2012": 1,
        "unknown": 1,
    }
    assert sorted(report["years"]["passing"]) == ["2006", "2007", "2010", "2012"]
    assert sum(report["short_edge"]["counts"]) == 5 and report["short_edge"]["min"] == 102
    assert report["mean_faces"] == {
        y: 1 for y in ("2004", "2005", "2006", "2007", "2010", "2012", "unknown")
    }
    table = (report_dir / "tags.md").read_text()
    assert f"| hair_style | long hair | {int(ds.labels[:, 13].sum())} |" in table
    with Image.open(report_dir / "mean_faces.png") as im:
        assert im.size[0] > 7 * 96  # a strip, one tile per year (8 per row)


def test_tsne_figure_with_a_feature_function(faces):
    seen = []

    def features(images):
        seen.append(images.shape)
        return images.reshape(len(images), -1)[:, ::7].astype(np.float32)

    result = build_dataset(
        faces / "faces",
        faces / "tags.jsonl",
        faces / "ds",
        BuildParams(
            resolution=16, workers=1, tsne_samples=4, min_year=None, keep_unknown_year=True
        ),
        features=features,
        progress=False,
    )
    assert seen == [(4, 16, 16, 3)] and result.report["tsne"] == {"images": 4}
    assert (faces / "ds" / "report" / "tsne.png").exists()


def test_nothing_to_build_is_a_user_error(faces):
    with pytest.raises(UserError, match="min_year"):
        _build(faces, min_year=2030)
    (faces / "tags.jsonl").unlink()
    with pytest.raises(UserError, match="make tag"):
        _build(faces)
    with pytest.raises(UserError, match="untagged"):
        BuildParams(untagged="maybe")


def test_zip_output_puts_the_report_beside_it(faces):
    result = build_dataset(
        faces / "faces",
        faces / "tags.jsonl",
        faces / "ds.zip",
        BuildParams(resolution=16, workers=2),
        progress=False,
    )
    assert len(load_dataset(faces / "ds.zip")) == 5
    assert (
        result.report_dir == faces / "ds_report" and (faces / "ds_report" / "report.json").exists()
    )


def test_find_duplicates_near_search_matches_brute_force():
    rng = np.random.default_rng(0)
    base = rng.integers(0, 2**63, 40, dtype=np.int64).tolist()
    hashes = base + [h ^ (1 << int(rng.integers(0, 63))) ^ (1 << 5) for h in base[:20]]
    digests = [str(i) for i in range(len(hashes))]
    dupes = find_duplicates(digests, hashes, max_distance=2)
    brute = {}
    kept = []
    for i, h in enumerate(hashes):
        match = [j for j in kept if bin(h ^ hashes[j]).count("1") <= 2]
        if match:
            brute[i] = min(match)
        else:
            kept.append(i)
    assert dupes == brute and len(dupes) >= 20
    assert find_duplicates(["a", "b", "a"]) == {2: 0}


def test_hashes_and_small_helpers():
    a = crop_pixels(3)
    assert pixel_sha256(a) == pixel_sha256(a.copy()) != pixel_sha256(a[:, ::-1])
    assert (
        bin(dhash(a) ^ dhash(np.clip(a.astype(int) + 1, 0, 255).astype(np.uint8))).count("1") <= 2
    )
    starts, counts, width = edge_histogram([36, 40, 59, 100])
    assert (
        width == 5 and starts[0] == 35 and counts[:2] == [1, 1] and sum(counts) == 4
    )  # 64 px in ~30 bins


def test_tsne_separates_clusters():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 1, (30, 20)), rng.normal(10, 1, (30, 20))])
    y = tsne_2d(x, perplexity=10)
    a, b = y[:30], y[30:]
    gap = np.linalg.norm(a.mean(0) - b.mean(0))
    assert gap > 3 * max(a.std(0).max(), b.std(0).max())
    d = np.linalg.norm(y[:, None] - y[None], axis=-1) + np.eye(60) * 1e9
    assert (
        (d.argmin(axis=1) < 30) == (np.arange(60) < 30)
    ).all()  # neighbours stay in their cluster
