"""`anime-gan sr-train`: thin Hydra entry point around anime_gan.superres.train.sr_train.

``-m`` runs a sweep (e.g. over ``sr.adv_weight``); :class:`SweepReport`, a Hydra callback named in
conf/sr_train.yaml, then gathers the jobs into one table, the trade-off figure and the sheet.
"""

from __future__ import annotations

import logging
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from anime_gan.cli._hydra import stage

log = logging.getLogger(__name__)


class SweepReport(Callback):
    """At the end of a multirun, ``anime_gan.superres.report.sweep_report`` on its sweep folder."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        from anime_gan.superres.report import sweep_report

        path = sweep_report(config.hydra.sweep.dir)
        if path is not None:
            print(f"sweep report: {path} (+ tradeoff.png, sheet.png)")


@stage("sr_train")
def main(cfg: DictConfig) -> float | None:
    from anime_gan.superres.train import sr_train
    from anime_gan.train import optimized_metric

    return optimized_metric(cfg, sr_train(cfg))


if __name__ == "__main__":
    main()
