"""The GPU speed settings, run on CPU: fused Adam's device-side skip of non-finite steps, the
channels_last callback through a resume, and the paper experiment composing them."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir

from anime_gan.cli._hydra import CONF_DIR
from anime_gan.models.checkpoint import read_checkpoint
from anime_gan.models.guard import NonFiniteLossError
from anime_gan.train import train
from tests.helpers import tiny_dataset, train_config

FUSED = [
    "model.optimizer_g.foreach=false",
    "+model.optimizer_g.fused=true",
    "model.optimizer_d.foreach=false",
    "+model.optimizer_d.fused=true",
]
CHANNELS_LAST = ["+callbacks.channels_last._target_=anime_gan.callbacks.channels_last.ChannelsLast"]


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return tiny_dataset(tmp_path_factory.mktemp("data") / "ds", n=24)


def test_fused_adam_skips_nonfinite_steps_without_touching_the_optimizer(data, tmp_path):
    """lambda_gp = nan makes every D loss non-finite: D's steps are skipped on the device (Adam's
    step count stays 0, the moments zero), G's finite steps go through."""
    train(
        train_config(
            data, tmp_path, "iterations=2", "model.max_nonfinite=3", "model.lambda_gp=nan", *FUSED
        )
    )
    ckpt = read_checkpoint(tmp_path / "checkpoints" / "last.ckpt")
    g_state, d_state = (ckpt["optimizer_states"][i]["state"] for i in (0, 1))
    assert all(float(s["step"]) == 2 for s in g_state.values())
    assert all(float(s["step"]) == 0 and not s["exp_avg"].any() for s in d_state.values())
    assert all(
        torch.isfinite(v).all() for v in ckpt["state_dict"].values() if v.is_floating_point()
    )


def test_fused_adam_stops_after_max_nonfinite_in_a_row(data, tmp_path):
    cfg = train_config(
        data, tmp_path, "iterations=10", "model.max_nonfinite=3", "model.lambda_gp=nan", *FUSED
    )
    with pytest.raises(NonFiniteLossError, match="3 iterations in a row"):
        train(cfg)


def test_channels_last_networks_train_and_resume(data, tmp_path):
    train(train_config(data, tmp_path, "iterations=2", *CHANNELS_LAST, *FUSED))
    train(train_config(data, tmp_path, "iterations=3", "ckpt_path=last", *CHANNELS_LAST, *FUSED))
    ckpt = read_checkpoint(tmp_path / "checkpoints" / "last.ckpt")
    assert ckpt["anime_gan"]["iteration"] == 3
    # D's first conv (its weight, or the parametrized original under spectral norm: the SN-DCGAN
    # D of model=plus_small)
    weight = next(
        v
        for k, v in ckpt["state_dict"].items()
        if k.startswith("discriminator.body.0.") and v.ndim == 4
    )
    assert weight.is_contiguous(memory_format=torch.channels_last) and not weight.is_contiguous()
    assert torch.isfinite(weight).all()


def test_paper_experiment_uses_fused_adam_and_channels_last():
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("train", overrides=["experiment=paper"])
    assert cfg.model.optimizer_g.fused and not cfg.model.optimizer_g.foreach
    assert cfg.model.optimizer_d.fused and not cfg.model.optimizer_d.foreach
    assert cfg.callbacks.channels_last._target_.endswith("ChannelsLast")
    assert cfg.data.device == "auto" and cfg.trainer.precision == "bf16-mixed"
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        demo = compose("train", overrides=["experiment=demo"])
    assert demo.model.optimizer_g.foreach and "fused" not in demo.model.optimizer_g
