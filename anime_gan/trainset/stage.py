"""Build the training set from face crops + tags (paper 3.1-3.2 and 5.1.3).

Reads the detect folder (``faces.jsonl`` + ``crops/``), the tag stage's ``tags.jsonl`` and the
review folder's ``rejects.txt``, and writes one dataset in the project's format
(:mod:`anime_gan.data.dataset`) plus a stats report (:mod:`anime_gan.reports.dataset`). In order:

1. crops named in the reject list are left out (so is a crop whose PNG was deleted);
2. the release-year filter: the paper trains on games released after 2005 (``min_year=2006``);
   a crop of unknown year is left out unless ``keep_unknown_year``; ``min_short_edge`` drops
   crops whose 1.5x box was small in the source;
3. labels: Illustration2Vec tags every image completely, so ``known`` is all ones; a crop
   without a tags row is skipped (``untagged="skip"``) or kept unlabelled (``"unlabelled"``,
   known all zeros);
4. each crop is resized from its master resolution (Lanczos, or ``resample="area"``);
5. duplicates are dropped, the first (by id) kept: ``exact`` pixel copies, or also ``near``
   copies by perceptual hash (:mod:`anime_gan.trainset.dedupe`).

The face's release year, game, source URL and boxes travel from the crawl manifest through the
detect stage's rows into each image's metadata.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections import Counter
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image
from tqdm import tqdm

from anime_gan.data.dataset import FaceDataset, check_dataset_output, save_dataset
from anime_gan.data.tags import NUM_TAGS
from anime_gan.device import resolve_device
from anime_gan.errors import UserError
from anime_gan.faces.records import crop_path, read_faces
from anime_gan.faces.review import INDEX_FILE, REJECTS_FILE, Rejects, load_index, read_rejects
from anime_gan.outputs import BUILD_REPORT, check_output
from anime_gan.reports.dataset import (
    UNKNOWN_YEAR,
    default_report_dir,
    sorted_years,
    write_report,
    year_key,
)
from anime_gan.trainset.dedupe import dhash, find_duplicates, pixel_sha256

#: Maps uint8 images [N, R, R, 3] to features [N, D] (Illustration2Vec's encode1 for Fig. 2).
FeatureFn = Callable[[np.ndarray], np.ndarray]


def illust2vec_features(weights: str | Path, device: str = "auto") -> FeatureFn:
    """A :data:`FeatureFn` of Illustration2Vec's 4,096-d ``encode1`` features (Fig. 2)."""
    import torch

    from anime_gan.tagging.illust2vec import load_features

    net = load_features(weights, resolve_device(device))

    @torch.no_grad()
    def features(images: np.ndarray) -> np.ndarray:
        return net(images).float().cpu().numpy()

    return features


@dataclass
class BuildParams:
    """What goes into the training set; the defaults are the paper's."""

    resolution: int = 128
    min_year: int | None = 2006  # the paper: games released after 2005
    max_year: int | None = None
    keep_unknown_year: bool = False
    min_short_edge: int = 0  # source px of the 1.5x box
    untagged: str = "skip"  # "skip" or "unlabelled"
    dedupe: str = "exact"  # "none", "exact" or "near"
    near_distance: int = 4  # dHash bits, for dedupe="near"
    resample: str = "lanczos"  # "lanczos" or "area"
    mean_face_samples: int = 1000  # per year, for Fig. 6
    tsne_samples: int = 1500  # for Fig. 2
    seed: int = 0
    workers: int = 0  # crop-loading processes; 0 = one per CPU core

    def __post_init__(self) -> None:
        choices = {
            "untagged": ("skip", "unlabelled"),
            "dedupe": ("none", "exact", "near"),
            "resample": ("lanczos", "area"),
        }
        for name, options in choices.items():
            value = getattr(self, name)
            if value not in options:
                raise UserError(
                    f"{name}={value!r} is not an option: use one of {', '.join(options)}."
                )


@dataclass
class BuildResult:
    out: Path
    report_dir: Path
    report: dict[str, Any]


def load_tags(path: str | Path) -> dict[str, np.ndarray]:
    """Face id -> uint8 [34] hard labels from the tag stage's ``tags.jsonl`` (its reader checks
    every row). A missing file is an empty mapping."""
    from anime_gan.tagging.tagger import read_tags  # torch: imported only when there are tags

    if not Path(path).exists():
        return {}
    return {str(k): (v[1] > 0).astype(np.uint8) for k, v in read_tags(path).items()}


def _year_ok(year: int | None, p: BuildParams) -> bool:
    if year is None:
        return p.keep_unknown_year
    return (p.min_year is None or year >= p.min_year) and (p.max_year is None or year <= p.max_year)


def _load_crop(
    path: str, resolution: int, resample: str, want_hash: bool
) -> tuple[np.ndarray | None, str | None, int | None]:
    """One crop at the training resolution, with the SHA-256 and dHash of its master pixels."""
    try:
        with Image.open(path) as im:
            rgb = im.convert("RGB")
    except (OSError, ValueError):
        return None, None, None
    master, size = np.asarray(rgb), (resolution, resolution)
    if resample == "area":
        img = cv2.resize(master, size, interpolation=cv2.INTER_AREA)
    else:
        img = np.asarray(rgb.resize(size, Image.Resampling.LANCZOS))
    return img, pixel_sha256(master), dhash(master) if want_hash else None


