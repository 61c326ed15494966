"""One training iteration of the GAN without Lightning, for FLOP counts and timings.

Own code because ``ConditionalGAN.training_step`` needs a Trainer (its optimizers, toggling,
lr schedulers and logging) and the FLOP counts run on the meta device, where the module's random
stream cannot live. The losses are the module's own (:class:`anime_gan.models.objective.Objective`,
the paper's by default), in the same order: G forward once; D step (L(D), one backward, Adam
step); G step (D frozen as Lightning's ``toggle_optimizer`` freezes it, L(G) backward through D
into G, Adam step). It leaves out what is not compute: logging, the EMA copy, the lr schedule and
the non-finite guard. The networks and optimizers are the project's own, so the figures are
those of the real models.
"""

import contextlib
from dataclasses import dataclass
from functools import partial
from typing import Any

import torch
from torch import Tensor, nn

from anime_gan.data.priors import LabelPrior
from anime_gan.models.discriminator import ResNetDiscriminator
from anime_gan.models.generator import SRResNetGenerator
from anime_gan.models.module import PAPER_ADAM
from anime_gan.models.objective import Objective


@dataclass(frozen=True)
class Variant:
    """How a measurement runs: ``"bf16+cl+fused"`` = bf16 autocast, channels_last, fused Adam.

    Tokens: a precision (``fp32`` or ``bf16``) first, then any of ``cl`` (channels_last),
    ``fused`` (fused Adam; otherwise foreach), ``compile`` (torch.compile of the generator) and,
    for the generator alone, ``onnx`` (onnxruntime on CPU, fp32).
    """

    precision: str = "fp32"
    channels_last: bool = False
    fused: bool = False
    compile: bool = False
    onnx: bool = False

    @classmethod
    def parse(cls, name: str) -> "Variant":
        tokens = name.split("+")
        if tokens[0] == "onnx":
            return cls(onnx=True)
        flags = {"cl": "channels_last", "fused": "fused", "compile": "compile"}
        if tokens[0] not in ("fp32", "bf16") or not set(tokens[1:]) <= flags.keys():
            raise ValueError(
                f"Unknown benchmark variant {name!r}: write a precision (fp32/bf16) "
                f"then optional '+' flags from {sorted(flags)}, e.g. 'bf16+cl+fused', or 'onnx'."
            )
        return cls(precision=tokens[0], **{flags[t]: True for t in tokens[1:]})

    def autocast(self, device: torch.device) -> contextlib.AbstractContextManager:
        """bf16 autocast as Lightning's ``bf16-mixed`` uses it (CPU and CUDA), else nothing."""
        bf16 = self.precision == "bf16"
        return torch.autocast(device.type, torch.bfloat16) if bf16 else contextlib.nullcontext()

    def adam(self) -> partial[torch.optim.Adam]:
        """The paper's Adam (2e-4, betas (0.5, 0.999)), fused or foreach."""
        return partial(PAPER_ADAM, fused=self.fused, foreach=not self.fused)


def build_networks(
    model: dict[str, Any], device: torch.device | str
) -> tuple[nn.Module, nn.Module]:
    """SRResNet G and ResNet D from a bench model entry: ``resolution``, and the arguments of
    each network (conf/model/generator/*.yaml, conf/model/discriminator/*.yaml)."""

    def args(net: str) -> dict[str, Any]:
        given = model.get(net) or {}
        return {k: v for k, v in given.items() if k not in ("_target_", "resolution")}

    res = int(model["resolution"])
    with torch.device(device):
        return (
            SRResNetGenerator(resolution=res, **args("generator")),
            ResNetDiscriminator(resolution=res, **args("discriminator")),
        )


class TrainStep:
    """A callable ``step(real, labels, known)`` doing one GAN iteration (D step, then G step),
    with the networks (already on their device) run as ``variant`` says."""

    def __init__(self, generator: nn.Module, discriminator: nn.Module, variant: Variant) -> None:
        self.device = next(generator.parameters()).device
        self.variant = variant
        if variant.channels_last:
            generator = generator.to(memory_format=torch.channels_last)
            discriminator = discriminator.to(memory_format=torch.channels_last)
        self.g, self.d = generator, discriminator
        self.objective = Objective()
        self.opt_g = variant.adam()(generator.parameters())
        self.opt_d = variant.adam()(discriminator.parameters())
        self.prior = LabelPrior.training()
        # no random generator on the meta device (the FLOP counts)
        self.rng = (
            None if self.device.type == "meta" else torch.Generator(self.device).manual_seed(0)
        )

    def generate(self, n: int) -> tuple[Tensor, Tensor]:
        """The iteration's single G forward: (fake images with their graph, conditions c)."""
        z = torch.randn(n, self.g.z_dim, generator=self.rng, device=self.device)
        c = self.prior.sample(n, generator=self.rng, device=self.device)
        with self.variant.autocast(self.device):
            return self.g(z, c), c

    def d_step(
        self, real: Tensor, labels: Tensor, known: Tensor | None, fake: Tensor, c: Tensor
    ) -> None:
        """L(D) (with its penalty: double backprop); backward and Adam step. G needs no freezing:
        the objective detaches the fakes."""
        with self.variant.autocast(self.device):
            loss, _ = self.objective.discriminator_loss(
                self.d, real, labels, known, fake, c, None, self.rng
            )
        self._backward_and_step(self.opt_d, loss)

    def g_step(self, fake: Tensor, c: Tensor) -> None:
        """L(G) through the frozen D; backward and Adam step."""
        self.d.requires_grad_(False)
        with self.variant.autocast(self.device):
            loss, _ = self.objective.generator_loss(self.d, fake, c, None, self.rng)
        self._backward_and_step(self.opt_g, loss)
        self.d.requires_grad_(True)

    def _backward_and_step(self, opt: torch.optim.Optimizer, loss: Tensor) -> None:
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    def __call__(self, real: Tensor, labels: Tensor, known: Tensor) -> None:
        """One iteration."""
        fake, c = self.generate(real.shape[0])
        self.d_step(real, labels, known, fake, c)
        self.g_step(fake, c)

    def fake_batch(self, n: int) -> tuple[Tensor, Tensor, Tensor]:
        """A batch shaped like the datamodule's: images in [-1, 1] (channels_last, as the
        datamodule hands them over), labels from the prior, all known."""
        res = self.g.resolution
        images = torch.rand(n, 3, res, res, generator=self.rng, device=self.device) * 2 - 1
        labels = self.prior.sample(n, generator=self.rng, device=self.device)
        return images.contiguous(memory_format=torch.channels_last), labels, torch.ones_like(labels)
