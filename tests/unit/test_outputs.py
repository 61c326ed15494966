"""The one rule for output folders: new, empty or the stage's own; anything else is refused in one
sentence and nothing in it is touched (anime_gan.outputs)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from anime_gan import outputs
from anime_gan.crawl.pipeline import CrawlStore
from anime_gan.data.dataset import FaceDataset, load_dataset, save_dataset
from anime_gan.errors import UserError
from anime_gan.importer.stage import import_images
from anime_gan.outputs import OutputKind, check_output, staged_folder

REPO = Path(__file__).resolve().parents[2]
KINDS = {name: kind for name, kind in vars(outputs).items() if isinstance(kind, OutputKind)}


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` and its bytes: what must survive a refused command."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def images_folder(root: Path, n: int = 3) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        Image.new("RGB", (12, 12), (40 * i, 90, 200)).save(root / f"img{i}.png")
    return root


def tiny(n: int = 2) -> FaceDataset:
    zeros = np.zeros((n, 34), np.uint8)
    meta = [{"id": f"i{k}", "source": "t", "year": None, "width": 8, "height": 8} for k in range(n)]
    return FaceDataset(np.zeros((n, 8, 8, 3), np.uint8), zeros, zeros, meta)


def one_line(message: str) -> bool:
    return "\n" not in message and message.rstrip().endswith((".", ")"))


@pytest.mark.parametrize("name", sorted(KINDS))
def test_every_stage_refuses_a_folder_it_did_not_make(name, tmp_path):
    kind = KINDS[name]
    assert check_output(tmp_path / "new", kind) == tmp_path / "new"  # new: fine
    (tmp_path / "empty").mkdir()
    check_output(tmp_path / "empty", kind)  # empty: fine
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match=r"out=.*mine already holds notes\.txt") as info:
        check_output(mine, kind)
    assert one_line(str(info.value)) and "choose a new or empty folder" in str(info.value)
    assert snapshot(mine) == {"notes.txt": b"mine"}


def test_the_issue_example_import_into_the_parent_of_its_source(tmp_path):
    """parent/ holds imgs/ and notes.txt; out=parent must not delete either (it used to)."""
    parent = tmp_path / "parent"
    images_folder(parent / "imgs")
    (parent / "notes.txt").write_text("keep me")
    before = snapshot(parent)
    cmd = [
        sys.executable,
        "-m",
        "anime_gan.cli.main",
        "import",
        f"source={parent / 'imgs'}",
        f"out={parent}",
        "resolution=32",
        "progress=false",
        f"hydra.run.dir={tmp_path / 'run'}",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 2, done.stderr
    error = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(error) == 1 and "Traceback" not in done.stderr
    assert "contains source=" in error[0] or "already holds" in error[0]
    assert snapshot(parent) == before


def test_import_out_is_the_source_or_a_foreign_folder(tmp_path):
    src = images_folder(tmp_path / "src")
    before = snapshot(src)
    with pytest.raises(UserError, match="is the folder given as source="):
        import_images(src, src, 16, progress=False)
    other = tmp_path / "other"
    other.mkdir()
    (other / "thesis.pdf").write_bytes(b"%PDF")
    with pytest.raises(UserError, match="already holds thesis.pdf"):
        import_images(src, other, 16, progress=False)
    assert snapshot(src) == before and snapshot(other) == {"thesis.pdf": b"%PDF"}


def test_a_dataset_is_replaced_by_a_dataset_and_hydra_files_stay(tmp_path):
    out = tmp_path / "ds"
    save_dataset(tiny(2), out)
    (out / ".hydra").mkdir()
    (out / ".hydra" / "config.yaml").write_text("a: 1")
    (out / "render.log").write_text("log")
    save_dataset(tiny(3), out)
    assert len(load_dataset(out)) == 3
    assert (out / ".hydra" / "config.yaml").read_text() == "a: 1" and (out / "render.log").exists()
    (out / "notes.txt").write_text("mine")  # now it holds something a dataset never has
    with pytest.raises(UserError, match="already holds notes.txt"):
        save_dataset(tiny(4), out)
    assert len(load_dataset(out)) == 3 and (out / "notes.txt").read_text() == "mine"


def test_a_folder_without_the_manifest_is_not_the_stages(tmp_path):
    """Only dataset file names, but no dataset.json: someone else's images.npy."""
    out = tmp_path / "arrays"
    out.mkdir()
    np.save(out / "images.npy", np.arange(3))
    with pytest.raises(UserError, match="no dataset.json of"):
        save_dataset(tiny(2), out)
    assert np.load(out / "images.npy").tolist() == [0, 1, 2]


