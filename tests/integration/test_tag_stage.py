"""The tag stage end to end on synthetic images with fabricated Illustration2Vec weights.

The weights are a reduced network (channels / 32, 64 px input) in the released file format,
converted through the real converter; the stage is interrupted after its first batch and resumed.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from anime_gan.cli.main import main as cli
from anime_gan.tagging import stage as tag_stage
from anime_gan.tagging.illust2vec import Illust2VecArch, Illust2VecTagger, load_tagger
from anime_gan.tagging.tagger import read_tags, select_tags
from tests.fakes.caffe_writer import fabricate_illust2vec

ARCH = Illust2VecArch(width=32, input_size=64)


@pytest.fixture
def crops(tmp_path: Path) -> Path:
    """Six readable images (RGB, RGBA, grey, JPEG, in a subfolder, to resize) and a corrupt one."""
    root = tmp_path / "crops"
    (root / "sub").mkdir(parents=True)
    rng = np.random.default_rng(0)
    kinds = [("RGB", 64), ("RGBA", 80), ("L", 50), ("RGB", 100), ("RGB", 64), ("RGB", 40)]
    for i, (mode, size) in enumerate(kinds):
        pixels = rng.integers(0, 256, (size, size, len(mode)), dtype=np.uint8)
        image = Image.fromarray(pixels[..., 0] if mode == "L" else pixels, mode)
        image.save(root / ("sub" if i == 4 else "") / f"face{i}.{'jpg' if i == 3 else 'png'}")
    (root / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    (root / "notes.txt").write_text("not an image")
    return root


@pytest.fixture
def weights(tmp_path: Path) -> Path:
    src = tmp_path / "weights" / "illust2vec_tag_ver200.caffemodel"
    src.parent.mkdir()
    fabricate_illust2vec(src, "tag", ARCH, layout="v1", legacy_shape=True)
    arch = ["arch.width=32", "arch.input_size=64"]
    assert cli(["convert-i2v", f"src={src}", *arch, f"hydra.run.dir={tmp_path}/run"]) == 0
    return src.with_suffix(".safetensors")


def test_interrupted_run_resumes_without_redoing_finished_images(
    crops: Path, weights: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "tags"
    real_append, calls = tag_stage.append_jsonl, []

    def append_then_stop(handle, rows, **dumps):  # the second batch never gets written
        if calls:
            raise KeyboardInterrupt
        calls.append(len(rows))
        real_append(handle, rows, **dumps)

    monkeypatch.setattr(tag_stage, "append_jsonl", append_then_stop)
    with pytest.raises(KeyboardInterrupt):
        tag_stage.tag_folder(crops, out, weights, batch_size=3, device="cpu", progress=False)
    first = read_tags(out)  # the first batch: broken.png (skipped), face0, face1
    assert sorted(first) == ["face0", "face1"] and calls == [2]
    with open(out / "tags.jsonl", "a") as f:
        f.write('{"id": "face5", "fi')  # as if the process died while writing

    monkeypatch.setattr(tag_stage, "append_jsonl", real_append)
    seen: list[int] = []
    real_forward = Illust2VecTagger.forward_preprocessed
    monkeypatch.setattr(
        Illust2VecTagger,
        "forward_preprocessed",
        lambda self, x: seen.append(len(x)) or real_forward(self, x),
    )
    run = tag_stage.tag_folder(crops, out, weights, batch_size=3, device="cpu", progress=False)

    assert run.already_done == 2 and run.tagged == 4 and sum(seen) == 4  # only the unfinished ones
    assert [Path(f).name for f, _ in run.skipped] == ["broken.png"]
    tags = read_tags(out)
    assert sorted(tags) == [f"face{i}" for i in range(6)]
    for ident in first:
        np.testing.assert_array_equal(tags[ident][0], first[ident][0])
    rows = [json.loads(line) for line in (out / "tags.jsonl").read_text().splitlines()]
    assert len(rows) == 6 and {r["file"] for r in rows} >= {"sub/face4.png", "face3.jpg"}
    manifest = json.loads((out / "tags.json").read_text())
    assert manifest["count"] == 6 and manifest["tag_names"][12] == "gray hair"
    skipped = [json.loads(line) for line in (out / "skipped.jsonl").read_text().splitlines()]
    assert skipped[0]["file"].endswith("broken.png") and skipped[0]["reason"]

    net = load_tagger(weights)  # the stored row is the network's output, selected by the rules
    expected = select_tags(net(np.asarray(Image.open(crops / "face1.png"))))
    np.testing.assert_allclose(tags["face1"][0], expected.probs[0], atol=1e-6)
    np.testing.assert_array_equal(tags["face1"][1], expected.labels[0])


def test_tag_command_line(
    crops: Path, weights: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    common = [
        f"input={crops}",
        f"out={tmp_path}/tags",
        "batch_size=4",
        "num_workers=0",
        "progress=false",
        f"hydra.run.dir={tmp_path}/run",
    ]
    assert cli(["tag", f"weights={weights}", *common]) == 0
    assert len(read_tags(tmp_path / "tags")) == 6
    with pytest.raises(SystemExit) as stop:
        cli(["tag", f"weights={tmp_path}/none/illust2vec_tag_ver200.safetensors", *common])
    message = capsys.readouterr().err
    assert stop.value.code == 2 and "Traceback" not in message
    assert "download https://github.com/rezoo/illustration2vec/releases/download/v2.0.0/" in message
    assert "anime-gan convert-i2v src=" in message
    with pytest.raises(SystemExit):
        cli(["convert-i2v", f"hydra.run.dir={tmp_path}/run"])
    assert "convert-i2v needs src=PATH" in capsys.readouterr().err
