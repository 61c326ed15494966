"""The charts of the reports (matplotlib on its Agg canvas) and the training curves' files."""

from __future__ import annotations

import csv

import numpy as np
from PIL import Image

from anime_gan.charts import bar_chart, save_curve


def test_save_curve_writes_the_points_as_csv_and_png(tmp_path) -> None:
    png = save_curve([(500, 102.0), (1000, 72.9)], tmp_path, "val_swd", "SWD", "val/swd")
    assert Image.open(png).size == (560, 340)
    with open(tmp_path / "val_swd.csv") as f:
        assert [(r["iteration"], r["val/swd"]) for r in csv.DictReader(f)] == [
            ("500", "102.0"),
            ("1000", "72.9"),
        ]
    single = save_curve([(7, 1.0)], tmp_path, "one", "one point", "v")  # x range of width 0
    assert Image.open(single).size == (560, 340)
    assert Image.open(save_curve([], tmp_path, "none", "no values", "v")).size == (560, 340)


def test_bar_chart_draws_one_bar_per_label_in_its_colour() -> None:
    chart = bar_chart(["a", "b"], [3, 5], "two bars", colors=["#ff0000", "#0000ff"])
    pixels = np.asarray(chart).reshape(-1, 3)
    assert chart.size == (900, 480) and chart.mode == "RGB"
    assert ((pixels == (255, 0, 0)).all(1)).sum() > 1000 and (
        (pixels == (0, 0, 255)).all(1)
    ).sum() > 1000
    rows = bar_chart([f"t{i}" for i in range(34)], list(range(34)), "tags", horizontal=True)
    assert rows.size == (820, 80 + 18 * 34)