def test_zip_output_replaces_only_a_dataset_zip(tmp_path):
    target = tmp_path / "photos.zip"
    target.write_bytes(b"PK not a dataset")
    with pytest.raises(UserError, match="exists and is not an anime-gan dataset zip"):
        save_dataset(tiny(2), target)
    assert target.read_bytes() == b"PK not a dataset"
    ours = save_dataset(tiny(2), tmp_path / "ds.zip")
    save_dataset(tiny(3), ours)  # an earlier dataset zip is replaced
    assert len(load_dataset(ours)) == 3


def test_a_failed_write_leaves_the_previous_output(tmp_path):
    out = tmp_path / "ds"
    save_dataset(tiny(2), out)
    before = snapshot(out)
    with pytest.raises(RuntimeError), staged_folder(out, outputs.DATASET) as staged:
        (staged / "dataset.json").write_text("{}")
        raise RuntimeError("killed halfway")
    assert snapshot(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["ds"]  # no temporary folder left


def test_crawl_never_cleans_a_folder_it_did_not_make(tmp_path):
    """The crawl's repair deletes unlisted files under images/: a user's images/ must be refused."""
    out = tmp_path / "pictures"
    images_folder(out / "images")
    before = snapshot(out)
    with pytest.raises(UserError, match="no manifest.jsonl of `anime-gan crawl`"):
        CrawlStore(out).open()
    assert snapshot(out) == before
    crawl = tmp_path / "crawl"
    with CrawlStore(crawl):
        pass
    with CrawlStore(crawl):  # its own folder: resumes
        pass


def test_review_keeps_a_reject_list_written_before_the_first_run(tmp_path):
    from anime_gan.faces.review import write_review
    from tests.unit.faces_fixture import make_faces

    faces = tmp_path / "faces"
    make_faces(faces, [2008, 2009])
    review = tmp_path / "review"
    review.mkdir()
    (review / "rejects.txt").write_text("1\n")
    result = write_review(faces, review)
    assert result.rejected == 1 and (review / "rejects.txt").read_text() == "1\n"
    (review / "todo.md").write_text("mine")
    with pytest.raises(UserError, match="already holds todo.md"):
        write_review(faces, review)


def test_tag_and_export_refuse_before_reading_anything(tmp_path):
    from anime_gan.export.bundle import export_bundle
    from anime_gan.tagging.stage import tag_folder

    src = images_folder(tmp_path / "crops")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match="already holds notes.txt, which `anime-gan tag`"):
        tag_folder(src, mine, tmp_path / "no-weights.safetensors")
    with pytest.raises(UserError, match="is the folder given as input="):
        tag_folder(src, src, tmp_path / "no-weights.safetensors")
    with pytest.raises(UserError, match="which `anime-gan export` did not make"):
        export_bundle(tmp_path / "no.ckpt", mine)
    assert snapshot(mine) == {"notes.txt": b"mine"}
    assert sorted(snapshot(src)) == ["img0.png", "img1.png", "img2.png"]


def test_render_and_build_refuse_a_foreign_folder_before_any_work(tmp_path):
    from anime_gan.trainset.stage import build_dataset

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    cmd = [
        sys.executable,
        "-m",
        "anime_gan.cli.main",
        "render",
        "n=8",
        f"out={mine}",
        f"hydra.run.dir={tmp_path / 'run'}",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "already holds notes.txt" in done.stderr.strip().splitlines()[-1]
    with pytest.raises(UserError, match="already holds notes.txt"):
        build_dataset(tmp_path / "no-faces", tmp_path / "tags.jsonl", mine)
    assert snapshot(mine) == {"notes.txt": b"mine"}


def test_a_temporary_file_left_by_a_kill_is_the_stages_own(tmp_path):
    out = tmp_path / "faces"
    out.mkdir()
    (out / "detect.json").write_text("{}")
    (out / ".detect.json.tmp").write_text("{")  # killed between the write and the rename
    check_output(out, outputs.DETECT)
    (out / ".notes.txt.tmp").write_text("")
    with pytest.raises(UserError, match=r"already holds \.notes\.txt\.tmp"):
        check_output(out, outputs.DETECT)
