"""The one place that wraps Hydra: every stage's entry point is ``@stage("config_name")``."""

import functools
import logging
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hydra
from omegaconf import DictConfig, OmegaConf

from anime_gan.cli.options import check_options
from anime_gan.errors import UserError

#: The project's Hydra configs: the repository's conf/ (override with ANIME_GAN_CONF).
CONF_DIR = Path(os.environ.get("ANIME_GAN_CONF") or Path(__file__).resolve().parents[2] / "conf")

log = logging.getLogger("anime_gan")

# ${mul:2,${iterations}}: configs state lengths in iterations, Lightning counts optimizer steps.
OmegaConf.register_new_resolver("mul", lambda *xs: math.prod(xs), replace=True)


def stage(config_name: str) -> Callable[[Callable[[DictConfig], Any]], Callable[[], Any]]:
    """Decorate a stage function ``fn(cfg)`` as a Hydra entry point.

    Every numeric and list-valued option is checked first (:mod:`anime_gan.cli.options`). A
    :class:`UserError` ends the command with its one-sentence message and exit status 2, never
    a traceback.
    """
    if not (CONF_DIR / f"{config_name}.yaml").exists():
        raise RuntimeError(f"no Hydra config {config_name}.yaml in {CONF_DIR}: set ANIME_GAN_CONF")

    def decorate(fn: Callable[[DictConfig], Any]) -> Callable[[], Any]:
        @hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name=config_name)
        @functools.wraps(fn)
        def task(cfg: DictConfig) -> Any:
            try:
                check_options(config_name, cfg)
                return fn(cfg)
            except UserError as e:
                print(f"error: {e}", file=sys.stderr)
                sys.exit(2)
            except KeyboardInterrupt:
                print(
                    "interrupted: what was finished is kept; run the same command to resume.",
                    file=sys.stderr,
                )
                sys.exit(130)

        return task

    return decorate
