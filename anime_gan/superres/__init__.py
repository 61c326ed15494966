"""A 2x anime-face upscaler (SRGAN, paper 5.5), measured against plain resampling.

- :mod:`.model`: the SRResNet-style upscaler, its discriminator, :func:`.model.upscale_images`;
- :mod:`.data`: (downscaled, original) pairs with a PIL-compatible bicubic kernel;
- :mod:`.module`: the LightningModule (pixel loss + ``adv_weight`` x adversarial loss);
- :mod:`.measure`: PSNR / SSIM / gradient-energy sharpness against bicubic and Lanczos;
- :mod:`.sheet`: the Fig. 12-like comparison sheet and the sharpness-against-PSNR figure;
- :mod:`.images`: reading user images (the ONNX export is :func:`anime_gan.export.onnx.export_upscaler`).
"""
