"""FLOPs and parameters computed from the models themselves (reference figures: docs/design.md).

Counts come from ``torch.utils.flop_counter`` over the real forward and backward passes, on the
meta device (shapes only: no memory, no time), so the 128 px batch-64 iteration is counted in a
second. Like every FLOP counter, it counts matrix products and convolutions (one multiply-add =
2 FLOPs); normalisation, activations and Adam are left out.

Own code only for the phase split and a stand-in module tracker (see below); the counting is
torch's.
"""

import contextlib
from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from anime_gan.bench.step import TrainStep, Variant, build_networks
from anime_gan.models.dcgan import DCGANGenerator
from anime_gan.models.init import count_parameters

#: The reference split of one batch-64 128 px iteration (docs/design.md), in TFLOP.
REFERENCE = {
    "d_step_tflop": 0.85,
    "penalty_tflop": 0.69,
    "g_step_tflop": 0.75,
    "iteration_tflop": 2.3,
}

#: The reference sizes of docs/design.md (GFLOP per image, millions of parameters, ratio).
REFERENCE_SIZES = {
    "generator_gflop_per_image_128": 2.72,
    "discriminator_gflop_per_image_128": 1.77,
    "generator_mparams_128": 4.35,
    "discriminator_mparams_128": 19.1,
    "dcgan_vs_srresnet_params": 4.0,
}


class _GlobalTotalsOnly(contextlib.nullcontext):
    """Stands in for FlopCounterMode's module tracker, which registers backward hooks on module
    inputs that ``torch.autograd.grad`` with respect to a leaf (the DRAGAN x_hat) rejects."""

    parents = ("Global",)


def flop_counter() -> FlopCounterMode:
    """``FlopCounterMode`` counting totals only, so the double backward of the penalty works."""
    counter = FlopCounterMode(display=False)
    counter.mod_tracker = _GlobalTotalsOnly()
    return counter


def count_flops(fn: Callable[[], Any]) -> int:
    """FLOPs of everything ``fn()`` runs (forward and any backward it calls)."""
    with flop_counter() as counter:
        fn()
    return counter.get_total_flops()


def forward_flops_per_image(net: nn.Module) -> int:
    """FLOPs of one forward pass for one image (a generator from (z, c), a D from an image)."""
    with torch.no_grad(), torch.device(next(net.parameters()).device):
        if hasattr(net, "z_dim"):
            return count_flops(lambda: net(torch.zeros(1, net.z_dim), torch.zeros(1, net.num_tags)))
        return count_flops(lambda: net(torch.zeros(1, 3, net.resolution, net.resolution)))


def iteration_flops(model: dict[str, Any], batch_size: int, device: str = "meta") -> dict[str, int]:
    """FLOPs of one training iteration, split as the training step runs.

    Keys: ``g_forward`` (the single G forward), ``d_step`` (D on real and fake, the penalty with
    its double backward, the backward of L(D)), ``penalty`` (the part of ``d_step`` that the
    DRAGAN term costs: its forward, gradient and double backward), ``g_step`` (D forward on the
    fakes and the backward through D into G) and ``total``.
    """
    step = TrainStep(*build_networks(model, device), Variant())
    real, labels, _ = step.fake_batch(batch_size)
    known = None  # the tag mask costs no FLOPs, and its `count == 0` test cannot run on meta
    with flop_counter() as counter:
        fake, c = step.generate(batch_size)
    out = {"g_forward": counter.get_total_flops()}
    out["d_step"] = count_flops(lambda: step.d_step(real, labels, known, fake, c))
    out["g_step"] = count_flops(lambda: step.g_step(fake, c))
    gp = step.objective.gradient_penalty  # alone: its forward, gradient and double backward
    out["penalty"] = count_flops(lambda: gp(step.d, real, None, step.rng).backward())
    out["total"] = out["g_forward"] + out["d_step"] + out["g_step"]
    return out


def size_table() -> dict[str, dict[str, float]]:
    """Parameters and forward GFLOP per image of the SRResNet G, the DCGAN G and the ResNet D at
    128 px."""
    g, d = build_networks({"resolution": 128}, "meta")
    with torch.device("meta"):
        dcgan = DCGANGenerator(resolution=128)
    rows = {
        name: {
            "params": count_parameters(net),
            "gflop_per_image": forward_flops_per_image(net) / 1e9,
        }
        for name, net in (
            ("srresnet_generator", g),
            ("dcgan_generator", dcgan),
            ("resnet_discriminator", d),
        )
    }
    rows["dcgan_generator"]["params_vs_srresnet"] = (
        rows["dcgan_generator"]["params"] / rows["srresnet_generator"]["params"]
    )
    return rows


def paper_cost(batch_size: int = 64) -> dict[str, Any]:
    """The paper model's cost at 128 px (paper Fig. 3 and 4: the networks' defaults), counted here
    and set beside the reference figures.

    The reference figures split an iteration into a D step (0.85 TFLOP: the G forward plus D on
    real and fake images, forward and backward), the penalty (0.69) and a G step (0.75).
    """
    it = iteration_flops({"resolution": 128}, batch_size)
    counted = {
        "d_step_tflop": (it["g_forward"] + it["d_step"] - it["penalty"]) / 1e12,
        "penalty_tflop": it["penalty"] / 1e12,
        "g_step_tflop": it["g_step"] / 1e12,
        "iteration_tflop": it["total"] / 1e12,
    }
    return {
        "batch_size": batch_size,
        "resolution": 128,
        "counted": counted,
        "reference": REFERENCE,
        "flops": it,
        "sizes": size_table(),
        "reference_sizes": REFERENCE_SIZES,
    }
