"""Illustration2Vec's input preprocessing (as its release's reference code), in one place.

The reference (rezoo/illustration2vec) takes RGB values in 0-255 (grey -> 3 channels, alpha
dropped), resizes to 224x224 with bilinear interpolation, flips RGB -> BGR and subtracts a mean
pixel; there is no division by 255. Its resize is skimage's order-1 ``resize`` of that time (pixel
centres aligned, no anti-aliasing), which ``F.interpolate(..., "bilinear", align_corners=False)``
reproduces.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

#: Illustration2Vec's mean pixel in BGR order, subtracted from 0-255 values.
I2V_MEAN_BGR: tuple[float, float, float] = (164.76139251, 167.47864617, 181.13838569)
INPUT_SIZE = 224

ImageLike = np.ndarray | torch.Tensor
Images = ImageLike | Sequence[ImageLike]


def _rgb_0_255(image: ImageLike, device: torch.device | str | None) -> torch.Tensor:
    """One array/tensor (a single image or a batch) as float32 RGB [N, 3, H, W] in 0-255."""
    if isinstance(image, np.ndarray):
        if image.dtype != np.uint8:
            raise TypeError(
                f"numpy images must be uint8 RGB (as decoded), got {image.dtype}; "
                f"pass float images as torch tensors in [-1, 1]"
            )
        if image.ndim == 2:  # H, W grey
            image = image[:, :, None]
        # torch.from_numpy wants a writable array (PIL's are read-only)
        x = torch.from_numpy(np.require(image, requirements="CW")).to(device)
        x = x.reshape(-1, *x.shape[-3:]).permute(0, 3, 1, 2)
    elif isinstance(image, torch.Tensor):
        x = image.to(device).reshape(-1, *image.shape[-3:])
    else:
        raise TypeError(f"expected a numpy array or a torch tensor, got {type(image).__name__}")
    if x.dtype == torch.uint8:
        x = x.float()
    elif x.is_floating_point():
        x = (x.float() + 1.0) * 127.5  # the generator's range [-1, 1] -> 0-255
    else:
        raise TypeError(f"image tensors must be uint8 (0-255) or float ([-1, 1]), got {x.dtype}")
    if x.shape[1] not in (1, 3, 4):
        raise ValueError(f"images need 1 (grey), 3 (RGB) or 4 (RGBA) channels, got {x.shape[1]}")
    return x[:, :3].expand(-1, 3, -1, -1)  # grey -> 3 channels, alpha dropped


def preprocess(
    images: Images, size: int = INPUT_SIZE, device: torch.device | str | None = None
) -> torch.Tensor:
    """Images -> Illustration2Vec's input: float32 [N, 3, size, size], BGR, mean subtracted.

    Accepted, so that real crops and generator outputs go through the same code:

    - uint8 numpy arrays, as decoded: [H, W] grey, [H, W, C] or [N, H, W, C] with C in {1, 3, 4};
    - uint8 tensors [C, H, W] or [N, C, H, W] in 0-255 (what torchmetrics' FID passes);
    - float tensors [C, H, W] or [N, C, H, W] in the generator's range [-1, 1];
    - a list of any of these (sizes may differ: each is resized on its own).

    Grey becomes 3 channels and alpha is dropped. ``size`` is 224 for the released networks.
    """
    if isinstance(images, (list, tuple)):
        return torch.cat([preprocess(im, size, device) for im in images])
    x = _rgb_0_255(images, device)  # type: ignore[arg-type]
    if x.shape[-2:] != (size, size):
        x = F.interpolate(
            x, size=(size, size), mode="bilinear", align_corners=False, antialias=False
        )
    mean = torch.tensor(I2V_MEAN_BGR, dtype=torch.float32, device=x.device).view(1, 3, 1, 1)
    return x.flip(1) - mean  # RGB -> BGR, then the BGR mean; no /255
