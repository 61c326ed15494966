"""SRGAN training (paper 5.5): a pixel loss plus ``adv_weight`` times an adversarial loss.

Per batch of (input x, original y), with manual optimisation as the main GAN module:

- D step (only when ``adv_weight > 0``): L(D) = L_adv(D) on y (real) and G(x) (fake);
- G step: L(G) = pixel(G(x), y) + adv_weight * L_adv(G), pixel = L1 or MSE in [-1, 1] units.

``adv_weight = 0`` is the plain pixel-loss upscaler (SRResNet): the critic then neither runs nor
learns, but its optimizer still takes an empty step, so that Lightning's ``global_step`` counts
two optimizer steps per iteration in every configuration (``trainer.max_steps`` and checkpoint
intervals are derived from that, as in the main training).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import lightning as L
import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics.image import PeakSignalNoiseRatio, StructuralSimilarityIndexMeasure

from anime_gan.models.losses import d_adversarial_loss, g_adversarial_loss

log = logging.getLogger(__name__)

OptimizerFactory = Callable[..., torch.optim.Optimizer]
PIXEL_LOSSES = {"l1": F.l1_loss, "mse": F.mse_loss}


class SuperResolutionGAN(L.LightningModule):
    """The 2x upscaler and its critic (``anime_gan.superres.model``), built by Hydra.

    Args:
        upscaler, discriminator: the networks.
        optimizer_g, optimizer_d: partial optimizers (Adam, betas (0.9, 0.999) as SRGAN; G 1e-4 as
            SRGAN, D 4e-4 so that the critic keeps up in short runs).
        adv_weight: weight of the adversarial term in L(G) (SRGAN: 1e-3); 0 = pixel loss only.
        pixel_loss: "l1" or "mse".
        init_from: an ``sr-train`` checkpoint whose upscaler weights start this run (SRGAN starts
            its GAN from the trained pixel-loss model); a resumed run's own weights replace them.
    """

    def __init__(
        self,
        upscaler: nn.Module,
        discriminator: nn.Module,
        optimizer_g: OptimizerFactory,
        optimizer_d: OptimizerFactory,
        adv_weight: float = 0.0,
        pixel_loss: str = "l1",
        init_from: str | None = None,
    ) -> None:
        super().__init__()
        if pixel_loss not in PIXEL_LOSSES:
            raise ValueError(
                f"pixel_loss must be one of {sorted(PIXEL_LOSSES)}, got {pixel_loss!r}"
            )
        self.automatic_optimization = False
        self.save_hyperparameters(
            ignore=["upscaler", "discriminator", "optimizer_g", "optimizer_d"]
        )
        self.upscaler, self.discriminator = upscaler, discriminator
        self.optimizer_g, self.optimizer_d = optimizer_g, optimizer_d
        self.iteration = 0  # Lightning's global_step counts both optimizers' steps
        self.val_psnr = PeakSignalNoiseRatio(data_range=1.0, dim=(1, 2, 3))  # per image, averaged
        self.val_ssim = StructuralSimilarityIndexMeasure(data_range=1.0)
        if init_from:
            from anime_gan.superres.model import load_upscaler

            self.upscaler.load_state_dict(load_upscaler(init_from)[0].state_dict())
            log.info("upscaler initialised from %s", init_from)

    def configure_optimizers(self) -> list[torch.optim.Optimizer]:
        return [
            self.optimizer_g(params=self.upscaler.parameters()),
            self.optimizer_d(params=self.discriminator.parameters()),
        ]

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        lo, hi = batch
        opt_g, opt_d = self.optimizers()
        weight = float(self.hparams.adv_weight)
        fake = self.upscaler(lo)
        logs = {}

        opt_d.zero_grad(set_to_none=True)
        if weight > 0:  # real originals -> 1, upscaled inputs -> 0 (fake detached: D alone learns)
            logs["train/d_adv"] = d_adversarial_loss(
                self.discriminator(hi), self.discriminator(fake.detach())
            )
            self.manual_backward(logs["train/d_adv"])
        opt_d.step()  # with no gradients (weight 0) an empty step: it only advances global_step

        self.toggle_optimizer(opt_g)  # D's weights frozen while G's loss backpropagates through D
        opt_g.zero_grad(set_to_none=True)
        logs["train/pixel"] = loss = PIXEL_LOSSES[self.hparams.pixel_loss](fake.float(), hi.float())
        if weight > 0:
            logs["train/g_adv"] = g_adversarial_loss(self.discriminator(fake))
            loss = loss + weight * logs["train/g_adv"]
        logs["train/g_loss"] = loss
        self.manual_backward(loss)
        opt_g.step()
        self.untoggle_optimizer(opt_g)

        self.iteration += 1
        self.log_dict({k: v.detach() for k, v in logs.items()}, on_step=True, on_epoch=False)
        self.log("iteration", float(self.iteration), on_step=True, on_epoch=False, prog_bar=True)

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        """PSNR / SSIM of the upscaled held-out inputs (in [0, 1], clamped, not quantised)."""
        lo, hi = batch
        sr, target = (self.upscaler(lo).float().clamp(-1, 1) + 1) / 2, (hi.float() + 1) / 2
        self.val_psnr.update(sr, target)
        self.val_ssim.update(sr, target)
        self.log("val/psnr", self.val_psnr, on_step=False, on_epoch=True, prog_bar=True)
        self.log("val/ssim", self.val_ssim, on_step=False, on_epoch=True)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["anime_gan"] = {
            "iteration": self.iteration,
            "upscaler_config": self.upscaler.config(),
            "discriminator_config": self.discriminator.config(),
            "adv_weight": float(self.hparams.adv_weight),
            "pixel_loss": self.hparams.pixel_loss,
            "data": self.trainer.datamodule.describe(),  # what it was trained on
        }

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self.iteration = checkpoint["anime_gan"]["iteration"]