def _load_all(faces_dir: Path, rows: list[dict], p: BuildParams, progress: bool) -> tuple:
    """Images [M, R, R, 3] (zeros where unreadable), digests and hashes (None where unreadable)."""
    r = p.resolution
    images = np.zeros((len(rows), r, r, 3), np.uint8)
    digests: list[str | None] = [None] * len(rows)
    hashes: list[int | None] = [None] * len(rows)
    paths = [str(crop_path(faces_dir, row)) for row in rows]
    load = partial(_load_crop, resolution=r, resample=p.resample, want_hash=p.dedupe == "near")
    workers = min(p.workers or os.cpu_count() or 1, max(len(paths) // 64, 1))
    with mp.get_context().Pool(workers) if workers > 1 else nullcontext() as pool:
        results = pool.imap(load, paths, chunksize=32) if pool else map(load, paths)
        bar = tqdm(results, total=len(paths), desc="build", unit="img", disable=not progress)
        for i, (img, digest, h) in enumerate(bar):
            if img is not None:
                images[i], digests[i], hashes[i] = img, digest, h
    return images, digests, hashes


def _sample_mean_faces(rows: list[dict], n: int, seed: int) -> dict[str, str]:
    """Up to ``n`` ids per release year (seeded), for Fig. 6: id -> year key."""
    by_year: dict[str, list[str]] = {}
    for row in rows:
        by_year.setdefault(year_key(row.get("year")), []).append(row["id"])
    rng = np.random.default_rng(seed)
    return {
        str(face_id): year
        for year, ids in by_year.items()
        for face_id in (rng.choice(ids, n, replace=False) if len(ids) > n else ids)
    }


def _metadata(row: dict[str, Any], tagged: bool) -> dict[str, Any]:
    src = str(row.get("source", row.get("source_path", "")))
    side = int(row.get("short_edge") or 0)
    keys = ("box", "crop_box", "short_edge", "padded", "source_path", "game_id", "release_date")
    return {
        "id": row["id"],
        "source": f"{'crawl' if src.startswith('http') else 'folder'}:{src}",
        "year": row.get("year"),
        "width": side,
        "height": side,
        **{k: row.get(k) for k in keys},
        "tagged": tagged,
    }


def _deduplicate(
    n: int, digests: list, hashes: list, p: BuildParams
) -> tuple[list[int], dict[int, int], list[int]]:
    """Of the first ``n`` loaded crops: the indices that loaded, the duplicates among them
    (position in ``loaded`` -> position of the copy kept) and the indices kept."""
    loaded = [i for i in range(n) if digests[i] is not None]
    dupes: dict[int, int] = {}
    if p.dedupe != "none":
        near = [hashes[i] for i in loaded] if p.dedupe == "near" else None
        dupes = find_duplicates([digests[i] for i in loaded], near, p.near_distance)
    return loaded, dupes, [i for j, i in enumerate(loaded) if j not in dupes]


def build_dataset(
    faces_dir: str | Path,
    tags_path: str | Path,
    out: str | Path,
    params: BuildParams | None = None,
    review_dir: str | Path | None = None,
    report_dir: str | Path | None = None,
    features: FeatureFn | None = None,
    progress: bool = True,
) -> BuildResult:
    """Write the training set to ``out`` and its report to ``report_dir`` (default
    ``<out>/report``, or ``<out stem>_report`` beside a ``.zip``)."""
    p = params or BuildParams()
    faces_dir, out = Path(faces_dir), Path(out)
    report_dir = Path(report_dir) if report_dir else default_report_dir(out)
    inputs = {"faces": faces_dir, "tags": tags_path, "review": review_dir}
    check_dataset_output(out, inputs)
    if report_dir.parent != out:  # <out>/report is part of the dataset folder
        check_output(report_dir, BUILD_REPORT, inputs, option="report")
    rows = read_faces(faces_dir)
    rejects = Rejects()
    if review_dir is not None:
        index = load_index(Path(review_dir) / INDEX_FILE)
        rejects = read_rejects(Path(review_dir) / REJECTS_FILE, index, {r["id"] for r in rows})
    available = [r for r in rows if r["id"] not in rejects.ids]
    tags = load_tags(tags_path)
    if not tags and p.untagged == "skip":
        raise UserError(
            f"no tags in {tags_path}: run `make tag` first, or build unlabelled "
            f"images with params.untagged=unlabelled."
        )
    candidates, counts = _select(available, tags, p)
    samples = _sample_mean_faces(available, p.mean_face_samples, p.seed)
    chosen = {r["id"] for r in candidates}
    extra = [r for r in available if r["id"] in samples and r["id"] not in chosen]
    images, digests, hashes = _load_all(faces_dir, candidates + extra, p, progress)
    means = _mean_faces(images, candidates + extra, digests, samples)
    loaded, dupes, keep = _deduplicate(len(candidates), digests, hashes, p)
    if not keep:
        raise UserError(
            f"no image is left after the filters ({dict(counts)}, {len(rejects.ids)} "
            f"rejected): check min_year/max_year, the tags file and rejects.txt."
        )
    ds = _assemble(images, candidates, keep, tags)
    stats = {
        "faces": len(rows),
        "rejected": len(rejects.ids),
        "unknown_rejects": rejects.unknown,
        "available": len(available),
        "year_filtered": counts["year"],
        "too_small": counts["small"],
        "untagged_skipped": counts["untagged"],
        "unlabelled": sum(not m["tagged"] for m in ds.metadata),
        "missing_crops": len(candidates) - len(loaded),
        "duplicates": len(dupes),
        "count": len(ds),
        "resolution": p.resolution,
        "params": asdict(p),
        "duplicate_of": {
            candidates[loaded[j]]["id"]: candidates[loaded[k]]["id"]
            for j, k in list(dupes.items())[:1000]
        },
    }
    summary = {k: stats[k] for k in ("faces", "rejected", "year_filtered", "duplicates", "count")}
    save_dataset(
        ds,
        out,
        inputs,
        source="build",
        faces=str(faces_dir),
        tags=str(tags_path),
        report=summary,
        build=asdict(p),
    )
    years = Counter(year_key(r.get("year")) for r in available)
    passing = [k for k in years if k != UNKNOWN_YEAR and _year_ok(int(k), p)]
    passing += [UNKNOWN_YEAR] if p.keep_unknown_year else []
    report = write_report(
        report_dir,
        stats,
        ds.labels,
        ds.known,
        years,
        passing,
        [int(m["short_edge"] or 0) for m in ds.metadata],
        means,
        _tsne(ds, features, p) if features is not None else None,
    )
    return BuildResult(out, report_dir, report)


def _select(rows: list[dict], tags: dict[str, np.ndarray], p: BuildParams) -> tuple[list, Counter]:
    """The rows that pass the year, size and tag filters, and why the others did not."""
    counts: Counter = Counter()
    kept = []
    for row in rows:
        reason = (
            "year"
            if not _year_ok(row.get("year"), p)
            else "small"
            if int(row.get("short_edge") or 0) < p.min_short_edge
            else "untagged"
            if row["id"] not in tags and p.untagged == "skip"
            else None
        )
        counts[reason or "candidate"] += 1
        if reason is None:
            kept.append(row)
    return kept, counts


def _assemble(
    images: np.ndarray, rows: list[dict], keep: list[int], tags: dict[str, np.ndarray]
) -> FaceDataset:
    """The dataset of ``rows[i]`` for ``i`` in ``keep``; ``images`` is compacted in place (no
    second copy of the images)."""
    for j, i in enumerate(keep):
        images[j] = images[i]
    kept = [rows[i] for i in keep]
    tagged = [r["id"] in tags for r in kept]
    return FaceDataset(
        images[: len(keep)],
        np.stack([tags.get(r["id"], np.zeros(NUM_TAGS, np.uint8)) for r in kept]),
        np.array([[t] * NUM_TAGS for t in tagged], np.uint8),
        [_metadata(r, t) for r, t in zip(kept, tagged)],
    )


def _mean_faces(
    images: np.ndarray, rows: list[dict], digests: list, samples: dict[str, str]
) -> list[tuple[str, np.ndarray, int]]:
    """(year, mean uint8 image, count) per year, years ascending and unknown last."""
    by_year: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        if row["id"] in samples and digests[i] is not None:
            by_year.setdefault(samples[row["id"]], []).append(i)
    means = {y: images[idx].mean(0, dtype=np.float64) for y, idx in by_year.items()}
    return [
        (y, np.clip(np.rint(means[y]), 0, 255).astype(np.uint8), len(by_year[y]))
        for y in sorted_years(by_year)
    ]


def _tsne(
    ds: FaceDataset, features: FeatureFn, p: BuildParams
) -> tuple[np.ndarray, np.ndarray] | None:
    """t-SNE coordinates of the features of up to ``tsne_samples`` images, and those images."""
    if len(ds) < 4:
        return None
    rng = np.random.default_rng(p.seed)
    idx = np.sort(rng.choice(len(ds), min(p.tsne_samples, len(ds)), replace=False))
    images = np.asarray(ds.images[idx])
    batches = [images[k : k + 64] for k in range(0, len(images), 64)]
    feats = np.concatenate(
        [np.asarray(features(b), np.float64).reshape(len(b), -1) for b in batches]
    )
    return tsne_2d(feats, seed=p.seed), images


def tsne_2d(x: np.ndarray, seed: int = 0, perplexity: float = 30.0) -> np.ndarray:
    """2-D t-SNE of the rows of ``x`` (N >= 4) after PCA to 50 dimensions, as the paper's Fig. 2
    maps 1,500 Illustration2Vec features."""
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    x = np.asarray(x, np.float64)
    if x.shape[1] > 50:
        x = PCA(min(50, len(x)), random_state=seed).fit_transform(x)
    tsne = TSNE(2, perplexity=min(perplexity, (len(x) - 1) / 3), init="pca", random_state=seed)
    return tsne.fit_transform(x)
