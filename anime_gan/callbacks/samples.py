"""Fixed-noise, fixed-tag sample grids during training (PNG in the run folder + the logger)."""

from pathlib import Path

import lightning as L
import torch
from PIL import Image

from anime_gan.data.tags import EXCLUSIVE_GROUPS, TAG_NAMES
from anime_gan.data.transforms import nchw_to_nhwc, to_uint8
from anime_gan.viz import labelled_grid, save_png


def hair_color_conditions(
    num_cols: int, z_dim: int, seed: int
) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """One row per hair color, ``num_cols`` noise vectors shared by all rows.

    The other tags are fixed per column (drawn once from the training prior with ``seed``), so a
    row shows one hair color and a column shows one face: the grid tests hair-color control.
    """
    from anime_gan.data.priors import LabelPrior

    gen = torch.Generator().manual_seed(seed)
    hair = torch.as_tensor(EXCLUSIVE_GROUPS["hair_color"])
    c = LabelPrior.training().sample(num_cols, generator=gen).repeat(len(hair), 1)
    z = torch.randn(num_cols, z_dim, generator=gen).repeat(len(hair), 1)
    c[:, hair] = 0
    c[torch.arange(len(c)), hair.repeat_interleave(num_cols)] = 1
    return z, c, [TAG_NAMES[int(i)] for i in hair]


class SampleGrid(L.Callback):
    """Every ``every_n_iterations``, draw the hair-color grid with the EMA generator (``ema=False``:
    the raw one, as the paper samples), save it as ``<run>/samples/iter_XXXXXXX.png`` and log it
    through the logger's image API."""

    def __init__(
        self,
        every_n_iterations: int = 1000,
        num_cols: int = 8,
        seed: int = 0,
        dirpath: str | None = None,
        scale: int = 2,
        ema: bool = True,
    ) -> None:
        self.every, self.num_cols, self.seed, self.scale = every_n_iterations, num_cols, seed, scale
        self.ema, self.dirpath, self._last = ema, dirpath, -1

    def render(self, pl_module: L.LightningModule) -> Image.Image:
        z, c, names = hair_color_conditions(self.num_cols, pl_module.generator.z_dim, self.seed)
        images = nchw_to_nhwc(to_uint8(pl_module.generate(z, c, ema=self.ema)))
        return labelled_grid(images, self.num_cols, names, self.scale)

    def _save(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        it = pl_module.iteration
        if it == self._last or not trainer.is_global_zero:
            return
        self._last = it
        grid = self.render(pl_module)
        folder = Path(self.dirpath or Path(trainer.default_root_dir) / "samples")
        save_png(grid, folder / f"iter_{it:07d}.png")
        save_png(grid, folder / "latest.png")
        for logger in trainer.loggers:
            if hasattr(logger, "log_image"):
                logger.log_image(
                    key="samples/hair_color",
                    images=[grid],
                    step=trainer.global_step,
                    caption=[f"iteration {it}"],
                )

    def on_train_batch_end(self, trainer, pl_module, *args) -> None:
        if self.every and pl_module.iteration % self.every == 0:
            self._save(trainer, pl_module)

    def on_train_end(self, trainer, pl_module) -> None:
        self._save(trainer, pl_module)
