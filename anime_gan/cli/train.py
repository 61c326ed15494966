"""`anime-gan train`: thin Hydra entry point around anime_gan.train.train."""

from omegaconf import DictConfig

from anime_gan.cli._hydra import stage


@stage("train")
def main(cfg: DictConfig) -> float | None:
    from anime_gan.train import optimized_metric, train

    return optimized_metric(cfg, train(cfg))


if __name__ == "__main__":  # Lightning's DDP launcher re-runs this file for ranks > 0
    main()
