"""Metric callbacks: SWD, FID and per-label precision every N iterations during training.

Each callback owns its protocol's torchmetrics objects (through :mod:`anime_gan.metrics.protocols`,
the same code as ``anime-gan evaluate``), runs on every process (each takes its slice of the
real images; the states add up in ``compute``), and then

- logs its numbers under ``val/...`` to every logger at the current step (directly, so a value
  is never dropped by ``log_every_n_steps``) and into ``trainer.callback_metrics`` (what a sweep
  optimises, through ``pl_module.log(logger=False)``);
- keeps the curve over iterations in its state (saved in checkpoints) and writes it as
  ``<run>/metrics/<name>.png`` + ``.csv`` (the paper's Fig. 10).

Real images are the DataModule's held-out split, or its training split when fewer than two
images per process are held out (``data.val_fraction=0``: the paper trains on every image).
Fakes come from the EMA generator, or with ``ema=False`` from the raw one (as the paper samples).

Own code: Lightning has no callback that runs the project's metric protocols.
"""

import logging
from functools import partial
from pathlib import Path
from typing import Any

import lightning as L
import torch

from anime_gan.charts import save_curve
from anime_gan.metrics.context import EvalContext
from anime_gan.metrics.features import StatsCache, load_i2v_features
from anime_gan.metrics.judge import load_i2v_judge, load_judge, load_judge_features
from anime_gan.metrics.precision_table import (
    precision_rows,
    wandb_table_rows,
    write_precision_table,
)
from anime_gan.metrics.protocols import PrecisionProtocol, get_protocol

log = logging.getLogger(__name__)


class MetricCallback(L.Callback):
    """Runs a named protocol (default: the class's) every ``every_n_iterations`` and at the last
    iteration; logs ``key`` (the protocol's first number: fid, swd, precision) and
    ``key/<name>`` for its other numbers; ``ema``: measure the EMA generator (True) or the raw
    one."""

    protocol_name = default_key = ""
    extractor: torch.nn.Module | None = None  # FIDCallback's feature network
    judge: Any = None  # PrecisionCallback's judge

    def __init__(
        self,
        every_n_iterations: int = 1000,
        protocol: str | None = None,
        key: str | None = None,
        batch_size: int = 64,
        seed: int = 0,
        dirpath: str | None = None,
        ema: bool = True,
    ) -> None:
        self.protocol = get_protocol(protocol or self.protocol_name)
        self.key = key or self.default_key
        self.every, self.batch_size, self.seed = every_n_iterations, batch_size, seed
        self.ema, self.dirpath, self._last = ema, dirpath, -1
        self.curve: list[tuple[int, float]] = []
        self.cache = StatsCache()  # real-set statistics, computed once per run

    def measure(self, ctx: EvalContext, trainer: L.Trainer) -> dict[str, float]:
        return self.protocol.run(ctx)

    def context(self, trainer: L.Trainer, pl_module: L.LightningModule) -> EvalContext:
        for net in (self.extractor, self.judge):
            if hasattr(net, "to"):  # not Illustration2Vec's judge: it stays where it was loaded
                net.to(pl_module.device)
        dm = trainer.datamodule
        held_out = dm.val_set is not None and len(dm.val_set) >= 2 * trainer.world_size
        return EvalContext(
            partial(pl_module.generate, ema=self.ema),
            pl_module.generator.z_dim,
            dm.empirical_prior,
            dm.val_set if held_out else dm.train_set,
            device=pl_module.device,
            batch_size=self.batch_size,
            seed=self.seed,
            cache=self.cache,
            rank=trainer.global_rank,
            world_size=trainer.world_size,
            extractor=self.extractor,
            judge=self.judge,
        )

    def folder(self, trainer: L.Trainer) -> Path:
        return Path(self.dirpath or Path(trainer.default_root_dir) / "metrics")

    def on_train_batch_end(self, trainer, pl_module, *args) -> None:
        it = pl_module.iteration
        last = trainer.max_steps > 0 and trainer.global_step >= trainer.max_steps
        if it == self._last or not ((self.every and it % self.every == 0) or last):
            return
        self._last = it
        values = self.measure(self.context(trainer, pl_module), trainer)
        headline, main = next(iter(values.items()))
        pl_module.log(self.key, main, on_step=True, on_epoch=False, logger=False, batch_size=1)
        self.curve.append((it, main))
        log.info("iteration %d: %s = %.4f", it, self.key, main)
        if not trainer.is_global_zero:
            return
        logged = {
            self.key: main,
            **{f"{self.key}/{k}": v for k, v in values.items() if k != headline},
        }
        name = self.key.replace("/", "_")
        png = save_curve(
            self.curve, self.folder(trainer), name, f"{self.key} over training", self.key
        )
        for logger in trainer.loggers:
            logger.log_metrics(logged, step=trainer.global_step)
            if hasattr(logger, "log_image"):
                logger.log_image(key=f"curves/{name}", images=[str(png)], step=trainer.global_step)

    def state_dict(self) -> dict[str, Any]:
        return {"curve": list(self.curve)}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.curve = [tuple(p) for p in state_dict["curve"]]


