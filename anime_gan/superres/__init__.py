"""A 2x anime-face upscaler (SRGAN, paper 5.5), measured against plain resampling.

- :mod:`.model`: the SRResNet-style upscaler, its discriminator, :func:`.model.upscale_images`;
- :mod:`.data`: (downscaled, original) pairs with a PIL-compatible bicubic kernel;
- :mod:`.module`: the LightningModule (pixel loss + ``adv_weight`` x adversarial loss);
- :mod:`.measure`: PSNR / SSIM / gradient-energy sharpness against bicubic and Lanczos;
- :mod:`.report`: a run's and a sweep's tables, the Fig. 12-like sheet and the trade-off figure;
- :mod:`.images`: reading user images (the ONNX export is :func:`anime_gan.export.onnx.export_upscaler`).
"""
