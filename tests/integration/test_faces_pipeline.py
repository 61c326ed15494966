"""detect -> review -> (tags written here) -> build through the real CLI, on real character images."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from anime_gan.data.dataset import load_dataset
from anime_gan.data.tags import NUM_TAGS

REPO = Path(__file__).resolve().parents[2]


def _cli(args: list[str], root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "ANIME_GAN_ROOT": str(root), "ANIME_GAN_CACHE": str(root / "cache")}
    return subprocess.run(
        [sys.executable, "-m", "anime_gan.cli.main", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _crawl_folder(root: Path, assets: Path) -> Path:
    """A crawl folder (manifest.jsonl) of six images: two faces kept, one too old, one copy,
    one without a face and one broken file."""
    shiroha = Image.open(assets / "shiroha.jpg").convert("RGB")
    images = {
        (101, "2008-04-25"): shiroha,
        (102, "2012-01-27"): Image.open(assets / "miku.jpg").convert("RGB"),
        (103, "2004-07-30"): shiroha.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
        (104, "2009-10-30"): shiroha.copy(),  # the same picture in another game: a duplicate crop
        (105, None): Image.new("RGB", (250, 300), "white"),
    }
    rows = []
    for (game, date), image in images.items():
        rel = f"images/{game}/c{game}chara1.png"
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        image.save(root / rel)
        rows.append(
            {
                "url": f"http://www.getchu.com/brandnew/{game}/c{game}chara1.jpg",
                "path": rel,
                "sha256": "-",
                "game_id": game,
                "release_date": date,
                "year": int(date[:4]) if date else None,
                "bytes": 1,
                "page_url": "-",
            }
        )
    broken = "images/106/c106chara1.jpg"
    (root / broken).parent.mkdir(parents=True)
    (root / broken).write_bytes(b"\xff\xd8\xff broken")
    rows.append({**rows[0], "url": "http://x/106.jpg", "path": broken, "game_id": 106})
    (root / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return root


@pytest.mark.slow
def test_detect_review_build_end_to_end(tmp_path, shared_dir):
    assets = shared_dir / "assets"
    _crawl_folder(tmp_path / "data" / "crawl", assets)
    res = _cli(
        ["detect", f"cascade.path={assets / 'lbpcascade_animeface.xml'}", "progress=false"],
        tmp_path,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    assert "6 images in the input, 0 already done, 6 processed now: 4 faces" in res.stdout
    assert "skipped 1 unreadable images: images/106/c106chara1.jpg" in res.stdout
    lines = (tmp_path / "data" / "faces" / "faces.jsonl").read_text().splitlines()
    faces = [json.loads(line) for line in lines]
    ids = sorted(r["id"] for r in faces)
    assert ids == ["c101chara1_0", "c102chara1_0", "c103chara1_0", "c104chara1_0"]
    assert {r["id"]: r["year"] for r in faces}["c103chara1_0"] == 2004

    res = _cli(["review", "per_sheet=2", "ncol=2"], tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "4 crops on 2 contact sheets" in res.stdout
    index = (tmp_path / "data" / "review" / "index.tsv").read_text().splitlines()
    assert index[1:] == [f"{n}\t{i}\t{n // 2}" for n, i in enumerate(ids)]

    tags_dir = tmp_path / "data" / "tags"
    tags_dir.mkdir(parents=True)
    labels = {
        fid: [1 if k in (i, 14, 18 + i, 25) else 0 for k in range(NUM_TAGS)]
        for i, fid in enumerate(ids)
    }
    (tags_dir / "tags.jsonl").write_text(
        "".join(
            json.dumps(
                {"id": fid, "file": f"crops/{fid}.png", "probs": [0.5] * NUM_TAGS, "labels": lab}
            )
            + "\n"
            for fid, lab in labels.items()
        )
    )

    res = _cli(["build", "params.resolution=64", "progress=false"], tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    out = tmp_path / "data" / "getchu64"
    ds = load_dataset(out)
    assert ds.ids == [
        "c101chara1_0",
        "c102chara1_0",
    ]  # 2004 filtered, 2009 copy of 101 deduplicated
    assert ds.images.shape == (2, 64, 64, 3) and ds.known.all()
    np.testing.assert_array_equal(ds.labels[1], labels["c102chara1_0"])
    assert ds.metadata[0]["year"] == 2008 and ds.metadata[0]["game_id"] == 101
    assert ds.metadata[0]["box"] == [68, 47, 113, 113] and ds.metadata[0]["width"] == 170
    report = json.loads((out / "report" / "report.json").read_text())
    assert (report["faces"], report["year_filtered"], report["duplicates"], report["count"]) == (
        4,
        1,
        1,
        2,
    )
    assert report["duplicate_of"] == {"c104chara1_0": "c101chara1_0"}
    assert "t-SNE map (Fig. 2) skipped" in res.stdout

    # a reject by its sheet number, then a rebuild: the DataModule reads what is left
    (tmp_path / "data" / "review" / "rejects.txt").write_text("1  # not a face after all\n")
    res = _cli(["build", "params.resolution=64", "progress=false"], tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    assert load_dataset(out).ids == ["c101chara1_0"]
    datamodule = pytest.importorskip("anime_gan.data.datamodule")
    dm = datamodule.FaceDataModule(str(out), resolution=64, batch_size=1, val_fraction=0.0)
    dm.setup("fit")
    assert len(dm.train_set) + len(dm.val_set) == 1


def test_detect_without_a_cascade_offline_is_one_sentence(tmp_path):
    (tmp_path / "in").mkdir()
    res = _cli(["detect", "input=in", "cascade.download=false"], tmp_path)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "put it at" in res.stderr and str(tmp_path / "cache") in res.stderr
