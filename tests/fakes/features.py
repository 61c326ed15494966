"""A feature extractor for tests: FID/KID without downloaded weights."""

from __future__ import annotations

import torch
from torch import nn


class RandomFeatures(nn.Module):
    """A frozen random conv net with the extractor contract: FID/KID without downloaded weights.

    Its numbers are only comparable with others from the same ``seed`` and size; they serve tests
    and smoke runs, never the paper's FID.
    """

    def __init__(self, num_features: int = 64, seed: int = 0, input_size: int = 32) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.num_features, self.input_size = num_features, input_size
        self.net = nn.Sequential(
            nn.Conv2d(3, 16, 3, 2, 1),
            nn.ReLU(),
            nn.Conv2d(16, 32, 3, 2, 1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(2),
            nn.Flatten(),
            nn.Linear(128, num_features),
        )
        for p in self.net.parameters():
            with torch.no_grad():
                p.copy_(torch.randn(p.shape, generator=gen) / max(1, p[0].numel()) ** 0.5)
        self.requires_grad_(False).eval()

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = torch.nn.functional.interpolate(
            images.float(),
            size=self.input_size,
            mode="bilinear",
            antialias=True,
            align_corners=False,
        )
        return self.net(x)
