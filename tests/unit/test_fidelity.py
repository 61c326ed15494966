"""docs/fidelity.md, checked: experiment=paper composes to the paper's numbers, and each switch
the page names restores the paper's behaviour (raw-G sampling, fp32, no held-out split)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate

from anime_gan.cli._hydra import CONF_DIR
from anime_gan.data.datamodule import FaceDataModule
from anime_gan.metrics.protocols import get_protocol
from anime_gan.models.checkpoint import read_checkpoint
from anime_gan.models.ema import EMA
from anime_gan.train import build_run, train
from tests.helpers import TINY_MODEL, tiny_dataset, train_config

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def hydra_conf():
    """Hydra for compose(); per test, as train_config (the training runs) initialises its own."""
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        yield


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return tiny_dataset(tmp_path_factory.mktemp("data") / "ds", n=24)


def paper(*overrides: str):
    return compose("train", overrides=["experiment=paper", *overrides])


def test_paper_config_has_the_papers_numbers(hydra_conf):
    """Section 4.3, 5.1.1-5.1.3 and Fig. 3-4, as experiment=paper composes them."""
    cfg = paper()
    m, g, d = cfg.model, cfg.model.generator, cfg.model.discriminator
    assert (m.lambda_adv, m.lambda_gp, m.perturb_scale) == (34.0, 0.5, 0.5)
    for opt in (m.optimizer_g, m.optimizer_d):
        assert opt._target_ == "torch.optim.Adam"
        assert opt.lr == 2e-4 and list(opt.betas) == [0.5, 0.999]
    assert m.lr_decay_start == 50_000
    recipe = (m.adv_loss, m.penalty, m.cls_weight, m.fake_cls_weight, m.augment)
    assert recipe == ("bce", "dragan", 1.0, 1.0, None)
    assert (cfg.data.batch_size, cfg.data.resolution, cfg.data.flip) == (64, 128, False)
    assert (g.z_dim, g.num_tags, g.channels, g.num_res_blocks) == (128, 34, 64, 16)
    assert (g.variant, g.init, g.upsample, g.rgb_kernel) == ("paper", "paper", "subpixel", 9)
    assert (d.channels, d.init, d.stem) == (32, "paper", "paper") and not g.icnr
    assert not d.spectral_norm and not d.projection
    with torch.device("meta"):
        model = instantiate(cfg.model)
    assert len(model.generator.upsample) == 3 and model.discriminator.num_stages == 5
    assert model.discriminator.num_features == 1024 * 2 * 2


def test_paper_config_departs_where_the_page_says(hydra_conf):
    """The defaults docs/fidelity.md lists as beyond the paper, each with its switch."""
    cfg = paper()
    assert cfg.trainer.precision == "bf16-mixed"
    assert paper("trainer.precision=32-true").trainer.precision == "32-true"
    assert cfg.data.val_fraction == 0.02 and paper("data.val_fraction=0").data.val_fraction == 0
    assert cfg.iterations == 150_000 and cfg.trainer.max_steps == 300_000  # 2 optimizer steps each
    assert cfg.model.ema_decay == 0.999 and cfg.callbacks.ema is True
    assert (cfg.matmul_precision, cfg.cudnn_tf32) == ("high", True)
    assert cfg.model.optimizer_g.fused and "channels_last" in cfg.callbacks


def test_paper_lr_halves_every_50k_iterations_after_50k(hydra_conf):
    cfg = paper(*TINY_MODEL, "data.resolution=16")
    (opt_g, _), (sched, _) = instantiate(cfg.model).configure_optimizers()
    factor = sched.lr_lambdas[0]
    assert [factor(i) for i in (0, 49_999, 50_000, 100_000, 150_000)] == [1, 1, 1, 0.5, 0.25]


def test_callbacks_ema_false_reaches_every_sampling_callback(hydra_conf):
    overrides = ["callbacks=[default,fid,precision]", "callbacks.precision.judge=x"]
    for value in (True, False):
        cfg = paper(*overrides, f"callbacks.ema={value}")
        for name in ("sample_grid", "swd", "fid", "precision"):
            assert cfg.callbacks[name].ema is value, name


@pytest.fixture
def diverged_module(hydra_conf):
    """A tiny ConditionalGAN whose raw G no longer equals its EMA copy."""
    cfg = compose("train", overrides=["experiment=demo", *TINY_MODEL, "data.resolution=16"])
    module = instantiate(cfg.model)
    with torch.no_grad():
        for p in module.generator.parameters():
            p.add_(0.5 * torch.randn_like(p))
    return module


def test_sample_grid_draws_the_raw_generator_when_asked(diverged_module):
    from anime_gan.callbacks.samples import SampleGrid, hair_color_conditions

    z, c, _ = hair_color_conditions(2, diverged_module.generator.z_dim, 0)
    raw, ema = diverged_module.generate(z, c, ema=False), diverged_module.generate(z, c)
    assert not torch.equal(raw, ema)
    grids = {e: SampleGrid(num_cols=2, ema=e).render(diverged_module) for e in (True, False)}
    assert grids[True].tobytes() != grids[False].tobytes()
    seen = []
    diverged_module.generate = lambda z, c, ema=True: seen.append(ema) or raw
    SampleGrid(num_cols=2, ema=False).render(diverged_module)
    assert seen == [False]


def test_metric_callbacks_measure_the_raw_generator_on_the_training_split(diverged_module, data):
    """callbacks.ema=false: fakes from the raw G; data.val_fraction=0: the real images are the
    whole (training) set."""
    from anime_gan.callbacks.metrics import SWDCallback

    dm = FaceDataModule(str(data), resolution=16, batch_size=8, val_fraction=0.0)
    dm.setup()
    assert len(dm.train_set) == 24 and len(dm.val_set) == 0
    trainer = SimpleNamespace(datamodule=dm, world_size=1, global_rank=0)
    z, c = torch.randn(3, diverged_module.generator.z_dim), torch.zeros(3, 34)
    for ema in (True, False):
        ctx = SWDCallback(protocol="swd256", ema=ema).context(trainer, diverged_module)
        assert len(ctx.real) == 24
        assert torch.equal(ctx.generate(z, c), diverged_module.generate(z, c, ema=ema))


def test_ema_decay_zero_keeps_the_ema_copy_equal_to_the_raw_generator():
    g = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    ema = EMA(g, decay=0.0)
    for _ in range(3):
        with torch.no_grad():
            for p in g.parameters():
                p.add_(torch.randn_like(p))
        g(torch.randn(5, 3))  # moves the BN statistics
        ema.update(g)
        for a, b in zip(ema.module.state_dict().values(), g.state_dict().values()):
            assert torch.equal(a, b)


def test_a_paper_style_run_trains_on_every_image_and_samples_the_raw_g(data, tmp_path):
    """model.ema_decay=0 callbacks.ema=false data.val_fraction=0 end to end: the run finishes,
    SWD is measured (on the training split), and the checkpoint's EMA copy is the raw G."""
    metrics = train(
        train_config(
            data,
            tmp_path,
            "iterations=2",
            "model.ema_decay=0",
            "callbacks.ema=false",
            "data.val_fraction=0",
        )
    )
    assert torch.isfinite(torch.tensor(metrics["val/swd"]))
    state = read_checkpoint(tmp_path / "checkpoints" / "last.ckpt")["state_dict"]
    raw = {k[len("generator.") :]: v for k, v in state.items() if k.startswith("generator.")}
    ema = {
        k[len("generator_ema.module.") :]: v
        for k, v in state.items()
        if k.startswith("generator_ema.module.")
    }
    assert raw.keys() == ema.keys() and all(torch.equal(raw[k], ema[k]) for k in raw)


def test_cudnn_tf32_false_turns_tf32_convolutions_off(data, tmp_path):
    before = torch.backends.cudnn.allow_tf32
    try:
        for value in (False, True):
            build_run(train_config(data, tmp_path, f"cudnn_tf32={value}"))
            assert torch.backends.cudnn.allow_tf32 is value
    finally:
        torch.backends.cudnn.allow_tf32 = before


def test_evaluate_protocols_follow_the_paper(hydra_conf):
    """5.3.2: 12,800 real images, 5 repeats; 5.3.1: 20 images per tag; ema=false: the raw G."""
    fid, precision = get_protocol("fid12k8_x5"), get_protocol("precision20")
    assert (fid.num_real, fid.repeats, precision.per_tag) == (12_800, 5, 20)
    cfg = compose("evaluate")
    assert cfg.ema is True and cfg.split == "all"
    assert compose("evaluate", overrides=["ema=false"]).ema is False
