"""sr_train(cfg): data -> model -> callbacks -> loggers -> trainer, fit, then measure the result.

The same wiring as :func:`anime_gan.train.train` (whose helpers it imports), plus the end-of-run
report of :mod:`anime_gan.superres.report` on the held-out pairs, logged under ``measure/...``.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import lightning as L
import torch
from omegaconf import DictConfig

from anime_gan.superres.report import model_label, run_report
from anime_gan.train import _finish_loggers, build_run, fit

log = logging.getLogger(__name__)


def sr_train(cfg: DictConfig) -> dict[str, float]:
    """Train the upscaler the config describes; returns the callback and measure metrics."""
    datamodule, model, callbacks, loggers, trainer = build_run(cfg)

    start = time.perf_counter()
    try:
        fit(trainer, model, datamodule, cfg.get("ckpt_path"), callbacks)
        seconds = time.perf_counter() - start
        metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if v.numel() == 1}
        if cfg.measure and trainer.is_global_zero and len(datamodule.val_hi):
            metrics.update(
                _measure(model, datamodule, Path(trainer.default_root_dir), seconds, loggers)
            )
    finally:
        _finish_loggers(loggers)
    log.info(
        "finished at iteration %d in %.0f s; run folder %s",
        model.iteration,
        seconds,
        trainer.default_root_dir,
    )
    return metrics


def _measure(
    model: L.LightningModule, datamodule: Any, out: Path, seconds: float, loggers: list[Any]
) -> dict[str, float]:
    """The run report (measure.json/.md, sheet.png) and its numbers as ``measure/<method>/<x>``."""
    upscaler = model.upscaler.cpu()
    info = {
        "adv_weight": float(model.hparams.adv_weight),
        "pixel_loss": model.hparams.pixel_loss,
        "iteration": model.iteration,
        "init_from": model.hparams.init_from,
        "fit_seconds": round(seconds, 1),
        "threads": torch.get_num_threads(),
        "data": datamodule.describe(),
        "upscaler_config": upscaler.config(),
    }
    rows = run_report(upscaler, datamodule.val_lo, datamodule.val_hi, out, info)
    label = model_label(info["adv_weight"])
    metrics = {
        f"measure/{'model' if row['method'] == label else row['method']}/{key}": float(row[key])
        for row in rows
        for key in ("psnr", "ssim", "sharpness_ratio")
    }
    for logger in loggers:
        logger.log_metrics(metrics, step=model.iteration)
    log.info("measured on %d held-out pairs: %s", len(datamodule.val_hi), out / "measure.md")
    return metrics
