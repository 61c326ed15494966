"""The Pillow plotting helpers shared by the metric curves and the super-resolution figures."""

from __future__ import annotations

import csv

from PIL import Image, ImageDraw, ImageFont

from anime_gan.metrics.curve import save_curve
from anime_gan.viz import nice_ticks, plot_frame


def test_nice_ticks_are_round_and_inside_the_range() -> None:
    assert nice_ticks(0, 100) == [0, 20, 40, 60, 80, 100]
    assert nice_ticks(61.3, 104.2) == [70, 80, 90, 100]
    assert nice_ticks(29.5, 34.4) == [30, 31, 32, 33, 34]
    assert nice_ticks(5.0, 5.0) == [5.0]  # an empty range: one tick, no division by zero


def test_plot_frame_maps_the_data_range_onto_the_inner_box() -> None:
    img = Image.new("RGB", (200, 100), "white")
    to_px = plot_frame(ImageDraw.Draw(img), ImageFont.load_default(), (200, 100), (20, 10, 5, 15),
                       (0.0, 10.0), (-1.0, 1.0))
    assert to_px(0.0, -1.0) == (20, 85) and to_px(10.0, 1.0) == (190, 5)
    assert img.getpixel((20, 5)) == (0, 0, 0)  # the frame is drawn


def test_save_curve_writes_the_points_as_csv_and_png(tmp_path) -> None:
    png = save_curve([(500, 102.0), (1000, 72.9)], tmp_path, "val_swd", "SWD", "val/swd")
    assert Image.open(png).size == (560, 340)
    with open(tmp_path / "val_swd.csv") as f:
        assert [(r["iteration"], r["val/swd"]) for r in csv.DictReader(f)] == [("500", "102.0"), ("1000", "72.9")]
    single = save_curve([(7, 1.0)], tmp_path, "one", "one point", "v")  # x range of width 0
    assert Image.open(single).size == (560, 340)