class SWDCallback(MetricCallback):
    """Multi-scale sliced Wasserstein distance (needs no weights): logs ``val/swd``."""

    protocol_name, default_key = "swd2k", "val/swd"


class FIDCallback(MetricCallback):
    """FID on Illustration2Vec features (``weights``: illust2vec_ver200.safetensors), on a trained
    judge's pooled features (``judge``: a folder from ``anime-gan judge-train``), or on any
    ``extractor`` with the torchmetrics contract: logs ``key`` (``val/fid_i2v`` by default;
    conf/callbacks/fid_judge.yaml logs ``val/fid_judge``) and its KID."""

    protocol_name, default_key = "fid2k", "val/fid_i2v"

    def __init__(
        self,
        weights: str | None = None,
        extractor: torch.nn.Module | None = None,
        judge: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if sum(x not in (None, "") for x in (weights, extractor, judge)) != 1:
            raise ValueError(
                "FIDCallback needs exactly one of weights (a safetensors path), "
                "judge (a judge folder) or extractor"
            )
        if judge:
            extractor = load_judge_features(judge)
        elif extractor is None:
            extractor = load_i2v_features(weights)
        self.extractor = extractor


class PrecisionCallback(MetricCallback):
    """Per-label precision judged by a trained judge folder (``anime-gan judge-train``) or by
    Illustration2Vec's tagger (``i2v_tagger``): logs ``val/precision`` and
    ``val/precision/<tag>``, writes the table to ``<run>/metrics/precision.md`` and a W&B table."""

    protocol_name, default_key = "precision8", "val/precision"

    def __init__(
        self, judge: str | None = None, i2v_tagger: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        if not isinstance(self.protocol, PrecisionProtocol):
            raise ValueError(f"{self.protocol.name} is not a precision protocol")
        if bool(judge) == bool(i2v_tagger):
            raise ValueError(
                "PrecisionCallback needs exactly one of judge (a folder) or i2v_tagger"
            )
        self.judge = load_judge(judge) if judge else load_i2v_judge(i2v_tagger)

    def measure(self, ctx: EvalContext, trainer: L.Trainer) -> dict[str, float]:
        result = self.protocol.result(ctx, keep_images=False)  # type: ignore[union-attr]
        if trainer.is_global_zero:
            rows = precision_rows(result, self.judge, self.protocol.per_tag)  # type: ignore[union-attr]
            write_precision_table(rows, self.folder(trainer), self.judge.name)
            columns, data = wandb_table_rows(rows)
            for logger in trainer.loggers:
                if hasattr(logger, "log_table"):
                    logger.log_table(
                        key="tables/precision", columns=columns, data=data, step=trainer.global_step
                    )
        return {"precision": result.mean, **result.precision}
