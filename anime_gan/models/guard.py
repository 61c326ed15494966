"""The non-finite guard: an optimizer step whose loss is NaN or inf is skipped, and a run whose
losses stay non-finite stops with one sentence (training diverged).

One counting path for every optimizer: the finiteness of each iteration stays a flag on the
device and is read every ``max_in_a_row`` iterations (one host sync each), so a diverged run
stops at most ``max_in_a_row - 1`` iterations late; the skipped steps changed no weights.
"""

import logging

import lightning as L
import torch

log = logging.getLogger(__name__)


class NonFiniteLossError(RuntimeError):
    """Training diverged: ``max_nonfinite`` iterations in a row had a non-finite loss."""


class NonFiniteGuard:
    """Steps optimizers unless their loss is non-finite, and counts the iterations that were."""

    def __init__(self, max_in_a_row: int) -> None:
        self.max_in_a_row = max_in_a_row
        self.total = 0  # non-finite iterations of the whole run (saved in checkpoints)
        self._counts: torch.Tensor | None = None  # [current run, longest run, count] since a read

    def step(
        self, module: L.LightningModule, opt: torch.optim.Optimizer, loss: torch.Tensor
    ) -> torch.Tensor:
        """Backward and step, unless ``loss`` is NaN/inf; returns the flag ``isfinite(loss)``."""
        opt.zero_grad(set_to_none=True)
        finite = torch.isfinite(loss.detach())
        module.manual_backward(loss)
        inner = opt.optimizer  # the torch optimizer in Lightning's LightningOptimizer
        if inner.defaults.get("fused"):
            # Fused Adam/AdamW skip on the device when `found_inf` is set, the flag torch's own
            # GradScaler hands them: weights, moments and step count unchanged, no host sync.
            inner.found_inf = (~finite).float()
            try:
                opt.step()
            finally:
                del inner.found_inf
        elif finite.item():  # any other optimizer: one host sync (free on a CPU)
            opt.step()
        return finite

    def count(self, module: L.LightningModule, ok: torch.Tensor, iteration: int) -> None:
        """Record one iteration (``ok``: all its losses were finite); every ``max_in_a_row``
        iterations, log the count and raise :class:`NonFiniteLossError` on a long enough run."""
        if self._counts is None:
            self._counts = torch.zeros(3, dtype=torch.long, device=ok.device)
        bad = (~ok).long()
        run = (self._counts[0] + 1) * bad
        self._counts = torch.stack(
            [run, torch.maximum(self._counts[1], run), self._counts[2] + bad]
        )
        if (iteration + 1) % self.max_in_a_row:
            return
        run, longest, count = self._counts.tolist()
        self._counts = torch.tensor([run, 0, 0], device=ok.device)
        if count:
            log.warning("iterations up to %d: %d non-finite, steps skipped", iteration, count)
            self.total += count
            module.log("train/nonfinite_total", float(self.total))  # per step (training_step)
        if longest >= self.max_in_a_row:
            raise NonFiniteLossError(
                f"{longest} iterations in a row had non-finite losses (up to iteration "
                f"{iteration}): training diverged; lower the learning rate or raise "
                f"model.lambda_gp, and resume from the last good checkpoint."
            )
