"""Training end to end on CPU with the real config, shrunk: run, resume, rebuild, guard, sweep, DDP."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from anime_gan.models.checkpoint import load_generator, read_checkpoint
from anime_gan.models.guard import NonFiniteLossError
from anime_gan.train import train
from tests.helpers import TINY_MODEL, tiny_dataset, train_config

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return tiny_dataset(tmp_path_factory.mktemp("data") / "ds", n=24)


def test_short_run_leaves_checkpoints_samples_and_metrics(data, tmp_path):
    metrics = train(train_config(data, tmp_path, "iterations=4", "callbacks.speed.warmup=1"))
    for key in (
        "train/d_adv",
        "train/d_cls",
        "train/d_gp",
        "train/g_adv",
        "train/g_cls",
        "train/lr",
    ):
        assert key in metrics and torch.isfinite(torch.tensor(metrics[key]))
    assert metrics["iteration"] == 4
    assert metrics["train/it_per_s"] > 0  # the speed callback, training steps alone
    assert (tmp_path / "checkpoints" / "last.ckpt").is_file()
    assert sorted(p.name for p in (tmp_path / "checkpoints").glob("iter*.ckpt")) == [
        "iter0000002.ckpt",
        "iter0000004.ckpt",
    ]
    assert (tmp_path / "samples" / "iter_0000004.png").is_file()
    assert not list((tmp_path / "checkpoints").glob(".*tmp"))  # atomic writes leave no temp files


def test_last_checkpoint_is_the_final_iteration(data, tmp_path):
    """3 iterations with checkpoints every 2: last.ckpt must still hold iteration 3."""
    train(train_config(data, tmp_path, "iterations=3"))
    assert read_checkpoint(tmp_path / "checkpoints" / "last.ckpt")["anime_gan"]["iteration"] == 3


def test_generator_rebuilds_from_checkpoint_alone(data, tmp_path):
    train(train_config(data, tmp_path, "iterations=2"))
    ckpt = read_checkpoint(tmp_path / "checkpoints" / "last.ckpt")  # weights_only: no pickled code
    g, meta = load_generator(tmp_path / "checkpoints" / "last.ckpt")
    assert meta["iteration"] == 2 and meta["generator_config"]["channels"] == 8
    assert meta["prior"]["kind"] == "empirical"
    ema_w = ckpt["state_dict"]["generator_ema.module.to_rgb.0.weight"]
    assert torch.equal(g.to_rgb[0].weight, ema_w)
    out = g(torch.randn(3, g.z_dim), torch.zeros(3, 34))
    assert out.shape == (3, 3, 16, 16) and out.abs().max() <= 1


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return read_checkpoint(path)["state_dict"]


@pytest.mark.parametrize("model", ["model=plus_small", "model=small"])
def test_resume_is_bitwise_identical(data, tmp_path, model):
    """4 iterations straight == 2 iterations, stop, resume, 2 more (3 batches per epoch, so the
    resume happens mid-epoch and the run crosses an epoch boundary), for both CPU recipes
    (spectral norm's power-iteration vectors are buffers, saved and restored)."""
    train(train_config(data, tmp_path / "a", "iterations=4", model))
    train(train_config(data, tmp_path / "b", "iterations=2", model))
    train(train_config(data, tmp_path / "b", "iterations=4", "ckpt_path=last", model))
    a, b = (
        _weights(tmp_path / "a/checkpoints/last.ckpt"),
        _weights(tmp_path / "b/checkpoints/last.ckpt"),
    )
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    ca, cb = (
        read_checkpoint(tmp_path / "a/checkpoints/last.ckpt"),
        read_checkpoint(tmp_path / "b/checkpoints/last.ckpt"),
    )
    assert ca["anime_gan"]["iteration"] == cb["anime_gan"]["iteration"] == 4
    assert ca["optimizer_states"][1]["state"][0]["exp_avg"].equal(
        cb["optimizer_states"][1]["state"][0]["exp_avg"]
    )


def test_nonfinite_steps_are_skipped_then_training_stops(data, tmp_path):
    cfg = train_config(
        data, tmp_path, "iterations=10", "model.max_nonfinite=3", "model.lambda_gp=nan"
    )
    with pytest.raises(NonFiniteLossError, match="3 iterations in a row"):
        train(cfg)


def test_lr_decays_exponentially_after_start(data, tmp_path):
    metrics = train(
        train_config(
            data,
            tmp_path,
            "iterations=3",
            "model.lr_decay_start=1",
            "model.lr_half_life=1",
            "model.optimizer_g.lr=3e-4",
        )
    )
    assert metrics["train/lr"] == pytest.approx(3e-4 * 0.5**1, rel=1e-6)  # lr used at iteration 2


def test_fake_cls_weight_zero_trains_the_classifier_on_real_labels_only(data, tmp_path):
    """One iteration from the same seed: D's L_cls with the paper's fakes term exceeds the
    real-only L_cls by the (positive) fake term; G's L_cls is unchanged (same first G output)."""
    paper = train(train_config(data, tmp_path / "paper", "iterations=1", "model.fake_cls_weight=1"))
    real_only = train(
        train_config(data, tmp_path / "real", "iterations=1", "model.fake_cls_weight=0")
    )
    assert paper["train/d_cls"] > real_only["train/d_cls"] > 0
    half = train(train_config(data, tmp_path / "half", "iterations=1", "model.fake_cls_weight=0.5"))
    fake_term = paper["train/d_cls"] - real_only["train/d_cls"]
    assert half["train/d_cls"] == pytest.approx(
        real_only["train/d_cls"] + 0.5 * fake_term, rel=1e-5
    )


def test_a_set_without_known_tags_trains_unconditionally(tmp_path):
    """No known tag (getchu64): D's classifier has nothing real to learn, so both L_cls terms are
    off, whatever fake_cls_weight says, instead of G chasing an untrained head."""
    from anime_gan.data.dataset import load_dataset, save_dataset

    ds = load_dataset(tiny_dataset(tmp_path / "tagged", n=24), mmap=False)
    ds.known[:] = 0
    untagged = save_dataset(ds, tmp_path / "untagged")
    metrics = train(
        train_config(untagged, tmp_path / "run", "iterations=2", "model.fake_cls_weight=1")
    )
    assert metrics["train/d_cls"] == 0 and metrics["train/g_cls"] == 0
    assert metrics["train/d_adv"] > 0 and metrics["train/g_adv"] > 0


def test_tags_no_image_labels_are_left_out_of_the_fakes_classification(data, tmp_path):
    """A set that labels only some tags (mlds96: 25 of 34): D's and G's L_cls on fakes cover
    those tags only; G's L_cls then equals the masked loss computed by hand."""
    from anime_gan.models.losses import classification_loss
    from anime_gan.models.module import ConditionalGAN

    g = torch.nn.Linear(1, 1)
    module = ConditionalGAN(g, g)
    labelled = torch.zeros(34, dtype=torch.bool)
    labelled[:13] = True  # the hair colors only
    module.set_tag_mask(labelled)
    logits, c = torch.randn(4, 34), torch.randint(0, 2, (4, 34)).float()
    masked = classification_loss(logits, c, module.tag_mask.expand_as(c))
    assert torch.allclose(masked, classification_loss(logits[:, :13], c[:, :13]))
    module.set_tag_mask(torch.ones(34, dtype=torch.bool))
    assert module.tag_mask is None  # all labelled: the paper's path, nothing masked


def _cli(args: list[str], cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "WANDB_MODE": "offline",
        "WANDB_SILENT": "true",
        "PYTHONWARNINGS": "ignore",
    }
    return subprocess.run(
        [sys.executable, "-m", "anime_gan.cli.main", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.slow
def test_multirun_sweep_runs_four_jobs_with_wandb_offline(data, tmp_path):
    res = _cli(
        [
            "train",
            "-m",
            "experiment=demo",
            f"data.path={data}",
            "data.resolution=16",
            "data.batch_size=8",
            "model.lambda_adv=1,34",
            "model.lambda_gp=0.5,10",
            "iterations=1",
            "trainer.enable_progress_bar=false",
            "~callbacks.progress_bar",
            f"paths.log_dir={tmp_path}",
            *TINY_MODEL,
        ],
        cwd=REPO,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    jobs = sorted((tmp_path / "demo" / "multirun").glob("*/[0-9]"))
    assert len(jobs) == 4
    for job in jobs:
        assert (job / "checkpoints" / "last.ckpt").is_file()
        assert list((job / "wandb").glob("offline-run-*"))


@pytest.mark.slow
def test_ddp_two_cpu_processes(data, tmp_path):
    res = _cli(
        [
            "train",
            "experiment=demo",
            "trainer=ddp",
            "trainer.accelerator=cpu",
            "trainer.devices=2",
            f"data.path={data}",
            "data.resolution=16",
            "data.batch_size=4",
            "iterations=2",
            "logger=csv",
            "trainer.enable_progress_bar=false",
            "~callbacks.progress_bar",
            f"hydra.run.dir={tmp_path}",
            *TINY_MODEL,
        ],
        cwd=REPO,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    ckpt = read_checkpoint(tmp_path / "checkpoints" / "last.ckpt")
    assert ckpt["anime_gan"]["iteration"] == 2


def test_cli_reports_missing_dataset_in_one_sentence(tmp_path):
    res = _cli(
        ["train", "experiment=demo", f"data.path={tmp_path / 'nope'}", f"hydra.run.dir={tmp_path}"],
        cwd=REPO,
        timeout=120,
    )
    assert res.returncode == 2
    assert "does not exist" in res.stderr and "Traceback" not in res.stderr
