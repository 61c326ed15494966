"""`anime-gan upscale`: 2x-upscale image files with a trained upscaler, or export it to ONNX."""

from __future__ import annotations

import torch
from omegaconf import DictConfig

from anime_gan.cli._hydra import stage
from anime_gan.errors import UserError
from anime_gan.outputs import UPSCALE, check_output


@stage("upscale")
def main(cfg: DictConfig) -> None:
    from anime_gan.superres.images import list_inputs, upscale_files
    from anime_gan.superres.model import load_upscaler

    if not cfg.input and not cfg.export_onnx:
        raise UserError(
            "nothing to do: give input=<image file or folder> (and out=<folder>) to "
            "upscale, and/or export_onnx=<path.onnx> to export the upscaler."
        )
    inputs = list_inputs(cfg.input) if cfg.input else []  # checked before the model loads
    if inputs:
        check_output(cfg.out, UPSCALE, {"input": cfg.input})
    model, meta = load_upscaler(cfg.ckpt)
    print(
        f"upscaler from {cfg.ckpt}: adv_weight {meta['adv_weight']}, iteration {meta['iteration']}"
    )
    if inputs:
        print(f"wrote {len(upscale_files(model, inputs, cfg.out))} upscaled image(s) to {cfg.out}")
    if cfg.export_onnx:
        from anime_gan.export.onnx import export_upscaler, upscaler_parity

        path = export_upscaler(model, cfg.export_onnx)
        check = upscaler_parity(model, path, torch.rand(2, 3, 24, 40) * 2 - 1)
        print(
            f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB); ONNX vs PyTorch max abs "
            f"difference {check['max_abs']:.2e} (one grey level = 7.8e-03)"
        )


if __name__ == "__main__":
    main()
