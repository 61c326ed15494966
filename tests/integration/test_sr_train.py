"""The upscaler end to end on CPU with the real config, shrunk: train, loss, resume, sweep, CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import lightning as L
import numpy as np
import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import DictConfig, open_dict
from PIL import Image

from anime_gan.cli._hydra import CONF_DIR
from anime_gan.data.dataset import FaceDataset, save_dataset
from anime_gan.demo.render import render_dataset
from anime_gan.models.checkpoint import read_checkpoint
from anime_gan.superres.train import sr_train

pytestmark = pytest.mark.usefixtures("one_torch_thread")


REPO = Path(__file__).resolve().parents[2]
TINY = [
    "model.upscaler.channels=8",
    "model.upscaler.num_res_blocks=1",
    "model.discriminator.channels=4",
]


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """24 rendered faces at 16 px (8 -> 16 pairs): real edges, so there is something to learn."""
    ds = render_dataset(24, 16, seed=3)
    out = tmp_path_factory.mktemp("d") / "ds"
    return save_dataset(FaceDataset(ds.images, ds.labels, ds.known, ds.metadata), out)


def sr_config(data: Path, out: Path, *overrides: str) -> DictConfig:
    """The real sr_train config with experiment=sr_demo, a tiny model, no logger, CPU."""
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(
            "sr_train",
            overrides=[
                "experiment=sr_demo",
                f"data.path={data}",
                "data.resolution=16",
                "data.batch_size=8",
                "data.val_fraction=0.25",
                "~logger",
                "trainer.enable_progress_bar=false",
                "~callbacks.progress_bar",
                "trainer.enable_model_summary=false",
                "sr.val_every=2",
                *TINY,
                *overrides,
            ],
        )
    with open_dict(cfg):
        cfg.paths.output_dir = str(out)
    return cfg


def test_short_run_leaves_checkpoints_metrics_and_report(data, tmp_path):
    metrics = sr_train(sr_config(data, tmp_path, "iterations=4", "sr.adv_weight=1e-3"))
    for key in (
        "train/pixel",
        "train/g_adv",
        "train/d_adv",
        "val/psnr",
        "val/ssim",
        "measure/model/psnr",
    ):
        assert key in metrics and np.isfinite(metrics[key]), key
    assert metrics["iteration"] == 4
    assert sorted(p.name for p in (tmp_path / "checkpoints").glob("iter*.ckpt")) == [
        "iter0000002.ckpt",
        "iter0000004.ckpt",
    ]
    meta = read_checkpoint(tmp_path / "checkpoints" / "last.ckpt")["anime_gan"]
    assert (
        meta["iteration"] == 4
        and meta["adv_weight"] == 1e-3
        and meta["upscaler_config"]["channels"] == 8
    )
    report = json.loads((tmp_path / "measure.json").read_text())
    assert [r["method"] for r in report["rows"]] == [
        "bicubic",
        "lanczos",
        "SR adv=0.001",
        "original",
    ]
    assert (tmp_path / "sheet.png").is_file() and "| bicubic |" in (
        tmp_path / "measure.md"
    ).read_text()


class _PixelLosses(L.Callback):
    def __init__(self) -> None:
        self.values: list[float] = []

    def on_train_batch_end(self, trainer: L.Trainer, *args) -> None:
        self.values.append(float(trainer.callback_metrics["train/pixel"]))


def test_a_few_steps_reduce_the_pixel_loss(data, tmp_path):
    """The same batch (all 24 pairs) 12 times, adversarial term on: the pixel loss falls."""
    cfg = sr_config(
        data,
        tmp_path,
        "sr.adv_weight=1e-3",
        "data.val_fraction=0",
        "data.batch_size=24",
        "model.optimizer_g.lr=1e-3",
    )
    torch.manual_seed(0)
    losses = _PixelLosses()
    L.Trainer(
        max_steps=24,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        limit_val_batches=0,
        accelerator="cpu",
        callbacks=[losses],
    ).fit(instantiate(cfg.model), datamodule=instantiate(cfg.data))
    assert len(losses.values) == 12
    assert np.mean(losses.values[-2:]) < 0.95 * np.mean(losses.values[:2]), losses.values


def test_pixel_only_model_leaves_the_critic_untouched(data, tmp_path):
    sr_train(sr_config(data, tmp_path, "iterations=2", "sr.adv_weight=0", "measure=false"))
    ckpt = read_checkpoint(tmp_path / "checkpoints" / "last.ckpt")
    assert ckpt["optimizer_states"][1]["state"] == {}  # Adam of D never saw a gradient
    assert ckpt["optimizer_states"][0]["state"]


def test_resume_is_bitwise_identical(data, tmp_path):
    """4 iterations straight == 2, stop, resume to 4 (2 batches per epoch: crosses an epoch)."""
    over = ("sr.adv_weight=1e-2", "measure=false")
    sr_train(sr_config(data, tmp_path / "a", "iterations=4", *over))
    sr_train(sr_config(data, tmp_path / "b", "iterations=2", *over))
    sr_train(sr_config(data, tmp_path / "b", "iterations=4", "ckpt_path=last", *over))
    a = read_checkpoint(tmp_path / "a/checkpoints/last.ckpt")
    b = read_checkpoint(tmp_path / "b/checkpoints/last.ckpt")
    assert a["anime_gan"]["iteration"] == b["anime_gan"]["iteration"] == 4
    for k in a["state_dict"]:
        assert torch.equal(a["state_dict"][k], b["state_dict"][k]), k


def _cli(args: list[str], timeout: int = 300) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "WANDB_MODE": "offline",
        "WANDB_SILENT": "true",
        "PYTHONWARNINGS": "ignore",
        "OMP_NUM_THREADS": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", "anime_gan.cli.main", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.slow
def test_sweep_over_adv_weight_writes_the_report_and_upscale_uses_it(data, tmp_path):
    sweep = tmp_path / "sweep"
    res = _cli(
        [
            "sr-train",
            "-m",
            "experiment=sr_demo",
            f"data.path={data}",
            "data.resolution=16",
            "data.batch_size=8",
            "data.val_fraction=0.25",
            "sr.adv_weight=0,1e-2",
            "iterations=2",
            "sr.val_every=2",
            "logger=csv",
            "trainer.enable_progress_bar=false",
            "~callbacks.progress_bar",
            f"hydra.sweep.dir={sweep}",
            *TINY,
        ]
    )
    assert res.returncode == 0, res.stderr[-3000:]
    table = (sweep / "measure.md").read_text()
    assert "| SR adv=0 |" in table and "| SR adv=0.01 |" in table and "| lanczos |" in table
    assert Image.open(sweep / "tradeoff.png").size[0] > 500
    assert Image.open(sweep / "sheet.png").size[0] > 6 * 16

    images = tmp_path / "in"
    images.mkdir()
    Image.fromarray(np.full((10, 12, 3), 200, np.uint8)).save(images / "a.png")
    Image.fromarray(np.full((8, 8), 50, np.uint8)).save(images / "b.jpg")
    ckpt = sweep / "1" / "checkpoints" / "last.ckpt"
    res = _cli(
        [
            "upscale",
            f"ckpt={ckpt}",
            f"input={images}",
            f"out={tmp_path / 'out'}",
            f"export_onnx={tmp_path / 'up.onnx'}",
            f"hydra.run.dir={tmp_path / 'run'}",
        ]
    )
    assert res.returncode == 0, res.stderr[-3000:]
    assert Image.open(tmp_path / "out" / "a.png").size == (24, 20)
    assert Image.open(tmp_path / "out" / "b.png").size == (16, 16)
    assert (tmp_path / "up.onnx").is_file() and "max abs difference" in res.stdout

    Image.new("RGBA", (8, 8)).save(images / "c.png")
    res = _cli(["upscale", f"ckpt={ckpt}", f"input={images}", f"hydra.run.dir={tmp_path / 'run'}"])
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "c.png has 4 channel(s) (RGBA)" in res.stderr


def test_generate_writes_upscaled_samples(data, tmp_path):
    """`generate upscale=<sr-train checkpoint>`: each face also 2x in samples_2x/ (16 -> 32 px)."""
    from anime_gan.errors import UserError
    from anime_gan.generate.stage import run
    from anime_gan.train import train
    from tests.helpers import tiny_dataset, train_config

    train(train_config(tiny_dataset(tmp_path / "gan_data", n=16), tmp_path / "gan", "iterations=1"))
    sr_train(sr_config(data, tmp_path / "sr", "iterations=2", "measure=false"))
    base = [
        f"ckpt={tmp_path / 'gan/checkpoints/last.ckpt'}",
        f"out={tmp_path / 'out'}",
        "n=3",
        f"upscale={tmp_path / 'sr/checkpoints/last.ckpt'}",
    ]
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        paths = run(compose("generate", overrides=base))
        with pytest.raises(UserError, match="upscale applies to mode=samples"):
            run(compose("generate", overrides=[*base, "mode=grid_random_tags"]))
    upscaled = sorted(p for p in paths if p.parent.name == "samples_2x")
    assert len(upscaled) == 3 and Image.open(upscaled[0]).size == (32, 32)
    assert Image.open(tmp_path / "out" / "samples" / upscaled[0].name).size == (16, 16)
