"""The conditional DRAGAN + ACGAN training module (paper section 4.3).

Per batch (manual optimisation, as Lightning's GAN example), with the objective of
:mod:`anime_gan.models.objective`:

- D step: L(D) = L_cls(D) + lambda_adv * L_adv(D) + lambda_gp * L_gp(D)
- G step: L(G) = lambda_adv * L_adv(G) + L_cls(G)

Fake conditions c are drawn from the training prior (uniform hair/eye color, Bernoulli(0.25)
for the rest). The generator runs once per iteration: its output is detached for the D step
and reused, with its graph, for the G step.
"""

import logging
import math
from collections.abc import Callable
from dataclasses import fields
from functools import partial
from typing import Any

import lightning as L
import torch
from torch import nn

from anime_gan.data.priors import LabelPrior
from anime_gan.models.ema import EMA
from anime_gan.models.guard import NonFiniteGuard
from anime_gan.models.objective import Objective

log = logging.getLogger(__name__)

OptimizerFactory = Callable[..., torch.optim.Optimizer]

#: The paper's Adam (section 5.1.1: 2e-4, betas (0.5, 0.999)), for G and D alike.
PAPER_ADAM = partial(torch.optim.Adam, lr=2e-4, betas=(0.5, 0.999))


class ConditionalGAN(L.LightningModule):
    """SRResNet G + ResNet D trained with ACGAN classification and the DRAGAN penalty.

    Args:
        generator, discriminator: the networks (``anime_gan.models``), built by Hydra.
        optimizer_g, optimizer_d: partial optimizers (Adam 2e-4, betas (0.5, 0.999) in the paper).
        lambda_adv, lambda_gp: the loss weights (34 = the number of tags, and 0.5).
        lr_decay_start: iteration after which the learning rate decays exponentially ...
        lr_half_life: ... halving every this many iterations.
        ema_decay: decay of the generator's EMA copy (0 disables the averaging).
        perturb_scale: DRAGAN's perturbation 0.5 * std(x).
        fake_cls_weight: weight of D's classification loss on fakes with their sampled c (the
            paper: 1). At 0 D's classifier learns from real labels only, so G cannot make the
            tags readable by a pattern D was taught on fakes (an ACGAN failure in short runs:
            docs/training_notes.md; conf/model/small.yaml uses 0).
        adv_loss, penalty, cls_weight, augment, gp_every: options beyond the paper (``bce``,
            ``dragan``, 1, none and 1 in the paper): see :class:`anime_gan.models.objective.Objective`.
        max_nonfinite: consecutive non-finite iterations tolerated (skipped) before stopping.
        seed: seed of the module's own random stream (z, c, penalty), saved in checkpoints.
    """

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        optimizer_g: OptimizerFactory = PAPER_ADAM,
        optimizer_d: OptimizerFactory = PAPER_ADAM,
        lambda_adv: float = 34.0,
        lambda_gp: float = 0.5,
        lr_decay_start: int = 50_000,
        lr_half_life: int = 50_000,
        ema_decay: float = 0.999,
        perturb_scale: float = 0.5,
        fake_cls_weight: float = 1.0,
        max_nonfinite: int = 20,
        seed: int = 0,
        adv_loss: str = "bce",
        penalty: str = "dragan",
        cls_weight: float = 1.0,
        augment: str | list[str] | None = None,
        gp_every: int = 1,
    ) -> None:
        super().__init__()
        if augment is not None and not isinstance(augment, str):  # a config list: kept as text,
            augment = ",".join(str(a) for a in augment)  # so checkpoints load with weights_only
        self.automatic_optimization = False
        self.save_hyperparameters(
            ignore=["generator", "discriminator", "optimizer_g", "optimizer_d"]
        )
        self.generator, self.discriminator = generator, discriminator
        self.generator_ema = EMA(generator, ema_decay)
        self.optimizer_g, self.optimizer_d = optimizer_g, optimizer_d
        self.objective = Objective(**{f.name: self.hparams[f.name] for f in fields(Objective)})
        self.prior = LabelPrior.training()
        self.iteration = 0  # Lightning's global_step counts both optimizers' steps
        # Tags labelled somewhere in the training set (on_fit_start); None: all 34 are.
        self.tag_mask: torch.Tensor | None = None
        self.guard = NonFiniteGuard(max_nonfinite)
        self._rng: torch.Generator | None = None
        self._rng_state: torch.Tensor | None = None

    # -- set-up -------------------------------------------------------------------------------
    def configure_optimizers(self):
        opt_g = self.optimizer_g(params=self.generator.parameters())
        opt_d = self.optimizer_d(params=self.discriminator.parameters())
        start, half = self.hparams.lr_decay_start, self.hparams.lr_half_life

        def factor(it: int) -> float:  # lr(it) = lr0 * 2^(-(it - start) / half) after start
            return 1.0 if it < start else math.pow(0.5, (it - start) / half)

        sched = [torch.optim.lr_scheduler.LambdaLR(o, factor) for o in (opt_g, opt_d)]
        return [opt_g, opt_d], sched

    def on_fit_start(self) -> None:
        dm = self.trainer.datamodule  # a FaceDataModule; None under a bare DataLoader (tests)
        if dm is not None:
            # saved in checkpoints for generate/evaluate/export (the generation prior, docs/design.md)
            self.export_prior = dm.empirical_prior.to_dict()
            self.set_tag_mask(torch.as_tensor(dm.train_set.known.any(axis=0)))

    def set_tag_mask(self, labelled: torch.Tensor) -> None:
        """Keep the classification losses on fakes to the tags the training set labels.

        D's classifier learns a tag from real labels. A tag no real image labels (9 of the 34
        in mlds96: styles, expressions, accessories; all 34 in getchu64) could only be learnt
        from the fakes' sampled c (G and D agreeing on an arbitrary pattern), or not at all (G
        chasing an untrained head). Its L_cls terms on fakes are masked out, for D and G. With
        no labelled tag the model trains unconditionally.
        """
        labelled = labelled.bool().flatten()
        if labelled.all():
            self.tag_mask = None
            return
        self.tag_mask = labelled.to(self.device)
        if not labelled.any():
            log.warning(
                "the training set has no known tag: the classification losses are off and "
                "the model trains unconditionally (its tag inputs will have no effect)"
            )
        else:
            log.info(
                "the training set labels %d of %d tags: L_cls on fakes covers only those",
                int(labelled.sum()),
                labelled.numel(),
            )

    @property
    def rng(self) -> torch.Generator:
        """The module's random stream on its device: same draws after a resume."""
        if self._rng is None or self._rng.device != self.device:
            self._rng = torch.Generator(device=self.device)
            self._rng.manual_seed(self.hparams.seed * 1000 + self.global_rank)
            if self._rng_state is not None:
                self._rng.set_state(self._rng_state)
                self._rng_state = None
        return self._rng

    # -- the training step ----------------------------------------------------------------------
    def training_step(self, batch: tuple[torch.Tensor, ...], batch_idx: int) -> None:
        real, labels, known = batch
        opt_g, opt_d = self.optimizers()
        # z ~ N(0, I) and c ~ the training prior, drawn on the module's device
        z = torch.randn(len(real), self.generator.z_dim, generator=self.rng, device=self.device)
        c = self.prior.sample(len(real), generator=self.rng, device=self.device)
        fake = self.generator(z, c)
        fake_known = None if self.tag_mask is None else self.tag_mask.expand_as(c)

        # D step: real -> 1 with its known tags, fake -> 0 with its sampled tags, the penalty.
        self.toggle_optimizer(opt_d)
        loss_d, d_terms = self.objective.discriminator_loss(
            self.discriminator, real, labels, known, fake, c, fake_known, self.rng, self.iteration
        )
        d_ok = self.guard.step(self, opt_d, loss_d)
        self.untoggle_optimizer(opt_d)

        # G step: fake -> 1 and classified as its c.
        self.toggle_optimizer(opt_g)
        loss_g, g_terms = self.objective.generator_loss(
            self.discriminator, fake, c, fake_known, self.rng
        )
        g_ok = self.guard.step(self, opt_g, loss_g)
        self.untoggle_optimizer(opt_g)

        self.generator_ema.update(self.generator)  # a skipped step left G unchanged
        self.guard.count(self, d_ok & g_ok, self.iteration)
        self.iteration += 1
        # per step, not per epoch: Lightning's default in training_step
        self.log_dict({f"train/{k}": v for k, v in {**d_terms, **g_terms}.items()})
        self.log("train/lr", opt_g.param_groups[0]["lr"])  # the lr this iteration used
        self.log("iteration", float(self.iteration), prog_bar=True)
        for sched in self.lr_schedulers():
            sched.step()

    # -- sampling -----------------------------------------------------------------------------
    @torch.no_grad()
    def generate(self, z: torch.Tensor, c: torch.Tensor, ema: bool = True) -> torch.Tensor:
        """Images in [-1, 1] from the EMA generator (or the raw one), in eval mode."""
        g = self.generator_ema.module if ema else self.generator
        was_training = g.training
        g.eval()
        try:
            return g(z.to(self.device), c.to(self.device)).float()
        finally:
            g.train(was_training)

    # -- checkpoints ----------------------------------------------------------------------------
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["anime_gan"] = {
            "iteration": self.iteration,
            "nonfinite_total": self.guard.total,
            "generator_config": self.generator.config(),
            "discriminator_config": self.discriminator.config(),
            "rng_state": self.rng.get_state().cpu(),
            "prior": getattr(self, "export_prior", None),
        }

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        state = checkpoint["anime_gan"]  # resumable_checkpoint let only this project's through
        self.iteration, self.guard.total = state["iteration"], state["nonfinite_total"]
        self._rng, self._rng_state = None, state["rng_state"]
