"""Judges: models that say whether an image shows a tag, for per-label precision (Table 2).

The paper judged its samples by hand. Here a judge is either Illustration2Vec's tagger (when its
weights are available) or :class:`TagJudge`, a small CNN trained on the dataset's own labels
(``anime-gan judge-train``), whose held-out precision and recall per tag are stored with it so
that its reliability can be printed beside the generator's scores.

A judge has a ``name``, a ``threshold``, the schema indices it can judge (``known_tags``), its
own per-tag precision/recall on held-out real images (``held_out``, or None) and
``probabilities(images)``: images NCHW in [-1, 1] -> [N, 34] tag probabilities.

Verdicts follow the schema: an exclusive tag (hair color, eye color) is shown when it is the
group's argmax; an independent tag when its probability exceeds the judge's threshold.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from anime_gan.data.dataset import FaceDataset
from anime_gan.data.tags import EXCLUSIVE_GROUPS, I2V_INDICES, NUM_TAGS, TAG_NAMES
from anime_gan.errors import UserError
from anime_gan.metrics.context import dataset_images
from anime_gan.metrics.features import file_fingerprint

FORMAT = "anime-gan-judge"


def verdicts(probs: Tensor, threshold: float) -> Tensor:
    """Bool [N, 34]: argmax within each exclusive group, ``p > threshold`` for the others."""
    out = probs > threshold
    for idx in EXCLUSIVE_GROUPS.values():
        group = torch.as_tensor(idx, device=probs.device)
        winner = group[probs[:, group].argmax(dim=1)]
        out[:, group] = False
        out[torch.arange(len(probs), device=probs.device), winner] = True
    return out


class TagJudge(nn.Module):
    """A small multi-label CNN: ``stages`` x [(k3 conv -> BN -> ReLU) x depth, 2x2 max pool],
    global average pool, a linear layer to 34 logits. Images are resized to ``input_size``."""

    def __init__(
        self, input_size: int = 32, channels: int = 16, stages: int = 4, depth: int = 1
    ) -> None:
        super().__init__()
        self.input_size = input_size
        self.config = {
            "input_size": input_size,
            "channels": channels,
            "stages": stages,
            "depth": depth,
        }
        layers: list[nn.Module] = []
        cin = 3
        for s in range(stages):
            cout = channels * 2**s
            for _ in range(depth):
                layers += [
                    nn.Conv2d(cin, cout, 3, 1, 1, bias=False),
                    nn.BatchNorm2d(cout),
                    nn.ReLU(inplace=True),
                ]
                cin = cout
            layers.append(nn.MaxPool2d(2))
        self.body = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(cin, NUM_TAGS)
        self.num_features = cin

    def features(self, images: Tensor) -> Tensor:
        """Pooled features [N, num_features] (the memorization check's feature space)."""
        x = images.float()
        if x.shape[-2:] != (self.input_size, self.input_size):
            x = F.interpolate(
                x, size=self.input_size, mode="bilinear", antialias=True, align_corners=False
            )
        return self.body(x)

    def forward(self, images: Tensor) -> Tensor:
        return self.head(self.features(images))


class TrainedJudge:
    """A :class:`TagJudge` with what it was trained on, as a judge."""

    threshold = 0.5

    def __init__(
        self,
        model: TagJudge,
        known_tags: tuple[int, ...],
        held_out: dict[str, Any] | None,
        name: str = "judge",
        info: dict[str, Any] | None = None,
    ) -> None:
        self.model, self.known_tags, self.held_out = model.eval(), known_tags, held_out
        self.name = name
        self.info = info or {}

    @torch.no_grad()
    def probabilities(self, images: Tensor) -> Tensor:
        dev = next(self.model.parameters()).device
        return torch.sigmoid(self.model(images.to(dev))).to(images.device)

    @torch.no_grad()
    def features(self, images: Tensor) -> Tensor:
        dev = next(self.model.parameters()).device
        return self.model.features(images.to(dev)).to(images.device)

    def to(self, device: torch.device | str) -> TrainedJudge:
        self.model.to(device)
        return self


class JudgeFeatures(nn.Module):
    """A trained judge's pooled features as an FID extractor (``num_features``-d, NCHW in [-1, 1]).

    The paper's FID reads Illustration2Vec's ``encode1``; where those weights are not at hand, a
    judge trained on the same images gives a feature space that knows the set's tags (hair and
    eye color, hair length). Its FID is comparable only with others from the same judge: the
    key is ``val/fid_judge``, never ``val/fid_i2v``.
    """

    def __init__(self, model: TagJudge, fingerprint: str) -> None:
        super().__init__()
        self.model = model.requires_grad_(False)
        self.num_features = model.num_features
        self.eval()  # batch norm in eval mode: features are deterministic
        self.fingerprint = fingerprint  # the weights file's hash: real-set statistics cache key

    @torch.no_grad()
    def forward(self, images: Tensor) -> Tensor:
        return self.model.features(images.float())


def load_judge_features(folder: str | Path, device: torch.device | str = "cpu") -> JudgeFeatures:
    """The pooled features of the judge in ``folder`` (``anime-gan judge-train``) for FID."""
    judge = load_judge(folder, device)
    return JudgeFeatures(judge.model, file_fingerprint(Path(folder, "judge.safetensors")))


class I2VJudge:
    """Illustration2Vec's tagger as a judge: the 34 tags' probabilities out of its 1,539."""

    threshold = 0.25  # Illustration2Vec's tagging threshold for independent tags (paper 3.2)
    known_tags = tuple(range(NUM_TAGS))
    held_out = None
    name = "illustration2vec"

    def __init__(self, tagger: nn.Module) -> None:
        self.tagger = tagger

    @torch.no_grad()
    def probabilities(self, images: Tensor) -> Tensor:
        return self.tagger(images)[:, list(I2V_INDICES)].to(images.device)


@torch.no_grad()
def judge_probabilities(judge: Any, ds: FaceDataset, batch_size: int = 256) -> Tensor:
    """The judge's probabilities for every image of ``ds``: [N, 34] on the CPU."""
    return torch.cat(
        [
            judge.probabilities(dataset_images(ds, slice(s, s + batch_size))).cpu()
            for s in range(0, len(ds), batch_size)
        ]
    )


def held_out_report(judge: Any, ds: FaceDataset) -> dict[str, Any]:
    """Per-tag precision, recall and support of a judge on labelled images (known entries only).

    Accuracy is the share of correct verdicts over all known (image, tag) entries; for each
    exclusive group also the share of images whose group is predicted right.
    """
    pred = verdicts(judge_probabilities(judge, ds), judge.threshold).numpy()
    labels, known = ds.labels.astype(bool), ds.known.astype(bool)
    tp = (pred & labels & known).sum(axis=0).tolist()
    predicted = (pred & known).sum(axis=0).tolist()
    support = (labels & known).sum(axis=0).tolist()
    tags = {
        name: {
            "precision": tp[i] / predicted[i] if predicted[i] else None,
            "recall": tp[i] / support[i] if support[i] else None,
            "support": support[i],
            "predicted": predicted[i],
        }
        for i, name in enumerate(TAG_NAMES)
    }
    groups = {}
    for g, idx in EXCLUSIVE_GROUPS.items():
        rows = known[:, idx].all(axis=1) & (labels[:, idx].sum(axis=1) == 1)
        right = (pred[rows][:, idx] == labels[rows][:, idx]).all(axis=1)
        groups[g] = float(right.mean()) if rows.any() else None
    accuracy = float((pred == labels)[known].mean()) if known.any() else None
    return {"images": len(ds), "accuracy": accuracy, "group_accuracy": groups, "tags": tags}


def save_judge(judge: TrainedJudge, folder: str | Path) -> Path:
    """Write ``judge.safetensors`` (weights) and ``judge.json`` (config, tags, held-out report)."""
    from safetensors.torch import save_model

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    save_model(judge.model, str(folder / "judge.safetensors"), metadata={"format": FORMAT})
    info = {
        "format": FORMAT,
        "config": judge.model.config,
        "threshold": judge.threshold,
        "known_tags": [TAG_NAMES[i] for i in judge.known_tags],
        "held_out": judge.held_out,
        **judge.info,
    }
    (folder / "judge.json").write_text(json.dumps(info, indent=2))
    return folder


def load_judge(folder: str | Path, device: torch.device | str = "cpu") -> TrainedJudge:
    """A judge written by :func:`save_judge` (``anime-gan judge-train``)."""
    from safetensors.torch import load_model

    folder = Path(folder)
    if not (folder / "judge.json").is_file() or not (folder / "judge.safetensors").is_file():
        raise UserError(
            f"no judge in {folder} (judge.json + judge.safetensors): train one with "
            f"`anime-gan judge-train data=<dataset> out={folder}`."
        )
    info = json.loads((folder / "judge.json").read_text())
    if info.get("format") != FORMAT:
        raise UserError(
            f"{folder / 'judge.json'} is not an anime-gan judge: retrain it with "
            f"`anime-gan judge-train`."
        )
    model = TagJudge(**info["config"])
    load_model(model, folder / "judge.safetensors", device=str(device))
    known = tuple(TAG_NAMES.index(t) for t in info["known_tags"])
    saved = ("format", "config", "threshold", "known_tags", "held_out")  # what save_judge adds
    return TrainedJudge(
        model.to(device),
        known,
        info.get("held_out"),
        name=f"trained judge at {folder}",
        info={k: v for k, v in info.items() if k not in saved},
    )


def load_i2v_judge(path: str | Path, device: torch.device | str = "cpu") -> I2VJudge:
    """Illustration2Vec's tagger from its converted safetensors file as a judge."""
    from anime_gan.tagging.illust2vec import load_tagger

    return I2VJudge(load_tagger(path, device))
