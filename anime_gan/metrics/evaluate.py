"""The evaluate stage: FID / KID / SWD and per-label precision of a checkpoint.

Writes ``metrics.json`` and ``metrics.md`` to ``out``; a precision protocol also writes its table
(``precision.csv``, ``precision.md``) and contact sheets (``sheets/<tag>.png``, ``overview.png``).
"""

from __future__ import annotations

import os
from typing import Any

import torch
from omegaconf import DictConfig

from anime_gan.data.datamodule import split_by_hash
from anime_gan.data.dataset import load_dataset
from anime_gan.data.priors import LabelPrior
from anime_gan.device import resolve_device
from anime_gan.errors import UserError
from anime_gan.metrics.context import EvalContext, real_image_source
from anime_gan.metrics.features import StatsCache, load_i2v_features
from anime_gan.metrics.judge import load_i2v_judge, load_judge, load_judge_features
from anime_gan.metrics.precision_table import (
    precision_rows,
    wandb_table_rows,
    write_precision_sheets,
    write_precision_table,
)
from anime_gan.metrics.protocols import FIDProtocol, PrecisionProtocol, get_protocol
from anime_gan.models.checkpoint import checkpoint_prior, load_generator
from anime_gan.outputs import EVALUATE, check_output, write_json_atomic


def real_images(cfg: DictConfig, split: str | None = None):
    """The dataset's images chosen by ``split`` (default ``cfg.split``)."""
    split = split or cfg.split
    ds = load_dataset(cfg.data.path)
    if split == "all":
        return ds
    if split not in ("train", "val"):
        raise UserError(f"split={split!r}: choose all, train or val.")
    train, val = split_by_hash(ds.ids, cfg.data.val_fraction, cfg.data.split_seed)
    chosen = ds.subset(train if split == "train" else val)
    if len(chosen) < 2:
        raise UserError(
            f"the {split} split of {cfg.data.path} has {len(chosen)} images: use split=all."
        )
    return chosen


def check_inputs(cfg: DictConfig, protocols: list) -> None:
    """Each protocol's inputs are configured (before a checkpoint is even read)."""
    for protocol in protocols:
        if isinstance(protocol, FIDProtocol) and not (cfg.i2v_features or cfg.judge_features):
            raise UserError(
                f"{protocol.name} needs features: set i2v_features="
                f"<illust2vec_ver200.safetensors> (anime-gan convert-i2v) or "
                f"judge_features=<folder from anime-gan judge-train>, or use swd2k."
            )
        if isinstance(protocol, FIDProtocol) and cfg.i2v_features and cfg.judge_features:
            raise UserError(
                "set one of i2v_features and judge_features: their FIDs are on "
                "different feature spaces."
            )
        if isinstance(protocol, PrecisionProtocol) and cfg.reference_split:
            raise UserError(
                f"{protocol.name} judges generated tags: it has no real-vs-real "
                f"reference; drop it or reference_split."
            )
        if isinstance(protocol, PrecisionProtocol) and not (cfg.judge or cfg.i2v_tagger):
            raise UserError(
                f"{protocol.name} needs a judge: judge=<folder from anime-gan "
                f"judge-train> or i2v_tagger=<illust2vec_tag_ver200.safetensors>."
            )
    if cfg.reference_split and (
        cfg.reference_split not in ("train", "val") or cfg.reference_split == cfg.split
    ):
        raise UserError(
            f"reference_split={cfg.reference_split!r} must be train or val and differ "
            f"from split={cfg.split!r} (e.g. split=val reference_split=train)."
        )


