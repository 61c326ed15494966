"""``anime-gan judge-train``: train the precision judge on a dataset and report its held-out
precision/recall per tag."""

from omegaconf import DictConfig

from anime_gan.cli._hydra import stage
from anime_gan.device import resolve_device
from anime_gan.outputs import JUDGE, check_output


@stage("judge_train")
def main(cfg: DictConfig) -> None:
    """Train and save to ``cfg.out`` (judge.safetensors, judge.json, held_out.md)."""
    from anime_gan.data.datamodule import FaceDataModule
    from anime_gan.metrics.judge import TagJudge, save_judge
    from anime_gan.metrics.judge_training import JudgeTraining, format_held_out, train_judge

    data = cfg.data
    check_output(cfg.out, JUDGE)
    dm = FaceDataModule(str(data.path), val_fraction=data.val_fraction, split_seed=data.split_seed)
    dm.setup()
    arch = cfg.model
    model = TagJudge(
        arch.input_size or dm.train_set.resolution, arch.channels, arch.stages, arch.depth
    )
    judge = train_judge(
        dm.train_set, dm.val_set, model, JudgeTraining(**cfg.training), resolve_device(cfg.device)
    )
    judge.info["dataset"] = {
        "path": str(data.path),
        "val_fraction": data.val_fraction,
        "split_seed": data.split_seed,
        "train_images": len(dm.train_set),
        "held_out_images": len(dm.val_set or []),
    }
    out = save_judge(judge.to("cpu"), cfg.out)
    table = format_held_out(judge.held_out, judge.known_tags)
    (out / "held_out.md").write_text(f"# Judge trained on {data.path}\n\n{table}")
    print(table)
    print(f"judge saved to {out} (judge.safetensors, judge.json, held_out.md)")
