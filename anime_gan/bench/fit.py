"""End-to-end training speed: the real ConditionalGAN under a Lightning Trainer.

Where :func:`anime_gan.bench.throughput.measure_training` times the compute of one iteration,
this runs what ``anime-gan train`` runs (the datamodule's GPU-resident uint8 set and its
on-device conversion, the module's step with its logging, EMA update, lr schedule and non-finite
guard, Lightning's loop), so the difference between the two is the overhead of everything
around the compute.

Own code: a clock callback, since Lightning has no iteration timer that synchronises the device.
"""

import contextlib
import logging
import tempfile
import time
import warnings
from typing import Any

import lightning as L
import numpy as np
import torch

from anime_gan.bench.step import Variant, build_networks
from anime_gan.bench.timing import (
    counting_host_syncs,
    peak_memory_mib,
    reset_peak_memory,
    row_key,
    synchronize,
)
from anime_gan.callbacks.channels_last import ChannelsLast
from anime_gan.data.datamodule import FaceDataModule
from anime_gan.data.dataset import FaceDataset
from anime_gan.data.priors import LabelPrior
from anime_gan.models.module import ConditionalGAN


class IterationClock(L.Callback):
    """Wall time of the iterations after ``warmup`` (device synchronised at both ends only), and
    on a GPU the host-GPU synchronisations of the last warm-up iteration (sync debug mode)."""

    def __init__(self, warmup: int) -> None:
        self.warmup, self.start, self.seconds, self.iterations = max(1, warmup), 0.0, 0.0, 0
        self.host_syncs: int | None = None
        self._counting = contextlib.ExitStack()

    def on_train_batch_start(self, trainer, pl_module, *args) -> None:
        if pl_module.iteration == self.warmup - 1 and pl_module.device.type == "cuda":
            self._count = self._counting.enter_context(counting_host_syncs())
        if pl_module.iteration == self.warmup:
            synchronize(pl_module.device)
            self.start = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, *args) -> None:
        if pl_module.iteration == self.warmup and pl_module.device.type == "cuda":
            self._counting.close()
            self.host_syncs = self._count[0]

    def on_train_end(self, trainer, pl_module) -> None:
        synchronize(pl_module.device)
        self.seconds = time.perf_counter() - self.start
        self.iterations = pl_module.iteration - self.warmup


def synthetic_datamodule(resolution: int, batch: int) -> FaceDataModule:
    """A FaceDataModule over eight batches of random uint8 faces held in memory (on the GPU when
    there is one)."""
    n = batch * 8
    labels = LabelPrior.training().sample(n, generator=torch.Generator().manual_seed(0)).numpy()
    labels = labels.astype(np.uint8)
    images = np.random.default_rng(0).integers(0, 256, (n, resolution, resolution, 3), np.uint8)
    dm = FaceDataModule(
        path="<synthetic>", resolution=resolution, batch_size=batch, val_fraction=0.0, device="auto"
    )
    dm.train_set = FaceDataset(
        images, labels, np.ones_like(labels), [{"id": str(i)} for i in range(n)]
    )
    return dm


def measure_fit(
    entry: dict[str, Any], model: dict[str, Any], device: torch.device
) -> dict[str, Any]:
    """Iterations/s of ``trainer.fit`` for a fit ``entry`` (model, batch, variant): ``iterations``
    iterations timed after ``warmup`` ones."""
    batch, variant = int(entry["batch"]), Variant.parse(entry["variant"])
    warmup, iterations = int(entry["warmup"]), int(entry["iterations"])
    adam = variant.adam()
    module = ConditionalGAN(*build_networks(model, "cpu"), optimizer_g=adam, optimizer_d=adam)
    clock = IterationClock(warmup)
    lightning_log = logging.getLogger("lightning.pytorch")
    level = lightning_log.level
    lightning_log.setLevel(logging.WARNING)  # no "GPU available" banners in the bench's output
    try:
        trainer = L.Trainer(
            accelerator=device.type,
            devices=1,
            precision="bf16-mixed" if variant.precision == "bf16" else "32-true",
            max_steps=2 * (warmup + iterations),
            logger=False,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            callbacks=[clock, ChannelsLast()] if variant.channels_last else [clock],
            default_root_dir=tempfile.gettempdir(),
        )
        reset_peak_memory(device)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            trainer.fit(module, datamodule=synthetic_datamodule(int(model["resolution"]), batch))
    finally:
        lightning_log.setLevel(level)
    its = clock.iterations / clock.seconds
    return {
        **row_key(entry["model"], model, device, entry["variant"], batch),
        "iterations_per_s": its,
        "images_per_s": its * batch,
        "ms_per_iteration": 1e3 / its,
        "timed_iterations": clock.iterations,
        "warmup_iterations": clock.warmup,
        "host_syncs_per_iteration": clock.host_syncs,
        **peak_memory_mib(device),
    }
