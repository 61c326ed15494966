"""``anime-gan build`` (``make dataset``): crops + tags -> the training set and its stats report;
config conf/build.yaml."""

from hydra.utils import instantiate
from omegaconf import DictConfig

from anime_gan.cli._hydra import stage
from anime_gan.trainset.stage import build_dataset, illust2vec_features


@stage("build")
def main(cfg: DictConfig) -> None:
    """Build ``cfg.out`` and print its counts and where the report is."""
    features = illust2vec_features(cfg.tsne.weights, cfg.tsne.device) if cfg.tsne.weights else None
    result = build_dataset(
        cfg.faces,
        cfg.tags,
        cfg.out,
        instantiate(cfg.params),
        review_dir=cfg.review,
        report_dir=cfg.report,
        features=features,
        progress=cfg.progress,
    )
    r = result.report
    print(
        f"{r['faces']} crops: {r['rejected']} rejected, {r['year_filtered']} outside the years, "
        f"{r['too_small']} too small, {r['untagged_skipped']} untagged, {r['missing_crops']} "
        f"unreadable, {r['duplicates']} duplicates"
    )
    print(f"wrote {r['count']} images at {r['resolution']}x{r['resolution']} to {result.out}")
    print(f"report: {result.report_dir} ({', '.join(r['files'])})")
    if r["unknown_rejects"]:
        print(
            f"warning: rejects.txt entries that match no crop: {', '.join(r['unknown_rejects'][:10])}"
        )
    if not cfg.tsne.weights:
        print(
            "t-SNE map (Fig. 2) skipped: set tsne.weights to the converted Illustration2Vec "
            "feature weights (illust2vec_ver200.safetensors)."
        )
