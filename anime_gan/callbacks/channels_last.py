"""Channels-last networks: NHWC convolutions, the layout tensor cores and cuDNN run fastest.

The datamodule already hands over images in channels_last layout (a free view of the stored
NHWC uint8 set); this callback puts G, D and the EMA copy in the same layout, so no convolution
needs a layout change. It changes speed only: the values computed are the same.
"""

import lightning as L
import torch


class ChannelsLast(L.Callback):
    """Convert the module's 4-D weights to channels_last before the optimizers are built, and
    any restored optimizer state (moments saved from a contiguous run) to match them."""

    def setup(self, trainer, pl_module, stage) -> None:
        pl_module.to(memory_format=torch.channels_last)

    def on_train_start(self, trainer, pl_module) -> None:
        for optimizer in trainer.optimizers:
            for param, state in optimizer.state.items():
                if param.dim() != 4:
                    continue
                for key, value in state.items():
                    if isinstance(value, torch.Tensor) and value.shape == param.shape:
                        state[key] = value.contiguous(memory_format=torch.channels_last)
