"""``anime-gan export``: a checkpoint's generator -> ONNX variants + model.json for the web page."""

from omegaconf import DictConfig

from anime_gan.cli._hydra import stage


@stage("export")
def main(cfg: DictConfig) -> None:
    from anime_gan.export.bundle import export_bundle

    card = export_bundle(
        cfg.ckpt,
        cfg.out,
        variants=list(cfg.variants),
        default_variant=cfg.default_variant,
        samples=cfg.samples,
        seed=cfg.seed,
        ema=cfg.ema,
    )
    print(
        f"exported {card['resolution']}x{card['resolution']} generator (iteration "
        f"{card['source']['iteration']}) to {cfg.out}:"
    )
    for name, entry in card["models"].items():
        p = entry["parity"]
        psnr = "identical" if p["psnr_db"] is None else f"PSNR {p['psnr_db']} dB"
        print(
            f"  {name:<13}{entry['file']:<30}{entry['bytes'] / 1e6:7.2f} MB   max |diff| {p['max_abs']:.2e}  "
            f"mean {p['mean_abs']:.2e}  {psnr}"
        )
    print(
        f"  model.json: tag schema, {card['prior']['kind']} prior, default variant {card['default_variant']}"
    )
