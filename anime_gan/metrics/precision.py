"""Per-label precision (paper 5.3.1, Table 2): does a sample generated with a tag show it?

For each tag: fix it true (an exclusive tag sets its whole group), draw the other tags from the
generation prior, generate N images (20 in the paper) with fresh noise, and count the images in
which a judge sees the tag. The paper judged by hand; here the judge is a model
(:mod:`anime_gan.metrics.judge`). Tags the judge cannot judge (too few labelled examples) are
skipped and listed as such.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torchmetrics import Metric

from anime_gan.data.tags import NUM_TAGS, TAG_NAMES, tag_index
from anime_gan.data.transforms import nchw_to_nhwc, to_uint8
from anime_gan.metrics.context import EvalContext
from anime_gan.metrics.judge import Judge, verdicts


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


def tags_to_judge(judge: Judge, tags: list[str] | None = None) -> tuple[list[int], dict[str, str]]:
    """Schema indices to evaluate, and the reason each skipped tag is skipped."""
    wanted = [tag_index(t) for t in tags] if tags else list(range(NUM_TAGS))
    known = set(judge.known_tags)
    why = "the judge has too few labelled examples of it"
    skipped = {TAG_NAMES[i]: why for i in wanted if i not in known}
    return [i for i in wanted if i in known], skipped


@torch.no_grad()
def run_precision(
    ctx: EvalContext, per_tag: int = 20, tags: list[str] | None = None, keep_images: bool = True
) -> PrecisionResult:
    """The Table 2 protocol with ``ctx.judge``; images are kept for the sheets if asked."""
    judge: Judge = ctx.judge  # type: ignore[assignment]
    if judge is None:
        raise ValueError("per-label precision needs a judge")
    indices, skipped = tags_to_judge(judge, tags)
    metric = TagPrecision(judge.threshold).to(ctx.device)
    result = PrecisionResult({}, skipped=skipped)
    gen = torch.Generator().manual_seed(ctx.seed * 7919 + 17 + ctx.rank)
    count = -(-per_tag // ctx.world_size)  # this process's share
    for i in indices:
        c = ctx.prior.sample(count, fixed={TAG_NAMES[i]: True}, generator=gen)
        z = torch.randn(count, ctx.z_dim, generator=gen)
        b, dev = ctx.batch_size, ctx.device
        images = torch.cat(
            [ctx.generate(z[s : s + b].to(dev), c[s : s + b].to(dev)) for s in range(0, count, b)]
        )
        probs = judge.probabilities(images)
        metric.update(probs, i)
        if keep_images:
            name = TAG_NAMES[i]
            result.images[name] = nchw_to_nhwc(to_uint8(images))
            result.probs[name] = probs[:, i].cpu().numpy()
            result.shown[name] = verdicts(probs, judge.threshold)[:, i].cpu().numpy()
    values = metric.compute().cpu()
    result.precision = {TAG_NAMES[i]: float(values[i]) for i in indices}
    return result
