"""``anime-gan convert-i2v src=...``: Illustration2Vec caffemodel -> safetensors.

Settings in conf/convert_i2v.yaml; the work is :func:`anime_gan.tagging.convert.convert_caffemodel`.
"""

from omegaconf import DictConfig

from anime_gan.cli._hydra import log, stage
from anime_gan.errors import UserError
from anime_gan.tagging.convert import convert_caffemodel
from anime_gan.tagging.illust2vec import CAFFEMODEL, RELEASE_URL, Illust2VecArch


@stage("convert_i2v")
def main(cfg: DictConfig) -> None:
    """Convert ``cfg.src`` (kind ``auto``, ``tag`` or ``feature``) to ``cfg.out``."""
    if not cfg.src:
        raise UserError(
            f"convert-i2v needs src=PATH to {CAFFEMODEL['tag']} or "
            f"{CAFFEMODEL['feature']} (from {RELEASE_URL}): anime-gan convert-i2v "
            f"src=data/weights/{CAFFEMODEL['tag']}"
        )
    arch = Illust2VecArch(cfg.arch.width, cfg.arch.input_size)
    done = convert_caffemodel(cfg.src, cfg.out or None, kind=cfg.kind, arch=arch)
    log.info(
        "wrote the Illustration2Vec %s model (%d layers, %.1fM parameters) to %s",
        done.kind,
        done.layers,
        done.parameters / 1e6,
        done.out,
    )
