"""Training speed: iterations per second of the training steps alone.

Listed first among the callbacks, its ``on_train_batch_end`` runs before the metric and sample
callbacks', so the time it adds up is Lightning's loop and the module's step, not the SWD or
precision evaluations. Logged as ``train/it_per_s`` (the running mean) and said once at the end,
so runs of different recipes can be compared at equal wall-clock (docs/ablation.md). The
process's CPU time over the same steps is said beside it: with one thread per run it hardly
depends on what else the machine is doing, where the wall time does.
"""

import logging
import time

import lightning as L

log = logging.getLogger(__name__)


class TrainingSpeed(L.Callback):
    """Adds up the wall time from each batch's start to the end of its training step."""

    def __init__(self, warmup: int = 5) -> None:
        self.warmup, self.seconds, self.cpu_seconds, self.iterations = warmup, 0.0, 0.0, 0
        self._start = (0.0, 0.0)

    def on_train_batch_start(self, trainer, pl_module, *args) -> None:
        self._start = (time.perf_counter(), time.process_time())

    def on_train_batch_end(self, trainer, pl_module, *args) -> None:
        wall, cpu = self._start
        self.warmup -= 1
        if self.warmup >= 0:  # the first steps allocate and warm caches
            return
        self.seconds += time.perf_counter() - wall
        self.cpu_seconds += time.process_time() - cpu
        self.iterations += 1
        pl_module.log("train/it_per_s", self.iterations_per_s, on_step=True, on_epoch=False)

    @property
    def iterations_per_s(self) -> float:
        return self.iterations / self.seconds if self.seconds else float("nan")

    def on_train_end(self, trainer, pl_module) -> None:
        if self.iterations:
            log.info(
                "training steps: %.2f iterations/s over %d iterations (%.1f s, %.1f s of CPU "
                "time; metrics, samples and checkpoints not counted)",
                self.iterations_per_s,
                self.iterations,
                self.seconds,
                self.cpu_seconds,
            )
