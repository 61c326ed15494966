"""Numeric and list-valued options are checked at the entry point: one sentence naming the option
and a valid value (anime_gan.cli.options), and every shipped default passes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir

from anime_gan.cli._hydra import CONF_DIR
from anime_gan.cli.options import RULES, check_options
from anime_gan.data.tags import fixed_tags
from anime_gan.errors import UserError
from anime_gan.models.checkpoint import load_generator

REPO = Path(__file__).resolve().parents[2]


def composed(config: str, *overrides: str):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config, overrides=list(overrides))


@pytest.mark.parametrize("config", sorted(RULES))
def test_every_default_passes(config):
    overrides = ["source=x"] if config == "import" else []
    check_options(config, composed(config, *overrides))


@pytest.mark.parametrize(
    "config, override, message",
    [
        ("generate", "n=0", "n=0 is not an integer from 1 to 10,000: use e.g. n=16."),
        ("generate", "n=-1", "n=-1 is not an integer from 1 to 10,000: use e.g. n=16."),
        ("generate", "n=abc", "n='abc' is not an integer from 1 to 10,000: use e.g. n=16."),
        (
            "generate",
            "n=100000000",
            "n=100000000 is not an integer from 1 to 10,000: use e.g. n=16.",
        ),
        (
            "generate",
            "tags='blue hair'",
            "tags='blue hair' is not a list of names: use e.g. tags='[blue hair,smile]'.",
        ),
        (
            "serve",
            "port=99999",
            "port=99999 is not an integer from 0 to 65,535: use e.g. port=8000.",
        ),
        (
            "train",
            "data.batch_size=0",
            "data.batch_size=0 is not an integer from 1 to 65,536: use e.g. data.batch_size=32.",
        ),
        (
            "train",
            "iterations=abc",
            "iterations='abc' is not an integer from 1 to 1,000,000,000: use e.g. iterations=1000.",
        ),
        (
            "train",
            "iterations=-5",
            "iterations=-5 is not an integer from 1 to 1,000,000,000: use e.g. iterations=1000.",
        ),
        (
            "train",
            "model.lambda_adv=banana",
            "model.lambda_adv='banana' is not a number of at least 0: use e.g. model.lambda_adv=1.0.",
        ),
        (
            "train",
            "model.lambda_gp=nan",
            "model.lambda_gp=nan is not a number of at least 0: use e.g. model.lambda_gp=1.0.",
        ),
        (
            "train",
            "iterations=2.5",
            "iterations=2.5 is not an integer from 1 to 1,000,000,000: use e.g. iterations=1000.",
        ),
        ("detect", "detector.zoom=0", "detector.zoom=0 is not a number above 0"),
        ("crawl", "http.concurrency=0", "http.concurrency=0 is not an integer from 1 to 64"),
        ("render", "n=true", "n=True is not an integer from 1 to 10,000,000"),
    ],
)
def test_a_bad_value_is_one_sentence(config, override, message):
    extra = ["source=x"] if config == "import" else []
    with pytest.raises(UserError) as info:
        check_options(config, composed(config, override, *extra))
    assert str(info.value).startswith(message) and "\n" not in str(info.value)


def test_the_entry_point_checks_before_any_work(tmp_path):
    cmd = [
        sys.executable,
        "-m",
        "anime_gan.cli.main",
        "generate",
        "n=abc",
        f"ckpt={tmp_path / 'none.ckpt'}",
        f"hydra.run.dir={tmp_path}",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        "error: n='abc' is not an integer from 1 to 10,000: use e.g. n=16."
    )


def test_contradictory_or_plain_string_tags():
    with pytest.raises(UserError, match=r"'smile' is asked both on and off"):
        fixed_tags(["smile", "-smile"])
    with pytest.raises(
        UserError, match=r"is one string, not a list of tags: .*tags='\[blue hair\]'"
    ):
        fixed_tags("blue hair")
    assert fixed_tags(["smile", "smile", "-hat"]) == fixed_tags(["smile", "no hat"])


def test_an_upscaler_checkpoint_given_to_generate(tmp_path):
    path = tmp_path / "sr.ckpt"
    torch.save({"anime_gan": {"upscaler_config": {"channels": 8}}, "state_dict": {}}, path)
    with pytest.raises(
        UserError,
        match=r"is an upscaler's \(anime-gan sr-train\) checkpoint, "
        r"not a face generator's",
    ):
        load_generator(path)
