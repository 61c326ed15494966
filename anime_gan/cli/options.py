"""Every numeric and list-valued option of every stage, checked in one place before any work.

:func:`check_options` runs in each stage's entry point (``anime_gan.cli._hydra.stage``): a value
of the wrong type or out of range (``n=0``, ``iterations=abc``, ``data.batch_size=0``,
``model.lambda_adv=banana``, ``port=99999``, ``tags='blue hair'``) ends the command in one
sentence that names the option and a valid value, instead of a traceback later on. An option
that a config does not have is not checked (configs added later keep working).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

from anime_gan.errors import UserError

_ABSENT = object()


@dataclass(frozen=True)
class Num:
    """A number in [lo, hi] (``lo_open``: lo itself excluded); ``integer``: a whole number."""

    lo: float | None = None
    hi: float | None = None
    integer: bool = False
    null: bool = False  # None allowed (e.g. "no limit")
    lo_open: bool = False
    example: Any = None

    def problem(self, value: Any) -> str | None:
        if value is None:
            return None if self.null else "a value (it may not be null)"
        kind = int if self.integer else (int, float)
        ok = isinstance(value, kind) and not isinstance(value, bool)
        ok = (
            ok
            and math.isfinite(value)
            and (self.lo is None or value > self.lo or (value == self.lo and not self.lo_open))
        )
        ok = ok and (self.hi is None or value <= self.hi)
        return None if ok else self.describe()

    def describe(self) -> str:
        what = "an integer" if self.integer else "a number"
        lo, hi = _number(self.lo), _number(self.hi)
        if lo is not None and hi is not None:
            return (
                f"{what} from {lo} to {hi}" if not self.lo_open else f"{what} above {lo} up to {hi}"
            )
        if lo is not None:
            return f"{what} {'above' if self.lo_open else 'of at least'} {lo}"
        return f"{what} up to {hi}" if hi is not None else what

    def valid(self) -> Any:
        if self.example is not None:
            return self.example
        base = self.lo if self.lo is not None else 0
        return (
            int(base + (1 if self.lo_open else 0))
            if self.integer
            else base + (1 if self.lo_open else 0)
        )


@dataclass(frozen=True)
class Words:
    """A list of strings (tag names, metric names...), possibly of a fixed length."""

    example: str
    null: bool = False

    def problem(self, value: Any) -> str | None:
        if value is None and self.null:
            return None
        if isinstance(value, (list, tuple, ListConfig)) and all(isinstance(v, str) for v in value):
            return None
        return "a list of names"

    def valid(self) -> str:
        return self.example


def _i(lo: float | None = 0, hi: float | None = None, **kw: Any) -> Num:
    return Num(lo, hi, integer=True, **kw)


SEED = _i(0, 2**63 - 1, example=0)
FRACTION = Num(0, 1, example=0.05)
POSITIVE = Num(0, None, lo_open=True, example=1.0)
WEIGHT = Num(0, None, example=1.0)
YEAR = _i(1900, 2100, null=True, example=2006)
OPTIMIZERS = {f"model.optimizer_{n}.lr": Num(0, 1, lo_open=True, example=2e-4) for n in "gd"}
DATA = {
    "data.batch_size": _i(1, 65536, example=32),
    "data.resolution": _i(8, 4096, example=64),
    "data.val_fraction": Num(0, 1, example=0.05),
    "data.split_seed": SEED,
}
MODEL = {
    "model.lambda_adv": WEIGHT,
    "model.lambda_gp": WEIGHT,
    "model.lr_decay_start": _i(0),
    "model.lr_half_life": POSITIVE,
    "model.ema_decay": Num(0, 1, example=0.999),
    "model.perturb_scale": WEIGHT,
    "model.fake_cls_weight": WEIGHT,
    "model.max_nonfinite": _i(1, example=20),
    "model.cls_weight": WEIGHT,
    "model.generator.channels": _i(1, example=64),
    "model.generator.num_res_blocks": _i(0, example=16),
    "model.generator.base_channels": _i(1, example=72),
    "model.discriminator.channels": _i(1, example=32),
    "model.discriminator.num_stages": _i(1, null=True, example=5),
    **OPTIMIZERS,
}
TRAINING = {
    "iterations": _i(1, 10**9, example=1000),
    "seed": SEED,
    **DATA,
    "trainer.num_nodes": _i(1),
    "callbacks.every_n_iterations": _i(1, example=500),
}

RULES: dict[str, dict[str, Num | Words]] = {
    "train": {**TRAINING, **MODEL},
    "sr_train": {
        **TRAINING,
        **OPTIMIZERS,
        "sr.adv_weight": WEIGHT,
        "sr.val_every": _i(1),
        "data.max_val": _i(1),
    },
    "generate": {
        "n": _i(1, 10_000, example=16),
        "rows": _i(1, 256, example=6),
        "cols": _i(1, 256, example=8),
        "steps": _i(2, 256, example=8),
        "neighbours": _i(1, 64, example=3),
        "seed": SEED,
        "batch_size": _i(1, 4096, example=64),
        "tags": Words("'[blue hair,smile]'", null=True),
        **DATA,
    },
    "evaluate": {
        "batch_size": _i(1, 4096, example=64),
        "seed": SEED,
        "metrics": Words("'[swd2k]'"),
        **DATA,
    },
    "report": {
        "batch_size": _i(1, 4096, example=64),
        "seed": SEED,
        "judge_steps": _i(1),
        "memorization_samples": _i(1, 1000, example=8),
        "neighbours": _i(1, 64, example=3),
        "sweep_tags": Words("'[smile,blue hair]'"),
        **DATA,
    },
    "judge_train": {
        "seed": SEED,
        "model.channels": _i(1),
        "model.stages": _i(1),
        "model.depth": _i(1),
        "model.input_size": _i(8, 4096, null=True),
        "training.steps": _i(1),
        "training.batch_size": _i(1),
        "training.lr": POSITIVE,
        "training.weight_decay": WEIGHT,
        "training.min_positives": _i(1),
        **DATA,
    },
    "export": {
        "samples": _i(1, 1024, example=16),
        "seed": SEED,
        "variants": Words("'[fp32,fp16,int8]'"),
    },
    "serve": {
        "port": _i(0, 65535, example=8000),
        "timeout": Num(0, None, null=True, lo_open=True),
        "max_body_bytes": _i(0, example=65536),
        "idle_timeout_s": Num(0, None, null=True, lo_open=True, example=30),
    },
    "crawl": {
        "max_games": _i(1, null=True, example=20),
        "year_min": YEAR,
        "year_max": YEAR,
        "http.concurrency": _i(1, 64, example=2),
        "http.per_host_delay_s": WEIGHT,
        "http.timeout_s": POSITIVE,
        "http.max_attempts": _i(1, 20, example=4),
        "http.backoff_base_s": WEIGHT,
        "http.backoff_max_s": WEIGHT,
        "http.jitter": FRACTION,
        "http.max_retry_after_s": WEIGHT,
        "http.deadline_s": POSITIVE,
        "images.max_bytes": _i(1, example=5_000_000),
        "images.max_pixels": _i(1, example=89_478_485),
    },
    "detect": {
        "workers": _i(0),
        "limit": _i(1, null=True, example=100),
        "max_pixels": _i(1, example=89_478_485),
        "detector.scale_factor": Num(1, 4, lo_open=True, example=1.1),
        "detector.min_neighbors": _i(0, example=5),
        "detector.min_size": _i(1, example=24),
        "detector.zoom": POSITIVE,
        "detector.pad_value": _i(0, 255, example=255),
        "detector.min_face": _i(0),
        "detector.master_resolution": _i(8, 4096, example=256),
    },
    "tag": {
        "batch_size": _i(1, 4096, example=32),
        "num_workers": _i(0, 64, example=2),
        "max_pixels": _i(1, example=89_478_485),
    },
    "build": {
        "params.resolution": _i(4, 4096, example=128),
        "params.min_year": YEAR,
        "params.max_year": YEAR,
        "params.min_short_edge": _i(0),
        "params.near_distance": _i(0, 64, example=4),
        "params.mean_face_samples": _i(0),
        "params.tsne_samples": _i(0),
        "params.seed": SEED,
        "params.workers": _i(0),
    },
    "import": {
        "resolution": _i(8, 4096, example=64),
        "min_year": YEAR,
        "workers": _i(1, 64),
        "max_member_bytes": _i(1, example=100_000_000),
        "max_pixels": _i(1, example=89_478_485),
    },
    "render": {
        "n": _i(1, 10_000_000, example=4000),
        "resolution": _i(16, 4096, example=32),
        "seed": SEED,
        "workers": _i(1, 64, example=2),
    },
    "review": {
        "per_sheet": _i(1, 10_000, example=100),
        "ncol": _i(1, 100, example=10),
        "cell": _i(16, 1024, example=96),
    },
    "bench": {"threads": _i(1, 1024, null=True, example=2)},
    "convert_i2v": {"arch.width": _i(1, example=1), "arch.input_size": _i(32, 4096, example=224)},
}


def check_options(config_name: str, cfg: DictConfig) -> None:
    """Raise :class:`UserError` for the first option of ``cfg`` that breaks its rule."""
    for key, rule in RULES.get(config_name, {}).items():
        value = OmegaConf.select(cfg, key, default=_ABSENT)
        if value is _ABSENT:
            continue
        problem = rule.problem(value)
        if problem is not None:
            raise UserError(
                f"{key}={_show(value)} is not {problem}: use e.g. {key}={rule.valid()}."
            )


def _number(x: float | None) -> str | None:
    if x is None:
        return None
    return f"{int(x):,}" if float(x).is_integer() else f"{x:g}"


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, (DictConfig, ListConfig)):
        return str(OmegaConf.to_container(value))
    return str(value)
