"""Image normalisation, in one place: uint8 [0, 255] <-> float [-1, 1] (the generator's tanh range)."""

import numpy as np
import torch


def to_model_range(images: torch.Tensor) -> torch.Tensor:
    """uint8 images (any layout) -> float32 in [-1, 1]."""
    return images.float().div_(127.5).sub_(1.0)


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """Model-range images in [-1, 1] -> uint8 in [0, 255] (clamped, rounded)."""
    return images.detach().float().add(1.0).mul_(127.5).round_().clamp_(0, 255).to(torch.uint8)


def nhwc_to_nchw(images: np.ndarray | torch.Tensor) -> torch.Tensor:
    """[N, H, W, 3] arrays (as stored) -> [N, 3, H, W] tensors (as models take them)."""
    return torch.as_tensor(np.asarray(images)).permute(0, 3, 1, 2)


def nchw_to_nhwc(images: torch.Tensor) -> np.ndarray:
    return images.permute(0, 2, 3, 1).cpu().numpy()
