"""Resuming training: never unpickles code, refuses a truncated checkpoint with a pointer to an
intact one, says when ckpt_path=last finds nothing, and clears what a killed save left."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from anime_gan.errors import UserError
from anime_gan.models.checkpoint import load_generator, read_checkpoint
from anime_gan.train import train
from tests.helpers import tiny_dataset, train_config

pytestmark = pytest.mark.usefixtures("one_torch_thread")


class Payload:
    """Unpickling this creates a file: proof that a checkpoint ran code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return tiny_dataset(tmp_path_factory.mktemp("data") / "ds", n=24)


@pytest.fixture(scope="module")
def run(data, tmp_path_factory) -> Path:
    """A finished 4-iteration run: iter0000002.ckpt, iter0000004.ckpt and last.ckpt."""
    out = tmp_path_factory.mktemp("run")
    train(train_config(data, out, "iterations=4"))
    return out


def test_a_crafted_checkpoint_never_runs_its_code(data, tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.ckpt"
    torch.save({"anime_gan": {"iteration": 1}, "state_dict": {}, "x": Payload(marker)}, evil)
    with pytest.raises(UserError, match="not a whole checkpoint .* holding code"):
        train(train_config(data, tmp_path / "out", "iterations=2", f"ckpt_path={evil}"))
    with pytest.raises(UserError, match="not a readable checkpoint"):
        load_generator(evil)
    assert not marker.exists()


def test_a_truncated_last_checkpoint_points_to_the_newest_intact_one(run, data, tmp_path):
    ckpts = tmp_path / "checkpoints"
    ckpts.mkdir()
    for name in ("iter0000002.ckpt", "iter0000004.ckpt", "last.ckpt"):
        (ckpts / name).write_bytes((run / "checkpoints" / name).read_bytes())
    last = ckpts / "last.ckpt"
    last.write_bytes(last.read_bytes()[: last.stat().st_size // 2])  # a disk that filled up
    before = {p.name: p.read_bytes() for p in ckpts.iterdir()}
    with pytest.raises(
        UserError,
        match=r"cannot resume from it: resume from the newest intact "
        r"one with ckpt_path=.*iter0000004\.ckpt\.$",
    ):
        train(train_config(data, tmp_path, "iterations=6", "ckpt_path=last"))
    assert {p.name: p.read_bytes() for p in ckpts.iterdir()} == before


def test_last_without_a_checkpoint_says_it_starts_fresh(data, tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="anime_gan.train"):
        train(train_config(data, tmp_path, "iterations=1", "ckpt_path=last"))
    assert any(
        "ckpt_path=last: no checkpoint in" in r.getMessage()
        and "starts from iteration 0" in r.getMessage()
        for r in caplog.records
    )
    assert read_checkpoint(tmp_path / "checkpoints" / "last.ckpt")["anime_gan"]["iteration"] == 1


def test_resume_loads_weights_only_and_clears_a_killed_save(run, data, tmp_path):
    out = tmp_path / "resumed"
    (out / "checkpoints").mkdir(parents=True)
    for name in ("iter0000004.ckpt", "last.ckpt"):
        (out / "checkpoints" / name).write_bytes((run / "checkpoints" / name).read_bytes())
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    leftover = out / "checkpoints" / f".iter0000006.ckpt.{dead.pid}.tmp"
    leftover.write_bytes(b"half a checkpoint")
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())  # type: ignore[method-assign]
    lightning = logging.getLogger("lightning.pytorch")
    lightning.addHandler(handler)
    try:
        train(train_config(data, out, "iterations=6", "ckpt_path=last"))
    finally:
        lightning.removeHandler(handler)
    assert not leftover.exists()
    assert read_checkpoint(out / "checkpoints" / "last.ckpt")["anime_gan"]["iteration"] == 6
    assert lines and not any("`weights_only` was not set" in line for line in lines)
