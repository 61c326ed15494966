"""``make report``: the paper's tables and figures that a checkpoint and its dataset allow, in
one folder with an ``index.md``.

- samples with random tags (Fig. 7), fixed noise / random tags (Fig. 8), fixed tags (Fig. 9),
  interpolation strip + GIF (Fig. 15), tag-strength sweeps;
- quality: multi-scale SWD against the dataset, beside the SWD between two halves of the real
  set (the floor a perfect generator would reach with this many images); FID/KID on
  Illustration2Vec features when its weights are given (the paper's protocol by default);
  the metric curves of the training run (Fig. 10) when the run folder has them;
- per-label precision (Table 2) with the judge's own held-out precision/recall, per-tag contact
  sheets and an overview sheet; a judge is trained on the dataset when none is given;
- memorization: samples beside their nearest training images (pixels, judge features, and
  Illustration2Vec features when asked).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import torch
from omegaconf import DictConfig

from anime_gan.data.dataset import FaceDataset, load_dataset
from anime_gan.data.tags import tag_index
from anime_gan.generate import figures
from anime_gan.generate.memorization import FeatureFn, memorization_sheet, nearest_training
from anime_gan.generate.sampling import Sampler
from anime_gan.metrics.context import EvalContext
from anime_gan.metrics.features import StatsCache, load_i2v_features
from anime_gan.metrics.protocols import FIDProtocol, PrecisionProtocol, SWDProtocol, get_protocol
from anime_gan.metrics.swd import SlicedWassersteinDistance
from anime_gan.outputs import REPORT, check_output
from anime_gan.viz import save_png


def figures_section(sampler: Sampler, cfg: DictConfig, out: Path) -> list[str]:
    """Figs. 7, 8, 9, 15 and tag sweeps; returns its markdown paragraphs."""
    save_png(figures.samples_sheet(sampler, 16, None, cfg.seed)[1], out / "fig7_samples.png")
    save_png(
        figures.random_tags_grid(sampler, 6, 8, cfg.seed), out / "fig8_fixed_noise_random_tags.png"
    )
    save_png(figures.fixed_tags_grid(sampler, None, 8, cfg.seed), out / "fig9_fixed_tags.png")
    strip, frames = figures.interpolation(sampler, 4, 8, None, cfg.seed)
    save_png(strip, out / "fig15_interpolation.png")
    figures.save_gif(frames, out / "fig15_interpolation.gif")
    paragraphs = [
        "## Samples",
        "Random tags from the training set's empirical prior (Fig. 7), captioned:",
        "![samples](fig7_samples.png)",
        "Fixed noise per row, random tags per column (Fig. 8):",
        "![fig8](fig8_fixed_noise_random_tags.png)",
        "Fixed tags per row (other independent tags off), noise per column (Fig. 9):",
        "![fig9](fig9_fixed_tags.png)",
        "Interpolation between two (z, c) per row (Fig. 15), and as an animation:",
        "![fig15](fig15_interpolation.png) ![fig15 gif](fig15_interpolation.gif)",
    ]
    for tag in cfg.sweep_tags:
        name = f"sweep_{tag.replace(' ', '_')}.png"
        save_png(figures.tag_sweep(sampler, tag, 6, 4, cfg.seed), out / name)
        paragraphs += [
            f"Tag strength of *{tag}* from 0 to 1 (columns) at fixed noise and tags (rows):",
            f"![sweep {tag}]({name})",
        ]
    return paragraphs


def real_floor(real: FaceDataset, protocol: SWDProtocol, seed: int) -> float:
    """SWD between two disjoint halves of the real images: the value of a perfect generator
    measured with this many images (SWD is biased upwards on small sets)."""
    perm = np.random.default_rng(seed).permutation(len(real))
    half = min(protocol.num_images, len(real) // 2)
    metric = SlicedWassersteinDistance(
        real.resolution,
        protocol.descriptors_per_image,
        protocol.directions,
        protocol.repeats,
        seed=seed,
    )
    for part, is_real in ((perm[:half], True), (perm[half : 2 * half], False)):
        for s in range(0, half, 256):
            imgs = torch.from_numpy(np.ascontiguousarray(real.images[np.sort(part[s : s + 256])]))
            metric.update(imgs.permute(0, 3, 1, 2), real=is_real)
    return float(metric.compute()["avg"])


def quality_section(ctx: EvalContext, cfg: DictConfig, out: Path) -> list[str]:
    """SWD (+ real floor), FID/KID when Illustration2Vec features are given, training curves."""
    swd = get_protocol(cfg.swd)
    assert isinstance(swd, SWDProtocol)
    values = swd.run(ctx)
    levels = ", ".join(f"{k[4:]} px {v:.1f}" for k, v in values.items() if k.startswith("swd_"))
    floor = real_floor(ctx.real, swd, cfg.seed)
    paragraphs = [
        "## Quality",
        f"Multi-scale sliced Wasserstein distance ({swd.name}, x1e3, lower is better) "
        f"against {int(values['real_images'])} real images: **{values['swd']:.2f}** "
        f"(per level: {levels}). Two halves of the real set give {floor:.2f}: the floor "
        f"with this many images.",
    ]
    if ctx.extractor is not None:
        fid = get_protocol(cfg.fid)
        assert isinstance(fid, FIDProtocol)
        v = fid.run(ctx)
        paragraphs.append(
            f"FID on Illustration2Vec features ({fid.name}: {int(v['real_images'])} real "
            f"images, "
            f"{fid.repeats} repeats): **{v['fid']:.2f}** (max-min {v['fid_spread']:.2f}); "
            f"KID {v['kid']:.4f}. The paper: 4607.56 (spread 122.96)."
        )
    else:
        paragraphs.append(
            "FID on Illustration2Vec features: not measured (no `i2v_features` weights given)."
        )
    curves = sorted((Path(cfg.ckpt).resolve().parent.parent / "metrics").glob("*.png"))
    for png in curves:
        shutil.copy(png, out / f"curve_{png.name}")
        paragraphs += [f"Training curve {png.stem} (Fig. 10):", f"![{png.stem}](curve_{png.name})"]
    return paragraphs


def memorization_section(
    sampler: Sampler,
    train: FaceDataset,
    spaces: dict[str, tuple[str, FeatureFn | None]],
    cfg: DictConfig,
    out: Path,
) -> list[str]:
    """Nearest training images of a few samples, one sheet per space: file name -> (what,
    features; ``None``: pixels)."""
    n, seed = cfg.memorization_samples, cfg.seed + 99
    images = sampler.images(sampler.noise(n, seed), sampler.conditions(n, None, seed))
    paragraphs = [
        "## Memorization check",
        f"{n} samples (left) and their {cfg.neighbours} nearest training images; a copied "
        f"training image would show up as a near-identical neighbour at a small distance.",
    ]
    for key, (space, features) in spaces.items():
        idx, dist = nearest_training(images, train, cfg.neighbours, features=features)
        name = f"memorization_{key}.png"
        save_png(memorization_sheet(images, train, idx, dist, space), out / name)
        paragraphs += [
            f"By {space} distance (median nearest distance {np.median(dist[:, 0]):.3f}):",
            f"![memorization {space}]({name})",
        ]
    return paragraphs


def judge_for_report(cfg: DictConfig, out: Path) -> tuple[object, list[str]]:
    """The given judge, Illustration2Vec's tagger, or a judge trained now on ``cfg.data.path``
    (saved to ``out/judge``); and the markdown paragraphs on its held-out reliability."""
    from anime_gan.data.datamodule import FaceDataModule
    from anime_gan.metrics.judge import TagJudge, load_i2v_judge, load_judge, save_judge
    from anime_gan.metrics.judge_training import JudgeTraining, format_held_out, train_judge

    if cfg.judge:
        judge = load_judge(cfg.judge)
        how = f"Judge: {cfg.judge}."
    elif cfg.i2v_tagger:
        return load_i2v_judge(cfg.i2v_tagger), [
            "Judge: Illustration2Vec's tagger (threshold 0.25)."
        ]
    else:
        dm = FaceDataModule(
            cfg.data.path, val_fraction=cfg.data.val_fraction, split_seed=cfg.data.split_seed
        )
        dm.setup()
        judge = train_judge(
            dm.train_set,
            dm.val_set,
            TagJudge(dm.train_set.resolution, channels=16),  # type: ignore[union-attr,arg-type]
            JudgeTraining(steps=cfg.judge_steps, seed=cfg.seed),
        )
        judge.name = f"a judge trained now on {cfg.data.path}"
        save_judge(judge, out / "judge")
        how = (
            f"Judge: a small CNN trained now on {cfg.data.path} for {cfg.judge_steps} steps "
            f"(saved in `judge/`; train a better one with `anime-gan judge-train`)."
        )
    return judge, [
        "### The judge's own reliability",
        how,
        format_held_out(judge.held_out, judge.known_tags),
    ]


def precision_section(ctx: EvalContext, protocol: PrecisionProtocol, out: Path) -> list[str]:
    """Table 2 (CSV + markdown) and its contact sheets; returns its markdown paragraphs."""
    from anime_gan.metrics.precision_table import (
        precision_rows,
        write_precision_sheets,
        write_precision_table,
    )

    result = protocol.result(ctx)
    rows = precision_rows(result, ctx.judge, protocol.per_tag)  # type: ignore[arg-type]
    _, md = write_precision_table(rows, out / "precision", ctx.judge.name)  # type: ignore[union-attr]
    write_precision_sheets(result, out / "precision")
    return [
        "## Per-label precision (Table 2)",
        md.read_text().removesuffix("\n"),
        "Samples per tag (judge verdicts on each tile in `precision/sheets/`):",
        "![overview](precision/overview.png)",
    ]


def build_report(cfg: DictConfig) -> Path:
    """Write every section into ``cfg.out``; returns the index.md path. ``cfg``: the keys of
    conf/report.yaml (``data.path``: the dataset; ``data.val_fraction``/``split_seed``: the
    held-out split of a judge trained now)."""
    start = time.time()
    out = check_output(cfg.out, REPORT)
    precision = get_protocol(cfg.precision)  # the names are checked before any work
    assert isinstance(precision, PrecisionProtocol)
    for tag in cfg.sweep_tags:
        tag_index(tag)
    out.mkdir(parents=True, exist_ok=True)
    sampler = Sampler.from_checkpoint(cfg.ckpt, device=cfg.device, batch_size=cfg.batch_size)
    real = load_dataset(cfg.data.path)
    judge, judge_paragraphs = judge_for_report(cfg, out)
    extractor = load_i2v_features(cfg.i2v_features) if cfg.i2v_features else None
    ctx = EvalContext(
        sampler.generate,
        sampler.z_dim,
        sampler.prior,
        real,
        batch_size=cfg.batch_size,
        seed=cfg.seed,
        judge=judge,
        cache=StatsCache(cfg.cache_dir),
        extractor=extractor,
    )
    paragraphs = [
        f"# Report: {cfg.ckpt}",
        f"Iteration {sampler.meta.get('iteration')}; generator "
        f"{sampler.meta.get('generator_config')}; "
        f"dataset {cfg.data.path} ({len(real)} images, {real.resolution} px).",
    ]
    paragraphs += figures_section(sampler, cfg, out)
    paragraphs += quality_section(ctx, cfg, out)
    paragraphs += precision_section(ctx, precision, out) + judge_paragraphs
    spaces: dict[str, tuple[str, FeatureFn | None]] = {"pixels": ("pixel RMS", None)}
    if hasattr(judge, "features"):
        spaces["judge"] = ("judge feature", judge.features)  # type: ignore[attr-defined]
    if cfg.memorization_i2v and extractor is not None:
        spaces["i2v"] = ("Illustration2Vec feature", extractor)
    paragraphs += memorization_section(sampler, real, spaces, cfg, out)
    paragraphs.append(f"_Generated in {time.time() - start:.0f} s by `anime-gan report`._")
    (out / "index.md").write_text("\n\n".join(paragraphs) + "\n")
    return out / "index.md"
