"""Evaluation end to end on a tiny checkpoint: metric callbacks in training, evaluate (with a
fabricated Illustration2Vec), generate's modes and errors, and the report."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig, OmegaConf, open_dict
from PIL import Image

from anime_gan.cli._hydra import CONF_DIR
from anime_gan.data.dataset import save_dataset
from anime_gan.demo.render import render_dataset
from anime_gan.metrics.judge import TagJudge, save_judge
from anime_gan.metrics.judge_training import JudgeTraining, train_judge
from anime_gan.train import train
from tests.helpers import train_config

REPO = Path(__file__).resolve().parents[2]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def setup(tmp_path_factory) -> dict[str, Path]:
    """Rendered 16 px faces, a 2-iteration checkpoint trained on them and a quick judge."""
    root = tmp_path_factory.mktemp("eval")
    ds = render_dataset(64, 16, seed=0, workers=1)
    data = save_dataset(ds, root / "data")
    train(train_config(data, root / "run", "iterations=2"))
    judge = train_judge(
        ds.subset(range(48)),
        ds.subset(range(48, 64)),
        TagJudge(16, 4, 2),
        JudgeTraining(steps=5, batch_size=16, min_positives=1),
    )
    save_judge(judge, root / "judge")
    return {
        "root": root,
        "data": data,
        "ckpt": root / "run" / "checkpoints" / "last.ckpt",
        "judge": root / "judge",
    }


def _compose(name: str, *overrides: str) -> DictConfig:
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(name, overrides=list(overrides))


def test_callbacks_log_swd_fid_and_precision_during_training(setup, tmp_path):
    cfg = train_config(setup["data"], tmp_path, "iterations=4", "callbacks.swd.protocol=swd256")
    with open_dict(cfg):
        cfg.callbacks.fid = {
            "_target_": "anime_gan.callbacks.metrics.FIDCallback",
            "protocol": "fid256",
            "every_n_iterations": 2,
            "extractor": {
                "_target_": "tests.fakes.features.RandomFeatures",
                "num_features": 8,
            },
        }
        cfg.callbacks.precision = {
            "_target_": "anime_gan.callbacks.metrics.PrecisionCallback",
            "judge": str(setup["judge"]),
            "protocol": "precision8",
            "every_n_iterations": 4,
        }
        cfg.logger = {
            "csv": {
                "_target_": "lightning.pytorch.loggers.CSVLogger",
                "save_dir": str(tmp_path),
                "name": "csv",
            }
        }
    metrics = train(cfg)
    assert {"val/swd", "val/fid_i2v", "val/precision"} <= set(metrics)
    assert (
        metrics["val/swd"] > 0
        and metrics["val/fid_i2v"] >= 0
        and 0 <= metrics["val/precision"] <= 1
    )
    with open(next((tmp_path / "csv").glob("version_*/metrics.csv"))) as f:
        logged = list(csv.DictReader(f))
    swd_rows = [r for r in logged if r["val/swd"]]
    assert [int(r["step"]) for r in swd_rows] == [
        4,
        8,
    ]  # iterations 2 and 4 (two optimizer steps each)
    assert float(swd_rows[0]["val/swd/swd_16"]) == pytest.approx(
        float(swd_rows[0]["val/swd"])
    )  # one level
    # the neighbour difference of the same fakes and reals, beside SWD
    assert 0 < float(swd_rows[0]["val/swd/nd"]) and 0 < float(swd_rows[0]["val/swd/nd_real"])
    assert [float(r["val/fid_i2v/kid"]) for r in logged if r["val/fid_i2v"]]
    assert [int(r["step"]) for r in logged if r["val/precision"]] == [
        8
    ] and "val/precision/smile" in logged[0]
    for name in ("val_swd", "val_fid_i2v", "val_precision"):
        assert (tmp_path / "metrics" / f"{name}.png").is_file()
    with open(tmp_path / "metrics" / "val_swd.csv") as f:
        assert [int(r["iteration"]) for r in csv.DictReader(f)] == [2, 4]
    assert "| smile |" in (tmp_path / "metrics" / "precision.md").read_text()


def test_evaluate_runs_fid_kid_swd_and_precision_with_a_cache(setup, tmp_path):
    from anime_gan.metrics.evaluate import run
    from anime_gan.tagging.convert import convert_caffemodel
    from anime_gan.tagging.illust2vec import Illust2VecArch
    from tests.fakes.caffe_writer import fabricate_illust2vec

    arch = Illust2VecArch(width=64, input_size=32)  # the release's shape, 64x narrower
    fabricate_illust2vec(tmp_path / "f.caffemodel", "feature", arch)
    convert_caffemodel(tmp_path / "f.caffemodel", tmp_path / "f.safetensors", arch=arch)
    overrides = [
        f"ckpt={setup['ckpt']}",
        f"data.path={setup['data']}",
        "metrics=[swd256,fid256,precision8]",
        f"i2v_features={tmp_path / 'f.safetensors'}",
        f"judge={setup['judge']}",
        "device=cpu",
        f"cache_dir={tmp_path / 'cache'}",
        f"out={tmp_path / 'out'}",
    ]
    first = run(_compose("evaluate", *overrides))
    assert first["fid256"]["fid"] > 0 and "kid" in first["fid256"] and first["swd256"]["swd"] > 0
    assert first["fid256"]["real_images"] == 64.0 and 0 <= first["precision8"]["precision"] <= 1
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 1
    saved = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert saved["iteration"] == 2 and saved["fid256"]["fid"] == pytest.approx(
        first["fid256"]["fid"]
    )
    assert (tmp_path / "out" / "precision.csv").is_file() and (
        tmp_path / "out" / "overview.png"
    ).is_file()
    again = run(_compose("evaluate", *overrides, "metrics=[fid256]"))  # reals from the cache
    assert again["fid256"]["fid"] == pytest.approx(first["fid256"]["fid"], rel=1e-6)


def test_fid_on_judge_features_in_evaluate_and_during_training(setup, tmp_path):
    """Without Illustration2Vec's weights, FID runs on a trained judge's pooled features: real
    images against themselves score ~0, the untrained generator far more; the callback logs
    val/fid_judge from conf/callbacks/fid_judge.yaml."""
    from torchmetrics.image.fid import FrechetInceptionDistance

    from anime_gan.data.dataset import load_dataset
    from anime_gan.metrics.evaluate import run
    from anime_gan.metrics.features import MetricFeatures
    from anime_gan.metrics.judge import dataset_images, load_judge_features

    features = load_judge_features(setup["judge"])
    assert features.num_features == 8 and not features.training
    real = dataset_images(load_dataset(setup["data"]), slice(None))
    fid = FrechetInceptionDistance(feature=MetricFeatures(features))
    fid.update(real[:32], real=True)
    fid.update(real[32:], real=False)
    real_vs_real = float(fid.compute())
    overrides = [
        f"ckpt={setup['ckpt']}",
        f"data.path={setup['data']}",
        "metrics=[fid256]",
        f"judge_features={setup['judge']}",
        "device=cpu",
        f"cache_dir={tmp_path / 'cache'}",
        f"out={tmp_path / 'out'}",
    ]
    result = run(_compose("evaluate", *overrides))
    assert result["fid256"]["fid"] > 2 * real_vs_real  # 2 iterations of training: far from real
    assert f"judge {setup['judge']}" in (tmp_path / "out" / "metrics.md").read_text()
    both = _compose("evaluate", *overrides, "i2v_features=x.safetensors")
    with pytest.raises(Exception, match="set one of i2v_features and judge_features"):
        run(both)

    cfg = train_config(
        setup["data"], tmp_path / "run", "iterations=2", "callbacks.swd.protocol=swd256"
    )
    fid_cfg = OmegaConf.load(CONF_DIR / "callbacks" / "fid_judge.yaml").fid
    with open_dict(cfg):
        cfg.callbacks.fid = fid_cfg
        cfg.callbacks.fid.judge = str(setup["judge"])
        cfg.callbacks.fid.protocol = "fid256"
        cfg.callbacks.fid.every_n_iterations = 2
    metrics = train(cfg)
    assert metrics["val/fid_judge"] > 0 and "val/fid_i2v" not in metrics


def test_reference_split_gives_the_real_vs_real_floor(setup, tmp_path):
    """split=val against the train split's real images: far below the 2-iteration generator on
    the same held-out images, for SWD and for judge-feature FID; precision is refused."""
    from anime_gan.metrics.evaluate import run

    common = [
        f"data.path={setup['data']}",
        "data.val_fraction=0.5",
        "split=val",
        "metrics=[swd256,fid256]",
        f"judge_features={setup['judge']}",
        "device=cpu",
        f"cache_dir={tmp_path / 'cache'}",
    ]
    floor = run(_compose("evaluate", *common, "reference_split=train", f"out={tmp_path / 'ref'}"))
    model = run(_compose("evaluate", *common, f"ckpt={setup['ckpt']}", f"out={tmp_path / 'gen'}"))
    assert floor["checkpoint"] == "real images of the train split" and floor["iteration"] is None
    assert 0 <= floor["swd256"]["swd"] < model["swd256"]["swd"]
    assert 0 <= floor["fid256"]["fid"] < model["fid256"]["fid"]
    with pytest.raises(Exception, match="no real-vs-real reference"):
        run(
            _compose(
                "evaluate",
                *common,
                "reference_split=train",
                "metrics=[precision8]",
                f"judge={setup['judge']}",
            )
        )
    with pytest.raises(Exception, match="must be train or val and differ"):
        run(_compose("evaluate", *common, "reference_split=val"))


def test_generate_modes_write_their_files(setup, tmp_path):
    from anime_gan.generate.stage import run

    base = [f"ckpt={setup['ckpt']}", f"out={tmp_path}", "n=4", "rows=2", "cols=3", "steps=4"]
    paths = run(_compose("generate", *base, "tags=[blue hair,smile,-hat]"))
    assert paths[0].name == "samples.png" and len(paths) == 5
    assert Image.open(paths[1]).size == (16, 16)
    for mode, name in (
        ("grid_random_tags", "grid_random_tags.png"),
        ("grid_fixed_tags", "grid_fixed_tags.png"),
        ("tag_sweep", "sweep_smile.png"),
    ):
        assert run(_compose("generate", *base, f"mode={mode}"))[0].name == name
    strip, gif = run(_compose("generate", *base, "mode=interpolate"))
    assert Image.open(gif).n_frames == 4 + 2  # there and back
    sheet = run(_compose("generate", *base, "mode=memorization", f"data.path={setup['data']}"))[0]
    assert sheet.name == "memorization.png" and Image.open(sheet).size[0] > 4 * 64


def _cli(args: list[str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run(
        [sys.executable, "-m", "anime_gan.cli.main", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_generate_cli_unknown_tag_is_one_sentence_exit_2(setup, tmp_path):
    res = _cli(
        ["generate", f"ckpt={setup['ckpt']}", "tags=[blue hiar]", f"hydra.run.dir={tmp_path}"]
    )
    assert res.returncode == 2, res.stderr[-2000:]
    assert "unknown tag 'blue hiar': did you mean 'blue hair'" in res.stderr
    assert "Traceback" not in res.stderr


def test_report_end_to_end(setup, tmp_path):
    from anime_gan.reports.checkpoint import build_report

    index = build_report(
        _compose(
            "report",
            f"ckpt={setup['ckpt']}",
            f"data.path={setup['data']}",
            f"out={tmp_path}",
            "judge_steps=10",
            "swd=swd256",
            "precision=precision8",
            "memorization_samples=3",
            "cache_dir=null",
        )
    )
    text = index.read_text()
    for name in (
        "fig7_samples.png",
        "fig8_fixed_noise_random_tags.png",
        "fig9_fixed_tags.png",
        "fig15_interpolation.png",
        "fig15_interpolation.gif",
        "sweep_smile.png",
        "precision/precision.csv",
        "precision/overview.png",
        "memorization_pixels.png",
        "memorization_judge.png",
        "curve_val_swd.png",
        "judge/judge.json",
    ):
        assert (tmp_path / name).is_file(), name
    assert "## Per-label precision (Table 2)" in text and "Multi-scale sliced Wasserstein" in text
    assert "not measured (no `i2v_features`" in text and "| blonde hair |" in text
