"""train(cfg): instantiate data -> model -> callbacks -> loggers -> trainer, fit, return the metric.

The only logic here is the wiring; everything else lives in the objects the config names.
"""

import logging
import os
import warnings
from pathlib import Path
from typing import Any

import hydra
import lightning as L
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from omegaconf import DictConfig, OmegaConf

from anime_gan.models.checkpoint import (
    AtomicCheckpointIO,
    remove_stale_temporaries,
    resumable_checkpoint,
)

log = logging.getLogger(__name__)


def _instantiate_list(cfg: DictConfig | None) -> list[Any]:
    return [
        hydra.utils.instantiate(c)
        for c in (cfg or {}).values()
        if isinstance(c, DictConfig) and "_target_" in c
    ]


def build_run(
    cfg: DictConfig,
) -> tuple[L.LightningDataModule, L.LightningModule, list[Any], list[Any], L.Trainer]:
    """Seed, then instantiate data -> model -> callbacks -> loggers -> trainer from ``cfg``.

    Shared by the GAN's :func:`train` and the upscaler's ``sr_train``.
    """
    # Lightning's notes that do not apply here: checkpoints after the step are what we want,
    # and the EMA generator is in eval mode on purpose.
    warnings.filterwarnings(
        "ignore", message=".*(no pre-optimization state was saved|module\\(s\\) in eval mode)"
    )
    if cfg.get("seed") is not None:
        L.seed_everything(cfg.seed, workers=True)
    if cfg.get("matmul_precision"):
        torch.set_float32_matmul_precision(cfg.matmul_precision)
    if cfg.get("cudnn_tf32") is not None:  # the legacy flag (PyTorch refuses a mix of its two APIs)
        torch.backends.cudnn.allow_tf32 = bool(cfg.cudnn_tf32)
    if cfg.get("logger") and any("Wandb" in str(c.get("_target_")) for c in cfg.logger.values()):
        os.environ.setdefault("WANDB_MODE", "offline")  # no account or network needed

    datamodule = hydra.utils.instantiate(cfg.data)
    model = hydra.utils.instantiate(cfg.model)
    callbacks = _instantiate_list(cfg.get("callbacks"))
    loggers = _instantiate_list(cfg.get("logger"))
    trainer = hydra.utils.instantiate(
        cfg.trainer,
        callbacks=callbacks,
        logger=loggers or False,
        plugins=[AtomicCheckpointIO()],
    )
    for logger in loggers:
        logger.log_hyperparams(OmegaConf.to_container(cfg, resolve=True))
    return datamodule, model, callbacks, loggers, trainer


def optimized_metric(cfg: DictConfig, metrics: dict[str, float]) -> float | None:
    """The value of ``cfg.optimized_metric`` (what a Hydra sweep optimises), or None."""
    name = cfg.get("optimized_metric")
    if name and name not in metrics:
        print(f"warning: optimized_metric {name!r} was not logged; logged: {sorted(metrics)}")
    return metrics.get(name)


def train(cfg: DictConfig) -> dict[str, Any]:
    """Train the model the config describes; returns the callback metrics (floats)."""
    datamodule, model, callbacks, loggers, trainer = build_run(cfg)
    try:
        fit(trainer, model, datamodule, cfg.get("ckpt_path"), callbacks)
        # last.ckpt at the end too: ModelCheckpoint saves only every N steps, so a run whose
        # length is not a multiple of N would otherwise end with an older last.ckpt
        for cb in callbacks:
            if isinstance(cb, ModelCheckpoint) and cb.save_last and cb.dirpath:
                # every rank calls it; rank 0 writes (atomically), with the optimizer states
                trainer.save_checkpoint(Path(cb.dirpath) / "last.ckpt", weights_only=False)
    finally:
        _finish_loggers(loggers)
    metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if v.numel() == 1}
    log.info(
        "finished at iteration %d; checkpoints in %s",
        model.iteration,
        Path(trainer.default_root_dir) / "checkpoints",
    )
    return metrics


def fit(
    trainer: L.Trainer,
    model: L.LightningModule,
    datamodule: L.LightningDataModule,
    ckpt_path: str | None,
    callbacks: list[Any],
) -> None:
    """``trainer.fit``, resuming from ``ckpt_path`` (a path, or ``last``: the run folder's
    last.ckpt; without one the run starts from iteration 0, said in one log line), checked and
    loaded with ``weights_only=True``: a checkpoint can carry tensors and plain data, never code."""
    folder = next(
        (Path(cb.dirpath) for cb in callbacks if isinstance(cb, ModelCheckpoint) and cb.dirpath),
        None,
    )
    if folder is not None:
        for tmp in remove_stale_temporaries(folder):
            log.info("removed %s, left by a save that was killed", tmp)
    if str(ckpt_path) == "last":
        ckpt_path = folder / "last.ckpt" if folder is not None else None
        if ckpt_path is None or not ckpt_path.exists():
            log.info(
                "ckpt_path=last: no checkpoint in %s yet, so training starts from iteration 0.",
                folder,
            )
            ckpt_path = None
    resume = str(resumable_checkpoint(Path(ckpt_path))) if ckpt_path else None
    trainer.fit(model, datamodule=datamodule, ckpt_path=resume, weights_only=True)


def _finish_loggers(loggers: list[Any]) -> None:
    """Close W&B runs so that one failed job does not end a whole multirun."""
    for logger in loggers:
        if hasattr(getattr(logger, "_experiment", None), "finish"):  # a started W&B run
            logger._experiment.finish()
