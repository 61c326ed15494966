"""Per-label precision (paper 5.3.1, Table 2): does a sample generated with a tag show it?

Our own metric: torchmetrics' multilabel precision scores every tag of every image; here each
batch asks about its one fixed tag only.

For each tag: fix it true (an exclusive tag sets its whole group), draw the other tags from the
generation prior, generate N images (20 in the paper) with fresh noise, and count the images in
which a judge sees the tag. The paper judged by hand; here the judge is a model
(:mod:`anime_gan.metrics.judge`). Tags the judge cannot judge (too few labelled examples) are
skipped and listed as such. The protocol itself is
:class:`anime_gan.metrics.protocols.PrecisionProtocol`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torchmetrics import Metric

from anime_gan.data.tags import NUM_TAGS
from anime_gan.metrics.judge import verdicts


class TagPrecision(Metric):
    """Per-tag precision of conditional generation as judged by a judge.

    ``update(probs, tag)``: the judge's probabilities [N, 34] for images generated with tag
    index ``tag`` fixed true. ``compute()`` -> [34] float64, NaN for tags never updated.
    """

    higher_is_better = True
    is_differentiable = False
    full_state_update = False

    def __init__(self, threshold: float = 0.5, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.threshold = threshold
        self.add_state("hits", torch.zeros(NUM_TAGS, dtype=torch.float64), "sum")
        self.add_state("total", torch.zeros(NUM_TAGS, dtype=torch.float64), "sum")

    def update(self, probs: Tensor, tag: int) -> None:  # type: ignore[override]
        shown = verdicts(probs, self.threshold)[:, tag]
        self.hits[tag] += shown.sum().double()
        self.total[tag] += float(len(shown))

    def compute(self) -> Tensor:
        return torch.where(self.total > 0, self.hits / self.total.clamp(min=1), torch.nan)


@dataclass
class PrecisionResult:
    """Precision per judged tag, the images and the judge's verdicts (for the contact sheets)."""

    precision: dict[str, float]
    images: dict[str, np.ndarray] = field(default_factory=dict)  # tag -> uint8 [N, R, R, 3]
    probs: dict[str, np.ndarray] = field(default_factory=dict)  # tag -> [N] judge probability
    shown: dict[str, np.ndarray] = field(default_factory=dict)  # tag -> bool [N]
    skipped: dict[str, str] = field(default_factory=dict)  # tag -> why it was not judged

    @property
    def mean(self) -> float:
        return float(np.mean(list(self.precision.values()))) if self.precision else float("nan")
