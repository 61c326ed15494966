"""Weight initialization, rebuilding from a config and size bookkeeping shared by the networks."""

import inspect
from typing import Any

import torch
from torch import nn

from anime_gan.models.resolution import check_option


@torch.no_grad()
def init_weights(module: nn.Module, scheme: str = "paper", slope: float = 0.2) -> nn.Module:
    """Initialize ``module`` in place and return it.

    ``scheme="paper"`` (paper 5.1.1): conv, transposed-conv and linear weights ~ N(0, 0.02),
    zero biases. ``scheme="scaled"``: N(0, gain / sqrt(fan_in)) (He et al.,
    with the LeakyReLU ``slope``), which keeps the signal's scale through any width. The
    paper's fixed 0.02 suits its full widths; in the shrunken CPU models (a discriminator of
    8-16 channels, no normalisation) it attenuates the signal ~1000x over the stages, and D
    then barely learns in a demo's few hundred iterations, so the demo uses "scaled".
    The paper says nothing about batch norm; it keeps PyTorch's initial scale 1 and shift 0
    (the identity at the start; every caller initialises a freshly built network), not
    DCGAN's N(1, 0.02) scale.
    """
    check_option("init", "scheme", scheme, ("paper", "scaled"))
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            if scheme == "paper":
                nn.init.normal_(m.weight, mean=0.0, std=0.02)
            else:
                nn.init.kaiming_normal_(m.weight, a=slope, mode="fan_in", nonlinearity="leaky_relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return module


class Rebuildable(nn.Module):
    """A network that keeps the arguments it was built with: ``config()`` is them (defaults
    filled in) plus the class's ``name``, from which :func:`rebuild` makes the same network."""

    name: str

    def __new__(cls, *args: Any, **kwargs: Any) -> "Rebuildable":
        self = super().__new__(cls)
        bound = inspect.signature(cls.__init__).bind(self, *args, **kwargs)
        bound.apply_defaults()
        self._arguments = dict(list(bound.arguments.items())[1:])  # all but self
        return self

    def config(self) -> dict[str, Any]:
        return {"name": self.name, **self._arguments}


def rebuild(config: dict[str, Any], classes: tuple[type[Rebuildable], ...], kind: str) -> nn.Module:
    """The network ``config`` describes (e.g. one stored in a checkpoint), without Hydra:
    ``config["name"]`` picks one of ``classes`` (the first when absent), the rest are arguments."""
    kwargs = dict(config)
    name = kwargs.pop("name", classes[0].name)
    by_name = {c.name: c for c in classes}
    if name not in by_name:
        raise ValueError(f"Unknown {kind} {name!r}; choose one of {sorted(by_name)}.")
    return by_name[name](**kwargs)


def count_parameters(module: nn.Module) -> int:
    """Number of parameters (reference figures in docs/design.md: G ~4.35 M, D ~19.1 M at 128 px)."""
    return sum(p.numel() for p in module.parameters())
