"""Every numeric and list-valued option of every stage, checked in one place before any work.

:func:`check_options` runs in each stage's entry point (``anime_gan.cli._hydra.stage``): a value
of the wrong type or out of range (``n=0``, ``iterations=abc``, ``data.batch_size=0``,
``model.lambda_adv=banana``, ``port=99999``, ``tags='blue hair'``) ends the command in one
sentence that names the option and a valid value, instead of a traceback later on. An option
that a config does not have is not checked (configs added later keep working).

Own code: OmegaConf checks types only (structured configs), never ranges, and fails in a traceback.
"""

import math
from dataclasses import dataclass
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

from anime_gan.errors import UserError

_ABSENT = object()


@dataclass(frozen=True)
class Real:
    """``Real(lo, hi, example)``: a number from ``lo`` (``lo_open``: above it) up to ``hi``
    (None: no upper bound); ``example`` is the valid value the message offers (default ``lo``);
    ``null``: None is allowed too (e.g. "no limit")."""

    lo: int
    hi: int | None = None
    example: Any = None
    null: bool = False
    lo_open: bool = False
    kind = "a number"
    types = (int, float)

    def problem(self, value: Any) -> str | None:
        """None when ``value`` fits, else what it should be (nan fails every comparison)."""
        if (
            isinstance(value, self.types)
            and not isinstance(value, bool)
            and (self.lo < value if self.lo_open else self.lo <= value)
            and value < math.inf
            and (self.hi is None or value <= self.hi)
        ):
            return None
        if self.hi is None:
            bounds = f"above {self.lo:,}" if self.lo_open else f"of at least {self.lo:,}"
        elif self.lo_open:
            bounds = f"above {self.lo:,} up to {self.hi:,}"
        else:
            bounds = f"from {self.lo:,} to {self.hi:,}"
        return f"{self.kind} {bounds}"

    @property
    def valid(self) -> Any:
        return self.lo if self.example is None else self.example


class Int(Real):
    """A whole number, bounded as :class:`Real`."""

    kind = "an integer"
    types = int


@dataclass(frozen=True)
class Words:
    """A list of strings (tag names, metric names...); ``valid``: one, as typed on the command
    line."""

    valid: str
    null: bool = False

    def problem(self, value: Any) -> str | None:
        fits = isinstance(value, ListConfig) and all(isinstance(v, str) for v in value)
        return None if fits else "a list of names"


SEED = Int(0, 2**63 - 1)
AT_LEAST_ZERO = Int(0)
AT_LEAST_ONE = Int(1)
FRACTION = Real(0, 1, 0.05)
POSITIVE = Real(0, example=1.0, lo_open=True)
WEIGHT = Real(0, example=1.0)
YEAR = Int(1900, 2100, 2006, null=True)
MAX_PIXELS = Int(1, example=89_478_485)
OPTIMIZERS = {f"model.optimizer_{n}.lr": Real(0, 1, 2e-4, lo_open=True) for n in "gd"}
DATA = {
    "data.batch_size": Int(1, 65536, 32),
    "data.resolution": Int(8, 4096, 64),
    "data.val_fraction": FRACTION,
    "data.split_seed": SEED,
}
TRAINING = {
    "iterations": Int(1, 10**9, 1000),
    "seed": SEED,
    **DATA,
    "trainer.num_nodes": AT_LEAST_ONE,
    "callbacks.every_n_iterations": Int(1, example=500),
    **OPTIMIZERS,
}
SAMPLING = {"batch_size": Int(1, 4096, 64), "seed": SEED, **DATA}

