"""Training the judge (``anime-gan judge-train``): a multi-label classifier on a dataset's labels.

The loss is the same masked multi-label BCE as the GAN's classifier head (unknown labels add
nothing). Images held out by the DataModule's hash split measure the judge's own precision and
recall per tag, which the precision table prints beside the generator's scores.
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from dataclasses import asdict, dataclass

import numpy as np
import torch

from anime_gan.data.datamodule import InMemoryBatches
from anime_gan.data.dataset import FaceDataset
from anime_gan.data.tags import EXCLUSIVE_GROUPS, NUM_TAGS, TAG_NAMES
from anime_gan.data.transforms import to_model_range
from anime_gan.errors import UserError
from anime_gan.metrics.judge import TagJudge, TrainedJudge, held_out_report
from anime_gan.models.losses import classification_loss

log = logging.getLogger(__name__)


@dataclass
class JudgeTraining:
    """How the judge is trained: Adam with a cosine schedule, random horizontal flips."""

    steps: int = 600
    batch_size: int = 64
    lr: float = 3e-3
    weight_decay: float = 1e-4
    flip: bool = True
    seed: int = 0
    min_positives: int = 5  # a tag with fewer known positives in training is not judged


def judgeable_tags(ds: FaceDataset, min_positives: int) -> tuple[int, ...]:
    """Tags with at least ``min_positives`` known positive examples (and a known negative)."""
    known, labels = ds.known.astype(bool), ds.labels.astype(bool)
    pos = (labels & known).sum(axis=0)
    neg = (~labels & known).sum(axis=0)
    out = [i for i in range(NUM_TAGS) if pos[i] >= min_positives and neg[i] > 0]
    for idx in EXCLUSIVE_GROUPS.values():  # argmax needs at least two candidates in a group
        if sum(i in out for i in idx) < 2:
            out = [i for i in out if i not in idx]
    return tuple(out)


def train_judge(
    train: FaceDataset,
    val: FaceDataset | None,
    model: TagJudge,
    cfg: JudgeTraining = JudgeTraining(),
    device: str | torch.device = "cpu",
) -> TrainedJudge:
    """Train ``model`` on ``train``; report held-out precision/recall on ``val`` (if any)."""
    known_tags = judgeable_tags(train, cfg.min_positives)
    if not known_tags:
        raise UserError(
            f"the dataset has no tag with {cfg.min_positives} known positive examples: "
            f"the judge has nothing to learn (check the dataset's labels with "
            f"`anime-gan describe`)."
        )
    torch.manual_seed(cfg.seed)
    stream = InMemoryBatches(
        torch.from_numpy(np.ascontiguousarray(train.images)),
        torch.from_numpy(train.labels.astype(np.float32)),
        torch.from_numpy(train.known.astype(np.float32)),
        min(cfg.batch_size, len(train)),
        seed=cfg.seed,
    )
    model.to(device).train()
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt,
        lambda s: 0.5 * (1 + math.cos(math.pi * s / cfg.steps)),  # cosine to 0
    )
    gen = torch.Generator().manual_seed(cfg.seed)
    start = time.time()
    epochs = (batch for _ in itertools.count() for batch in stream)  # a fresh order each epoch
    for step, (images, labels, known) in zip(range(1, cfg.steps + 1), epochs):
        x = to_model_range(images.permute(0, 3, 1, 2)).to(device)
        if cfg.flip:
            flip = torch.rand(len(x), generator=gen) < 0.5
            x = torch.where(flip.to(device)[:, None, None, None], x.flip(3), x)
        loss = classification_loss(model(x), labels.to(device), known.to(device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if step % 100 == 0:
            log.info(
                "judge step %d/%d: loss %.4f (%.1f s)",
                step,
                cfg.steps,
                loss.item(),
                time.time() - start,
            )
    model.eval()
    seconds = round(time.time() - start, 1)
    judge = TrainedJudge(
        model,
        known_tags,
        None,
        info={"training": {**asdict(cfg), "images": len(train), "seconds": seconds}},
    )
    if val is not None and len(val):
        judge.held_out = held_out_report(judge, val)
    return judge


def format_held_out(report: dict | None, known_tags: tuple[int, ...]) -> str:
    """A markdown table of a judge's held-out precision/recall per tag."""
    if not report:
        return "(no held-out images: the judge's reliability is unknown)\n"
    acc = report["accuracy"]
    lines = [
        f"Held-out images: {report['images']}; verdict accuracy over known entries: {acc:.3f}"
        if acc is not None
        else "Held-out images: none labelled",
        "",
    ]
    for g, a in report["group_accuracy"].items():
        name = g.replace("_", " ")
        lines.append(
            f"- {name} accuracy (argmax): {a:.3f}"
            if a is not None
            else f"- {name}: no labelled images"
        )
    lines += [
        "",
        "| tag | precision | recall | held-out positives | judged |",
        "|---|---|---|---|---|",
    ]

    def three(x: float | None) -> str:
        return "-" if x is None else f"{x:.3f}"

    for i, name in enumerate(TAG_NAMES):
        row = report["tags"][name]
        judged = "yes" if i in known_tags else "no"
        lines.append(
            f"| {name} | {three(row['precision'])} | {three(row['recall'])} "
            f"| {row['support']} | {judged} |"
        )
    return "\n".join(lines) + "\n"
