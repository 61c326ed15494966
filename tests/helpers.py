"""Helpers shared by tests: tiny datasets and the real training config, shrunk for CPU."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig, open_dict

from anime_gan.cli._hydra import CONF_DIR
from anime_gan.data.dataset import FaceDataset, save_dataset
from anime_gan.data.priors import LabelPrior

TINY_MODEL = [
    "model.generator.channels=8",
    "model.generator.num_res_blocks=1",
    "model.discriminator.channels=4",
]


def tiny_dataset(path: Path, n: int = 24, resolution: int = 16, seed: int = 0) -> Path:
    """Random images with labels drawn from the training prior, saved in the dataset format."""
    rng = np.random.default_rng(seed)
    labels = LabelPrior.training().sample(n, generator=torch.Generator().manual_seed(seed))
    labels = labels.numpy().astype(np.uint8)
    images = rng.integers(0, 256, (n, resolution, resolution, 3), dtype=np.uint8)
    meta = [
        {"id": f"t{i}", "source": "test", "year": None, "width": resolution, "height": resolution}
        for i in range(n)
    ]
    return save_dataset(FaceDataset(images, labels, np.ones_like(labels), meta), path)


def train_config(data_path: Path, out: Path, *overrides: str) -> DictConfig:
    """The real `train` config with experiment=demo, a tiny model, no logger, CPU."""
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(
            "train",
            overrides=[
                "experiment=demo",
                f"data.path={data_path}",
                "data.resolution=16",
                "data.batch_size=8",
                "data.val_fraction=0",
                "~logger",
                "trainer.enable_progress_bar=false",
                "~callbacks.progress_bar",
                "trainer.enable_model_summary=false",
                "callbacks.every_n_iterations=2",
                *TINY_MODEL,
                *overrides,
            ],
        )
    with open_dict(cfg):
        cfg.paths.output_dir = str(out)
    return cfg
