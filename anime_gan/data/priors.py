"""Label priors p(c) over the 34 tags (paper 4.3; docs/design.md).

- training prior: each exclusive group uniform over its tags, every other tag Bernoulli(0.25);
- empirical prior: the training set's own distribution (categorical per exclusive group,
  Bernoulli per independent tag), used for evaluation and the web page.

A user-fixed tag overrides the prior: fixing an exclusive tag true sets the whole group, fixing
it false removes it from the group's choices.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import torch

from anime_gan.data.tags import EXCLUSIVE_GROUPS, INDEPENDENT, NUM_TAGS, TAG_NAMES, fixed_tags
from anime_gan.errors import UserError

TRAINING_TAG_RATE = 0.25


@dataclass
class LabelPrior:
    """A factorised distribution over label vectors: one categorical per exclusive group and
    one Bernoulli per independent tag."""

    group_probs: dict[str, np.ndarray]  # group name -> probabilities over the group's tags
    tag_rates: np.ndarray  # length 34; used at INDEPENDENT indices
    kind: str = "training"
    counts: dict = field(default_factory=dict)  # how many known examples each estimate rests on

    @classmethod
    def training(cls) -> "LabelPrior":
        groups = {g: np.full(len(idx), 1.0 / len(idx)) for g, idx in EXCLUSIVE_GROUPS.items()}
        return cls(groups, np.full(NUM_TAGS, TRAINING_TAG_RATE), kind="training")

    @classmethod
    def empirical(cls, labels: np.ndarray, known: np.ndarray) -> "LabelPrior":
        """Estimate from a dataset's labels, counting only known entries.

        A group or tag with no known example falls back on the training prior's value (and its
        count of 0 says so).
        """
        labels = np.asarray(labels, dtype=np.float64)
        known = np.asarray(known, dtype=np.float64)
        fallback = cls.training()
        groups, counts = {}, {"groups": {}, "tags": {}}
        for g, idx in EXCLUSIVE_GROUPS.items():
            rows = known[:, idx].all(axis=1) & (labels[:, idx].sum(axis=1) == 1)
            n = int(rows.sum())
            counts["groups"][g] = n
            groups[g] = labels[rows][:, idx].mean(axis=0) if n else fallback.group_probs[g]
        rates = fallback.tag_rates.copy()
        for i in INDEPENDENT:
            n = int(known[:, i].sum())
            counts["tags"][TAG_NAMES[i]] = n
            if n:
                rates[i] = float((labels[:, i] * known[:, i]).sum() / n)
        return cls(groups, rates, kind="empirical", counts=counts)

    def sample(
        self,
        n: int,
        fixed: Mapping[str, bool] | Iterable[str] | None = None,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
    ) -> torch.Tensor:
        """Draw ``n`` label vectors (float32, shape [n, 34]) with the ``fixed`` tags imposed.

        ``device`` (default: the generator's, else CPU) is where sampling runs, so a training
        step on the GPU draws its conditions there without a host round trip.
        """
        fix = fixed_tags(fixed)
        if device is None:
            device = generator.device if generator is not None else "cpu"
        out = torch.zeros(n, NUM_TAGS, device=device)
        for g, idx in EXCLUSIVE_GROUPS.items():
            probs = torch.tensor(self.group_probs[g], dtype=torch.float32)
            forced = [j for j, i in enumerate(idx) if fix.get(int(i)) is True]
            if len(forced) > 1:
                raise UserError(
                    f"tags {[TAG_NAMES[idx[j]] for j in forced]} are exclusive ({g}): fix one of them."
                )
            if forced:
                probs = torch.eye(len(idx))[forced[0]]
            probs[[j for j, i in enumerate(idx) if fix.get(int(i)) is False]] = 0.0
            if probs.sum() <= 0:
                raise UserError(
                    f"every tag of the {g} group is fixed false: leave at least one open."
                )
            probs = (probs / probs.sum()).to(device)
            choice = torch.multinomial(probs, n, replacement=True, generator=generator)
            out[torch.arange(n, device=device), torch.as_tensor(idx, device=device)[choice]] = 1.0
        rates = torch.as_tensor(self.tag_rates[INDEPENDENT], dtype=torch.float32, device=device)
        draws = torch.rand(n, len(INDEPENDENT), generator=generator, device=device) < rates
        out[:, torch.as_tensor(INDEPENDENT, device=device)] = draws.float()
        for i, value in fix.items():
            if i in INDEPENDENT:
                out[:, i] = float(value)
        return out

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "groups": {
                g: {
                    TAG_NAMES[i]: float(p) for i, p in zip(EXCLUSIVE_GROUPS[g], self.group_probs[g])
                }
                for g in EXCLUSIVE_GROUPS
            },
            "tags": {TAG_NAMES[i]: float(self.tag_rates[i]) for i in INDEPENDENT},
            "counts": self.counts,
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> "LabelPrior":
        groups = {
            g: np.array([data["groups"][g][TAG_NAMES[i]] for i in idx], dtype=np.float64)
            for g, idx in EXCLUSIVE_GROUPS.items()
        }
        rates = np.full(NUM_TAGS, TRAINING_TAG_RATE)
        for i in INDEPENDENT:
            rates[i] = data["tags"][TAG_NAMES[i]]
        return cls(groups, rates, kind=data.get("kind", "empirical"), counts=data.get("counts", {}))