RULES: dict[str, dict[str, Real | Words]] = {
    "train": {
        **TRAINING,
        "model.lambda_adv": WEIGHT,
        "model.lambda_gp": WEIGHT,
        "model.lr_decay_start": AT_LEAST_ZERO,
        "model.lr_half_life": POSITIVE,
        "model.ema_decay": Real(0, 1, 0.999),
        "model.perturb_scale": WEIGHT,
        "model.fake_cls_weight": WEIGHT,
        "model.max_nonfinite": Int(1, example=20),
        "model.cls_weight": WEIGHT,
        "model.generator.channels": Int(1, example=64),
        "model.generator.num_res_blocks": Int(0, example=16),
        "model.generator.base_channels": Int(1, example=72),
        "model.discriminator.channels": Int(1, example=32),
        "model.discriminator.num_stages": Int(1, example=5, null=True),
    },
    "sr_train": {
        **TRAINING,
        "sr.adv_weight": WEIGHT,
        "sr.val_every": AT_LEAST_ONE,
        "data.max_val": AT_LEAST_ONE,
    },
    "generate": {
        **SAMPLING,
        "n": Int(1, 10_000, 16),
        "rows": Int(1, 256, 6),
        "cols": Int(1, 256, 8),
        "steps": Int(2, 256, 8),
        "neighbours": Int(1, 64, 3),
        "tags": Words("'[blue hair,smile]'", null=True),
    },
    "evaluate": {**SAMPLING, "metrics": Words("'[swd2k]'")},
    "report": {
        **SAMPLING,
        "judge_steps": AT_LEAST_ONE,
        "memorization_samples": Int(1, 1000, 8),
        "neighbours": Int(1, 64, 3),
        "sweep_tags": Words("'[smile,blue hair]'"),
    },
    "judge_train": {
        "seed": SEED,
        **DATA,
        "model.channels": AT_LEAST_ONE,
        "model.stages": AT_LEAST_ONE,
        "model.depth": AT_LEAST_ONE,
        "model.input_size": Int(8, 4096, null=True),
        "training.steps": AT_LEAST_ONE,
        "training.batch_size": AT_LEAST_ONE,
        "training.lr": POSITIVE,
        "training.weight_decay": WEIGHT,
        "training.min_positives": AT_LEAST_ONE,
    },
    "export": {"samples": Int(1, 1024, 16), "seed": SEED, "variants": Words("'[fp32,fp16,int8]'")},
    "serve": {
        "port": Int(0, 65535, 8000),
        "timeout": Real(0, example=1, null=True, lo_open=True),
        "max_body_bytes": Int(0, example=65536),
        "idle_timeout_s": Real(0, example=30, null=True, lo_open=True),
    },
    "crawl": {
        "max_games": Int(1, example=20, null=True),
        "year_min": YEAR,
        "year_max": YEAR,
        "http.concurrency": Int(1, 64, 2),
        "http.per_host_delay_s": WEIGHT,
        "http.timeout_s": POSITIVE,
        "http.max_attempts": Int(1, 20, 4),
        "http.backoff_base_s": WEIGHT,
        "http.backoff_max_s": WEIGHT,
        "http.jitter": FRACTION,
        "http.max_retry_after_s": WEIGHT,
        "http.deadline_s": POSITIVE,
        "images.max_bytes": Int(1, example=5_000_000),
        "images.max_pixels": MAX_PIXELS,
    },
    "detect": {
        "workers": AT_LEAST_ZERO,
        "limit": Int(1, example=100, null=True),
        "max_pixels": MAX_PIXELS,
        "detector.scale_factor": Real(1, 4, 1.1, lo_open=True),
        "detector.min_neighbors": Int(0, example=5),
        "detector.min_size": Int(1, example=24),
        "detector.zoom": POSITIVE,
        "detector.pad_value": Int(0, 255, 255),
        "detector.min_face": AT_LEAST_ZERO,
        "detector.master_resolution": Int(8, 4096, 256),
    },
    "tag": {
        "batch_size": Int(1, 4096, 32),
        "num_workers": Int(0, 64, 2),
        "max_pixels": MAX_PIXELS,
    },
    "build": {
        "params.resolution": Int(4, 4096, 128),
        "params.min_year": YEAR,
        "params.max_year": YEAR,
        "params.min_short_edge": AT_LEAST_ZERO,
        "params.near_distance": Int(0, 64, 4),
        "params.mean_face_samples": AT_LEAST_ZERO,
        "params.tsne_samples": AT_LEAST_ZERO,
        "params.seed": SEED,
        "params.workers": AT_LEAST_ZERO,
    },
    "import": {
        "resolution": Int(8, 4096, 64),
        "min_year": YEAR,
        "workers": Int(1, 64),
        "max_member_bytes": Int(1, example=100_000_000),
        "max_pixels": MAX_PIXELS,
    },
    "render": {
        "n": Int(1, 10_000_000, 4000),
        "resolution": Int(16, 4096, 32),
        "seed": SEED,
        "workers": Int(1, 64, 2),
    },
    "review": {
        "per_sheet": Int(1, 10_000, 100),
        "ncol": Int(1, 100, 10),
        "cell": Int(16, 1024, 96),
    },
    "bench": {"threads": Int(1, 1024, 2, null=True)},
    "convert_i2v": {"arch.width": AT_LEAST_ONE, "arch.input_size": Int(32, 4096, 224)},
}


def check_options(config_name: str, cfg: DictConfig) -> None:
    """Raise :class:`UserError` for the first option of ``cfg`` that breaks its rule."""
    for key, rule in RULES.get(config_name, {}).items():
        value = OmegaConf.select(cfg, key, default=_ABSENT)
        if value is _ABSENT or (value is None and rule.null):
            continue
        problem = "a value (it may not be null)" if value is None else rule.problem(value)
        if problem:
            raise UserError(f"{key}={value!r} is not {problem}: use e.g. {key}={rule.valid}.")
