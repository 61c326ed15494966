"""`anime-gan train`: thin Hydra entry point around anime_gan.train.train."""

from __future__ import annotations

from omegaconf import DictConfig

from anime_gan.cli._hydra import stage


@stage("train")
def main(cfg: DictConfig) -> float | None:
    from anime_gan.train import train

    metrics = train(cfg)
    name = cfg.get("optimized_metric")
    if name:  # what a Hydra sweep optimises
        if name not in metrics:
            print(f"warning: optimized_metric {name!r} was not logged; logged: {sorted(metrics)}")
            return None
        return metrics[name]
    return None


if __name__ == "__main__":  # Lightning's DDP launcher re-runs this file for ranks > 0
    main()