def build_context(cfg: DictConfig):
    """An EvalContext from the config: the checkpoint's EMA generator and prior (or, with
    ``reference_split``, real images of that split in place of a generator: the real-vs-real
    reference), the real images, the extractor and the judge; and the checkpoint's meta."""
    device = resolve_device(cfg.device)
    extractor = (
        load_i2v_features(cfg.i2v_features, device)
        if cfg.i2v_features
        else load_judge_features(cfg.judge_features, device)
        if cfg.judge_features
        else None
    )
    judge, real = None, real_images(cfg)
    if cfg.reference_split:
        generate = real_image_source(real_images(cfg, cfg.reference_split), cfg.seed)
        z_dim, prior = 128, LabelPrior.empirical(real.labels, real.known)
        meta = {"iteration": None, "reference": f"real images of the {cfg.reference_split} split"}
    else:
        generator, meta = load_generator(cfg.ckpt, ema=cfg.ema)
        generator = generator.to(device).eval()
        generate = torch.no_grad()(lambda z, c: generator(z, c).float())
        z_dim, prior = int(generator.z_dim), checkpoint_prior(meta)
        if cfg.judge:
            judge = load_judge(cfg.judge, device)
        elif cfg.i2v_tagger:
            judge = load_i2v_judge(cfg.i2v_tagger, device)
    ctx = EvalContext(
        generate,
        z_dim,
        prior,
        real,
        device=device,
        batch_size=cfg.batch_size,
        seed=cfg.seed,
        extractor=extractor,
        judge=judge,
        cache=StatsCache(cfg.cache_dir),
    )
    return ctx, meta


def run(cfg: DictConfig) -> dict[str, Any]:
    """Run every protocol of ``cfg.metrics``; returns {protocol: numbers}."""
    protocols = [get_protocol(name) for name in cfg.metrics]  # unknown names fail before any work
    check_inputs(cfg, protocols)
    ctx, meta = build_context(cfg)
    out = check_output(cfg.out, EVALUATE)
    results: dict[str, Any] = {}
    for protocol in protocols:
        if isinstance(protocol, PrecisionProtocol):
            res = protocol.result(ctx)
            rows = precision_rows(res, ctx.judge, protocol.per_tag)
            write_precision_table(rows, out, ctx.judge.name)
            write_precision_sheets(res, out)
            results[protocol.name] = {"precision": res.mean, **res.precision}
            results[protocol.name + "_rows"] = rows
        else:
            results[protocol.name] = protocol.run(ctx)
        shown = [f"{k}={v:.4g}" for k, v in results[protocol.name].items() if isinstance(v, float)]
        print(f"{protocol.name}: {', '.join(shown[:6])}")
    summary = {
        "checkpoint": meta.get("reference") or str(cfg.ckpt),
        "iteration": meta.get("iteration"),
        "data": str(cfg.data.path),
        "split": cfg.split,
        "real_images": len(ctx.real),
        "fid_features": (
            f"illustration2vec {cfg.i2v_features}"
            if cfg.i2v_features
            else f"judge {cfg.judge_features}"
            if cfg.judge_features
            else None
        ),
        **results,
    }
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out / "metrics.json", summary, default=str)
    (out / "metrics.md").write_text(metrics_markdown(summary))
    if cfg.wandb:
        log_wandb(cfg, results)
    return summary


def metrics_markdown(summary: dict[str, Any]) -> str:
    """One table row per protocol number (the precision rows are in precision.md)."""
    lines = [
        f"# {summary['checkpoint']} (iteration {summary['iteration']})",
        "",
        f"Real images: {summary['real_images']} from {summary['data']} ({summary['split']}).",
        "",
    ]
    if summary.get("fid_features"):
        lines += [f"FID features: {summary['fid_features']}.", ""]
    lines += ["| protocol | number | value |", "|---|---|---|"]
    for name, values in summary.items():
        if isinstance(values, dict):
            lines += [
                f"| {name} | {k} | {v:.6g} |" for k, v in values.items() if isinstance(v, float)
            ]
    return "\n".join(lines) + "\n"


def log_wandb(cfg: DictConfig, results: dict[str, Any]) -> None:
    """The numbers and the precision table in an offline W&B run (``wandb sync`` later)."""
    import wandb  # only when asked: W&B is slow to import

    os.environ.setdefault("WANDB_MODE", "offline")
    run = wandb.init(
        project="anime-gan", job_type="evaluate", dir=str(cfg.out), config={"ckpt": str(cfg.ckpt)}
    )
    for name, values in results.items():
        if name.endswith("_rows"):
            columns, data = wandb_table_rows(values)
            run.log({f"tables/{name[:-5]}": wandb.Table(columns=columns, data=data)})
        else:
            run.log({f"eval/{name}/{k}": v for k, v in values.items() if isinstance(v, float)})
    run.finish()
