"""Every experiment composes with every model choice and builds its networks.

The config files are found by globbing, so an experiment, model, generator or discriminator
added later is covered without touching this file. Super-resolution experiments (``sr_*``)
compose with their own primary config, conf/sr_train.yaml. The networks are built on the meta
device (shapes without memory or initialisation time) and run once on a batch of two, so a
setting that a network does not take, or a shape that does not fit, fails here rather than in
the first minute of a run (``model/generator=dcgan`` on ``model=small`` once did).
"""

from __future__ import annotations

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate

from anime_gan.cli._hydra import CONF_DIR
from anime_gan.cli.options import check_options

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def names(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))


EXPERIMENTS = names("experiment")
GAN_EXPERIMENTS = [e for e in EXPERIMENTS if not e.startswith("sr_")]
SR_EXPERIMENTS = [e for e in EXPERIMENTS if e.startswith("sr_")]
MODELS = names("model")
NETWORKS = [f"model/generator={g}" for g in names("model/generator")] + [
    f"model/discriminator={d}" for d in names("model/discriminator")
]


def gan_cases() -> list[tuple[str, ...]]:
    """Each experiment with its own model, each model file and each network override; and each
    model file with each network override (on the first experiment)."""
    cases: list[tuple[str, ...]] = []
    for experiment in GAN_EXPERIMENTS:
        base = f"experiment={experiment}"
        cases += [(base,), *[(base, f"model={m}") for m in MODELS], *[(base, n) for n in NETWORKS]]
    cases += [
        (f"experiment={GAN_EXPERIMENTS[0]}", f"model={m}", n) for m in MODELS for n in NETWORKS
    ]
    return list(dict.fromkeys(cases))


@pytest.fixture(scope="module", autouse=True)
def hydra_conf():
    """One Hydra initialisation for the whole module (each composition then takes ~0.1 s)."""
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        yield


def composed(config: str, overrides: tuple[str, ...]):
    return compose(config, overrides=list(overrides))


def test_the_configs_are_found():
    assert {"demo", "paper"} <= set(GAN_EXPERIMENTS) and SR_EXPERIMENTS
    assert {"gan", "small"} <= set(MODELS) and "model/generator=dcgan" in NETWORKS


@pytest.mark.parametrize("overrides", gan_cases(), ids=" ".join)
def test_gan_experiment_builds_its_networks(overrides):
    cfg = composed("train", overrides)
    check_options("train", cfg)
    r = int(cfg.data.resolution)
    with torch.device("meta"):
        model = instantiate(cfg.model)
        g, d = model.generator, model.discriminator
        images = g(torch.randn(2, g.z_dim), torch.zeros(2, 34))
        assert images.shape == (2, 3, r, r)
        logits, tags = d(images)
        assert logits.shape == (2,) and tags.shape == (2, 34)


@pytest.mark.parametrize("experiment", SR_EXPERIMENTS)
def test_sr_experiment_builds_its_networks(experiment):
    cfg = composed("sr_train", (f"experiment={experiment}",))
    check_options("sr_train", cfg)
    r = int(cfg.data.resolution)
    with torch.device("meta"):
        model = instantiate(cfg.model)
        upscaled = model.upscaler(torch.zeros(2, 3, r // 2, r // 2))
        assert upscaled.shape == (2, 3, r, r)
        assert model.discriminator(upscaled).shape == (2,)
