"""Example images per tag, and finding the figures of a dataset's build report."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from PIL import Image

from anime_gan.data.dataset import FaceDataset
from anime_gan.data.examples import tag_examples, tag_examples_grid
from anime_gan.data.tags import NUM_TAGS, TAG_INDEX
from anime_gan.errors import UnknownTagError
from anime_gan.reports.dataset import (
    default_report_dir,
    report_figures,
    tag_counts,
    tags_chart,
    write_report,
)


@pytest.fixture
def ds() -> FaceDataset:
    """10 images whose pixels hold their index; smile on images 0-5, known on 0-3 and 6-9;
    hat on image 7 only."""
    n = 10
    images = np.repeat(np.arange(n, dtype=np.uint8), 8 * 8 * 3).reshape(n, 8, 8, 3)
    labels, known = np.zeros((n, NUM_TAGS), np.uint8), np.ones((n, NUM_TAGS), np.uint8)
    labels[:6, TAG_INDEX["smile"]] = 1
    known[4:6, TAG_INDEX["smile"]] = 0
    labels[7, TAG_INDEX["hat"]] = 1
    return FaceDataset(images, labels, known, [{"id": str(i)} for i in range(n)])


def test_tag_examples_are_known_positives_drawn_at_random(ds):
    assert tag_examples(ds, "smile", 10).tolist() == [0, 1, 2, 3]  # 4, 5: unknown, not shown
    picks = {tuple(tag_examples(ds, "Smile", 2, seed=s)) for s in range(20)}
    assert all(len(p) == 2 and set(p) <= {0, 1, 2, 3} and list(p) == sorted(p) for p in picks)
    assert len(picks) > 1
    assert tag_examples(ds, "smile", 2, seed=3).tolist() == tag_examples(ds, "smile", 2, 3).tolist()
    assert tag_examples(ds, "glasses", 5).tolist() == []
    with pytest.raises(UnknownTagError):
        tag_examples(ds, "smiel", 2)


def test_tag_examples_grid_one_row_per_tag_blank_when_short(ds):
    grid = np.asarray(tag_examples_grid(ds, ["smile", "hat"], per_tag=3, min_size=16))
    cell = 2 * 8 + 2 * 2  # 8 px scaled x2, the grid's 2 px padding scaled too
    assert grid.shape == (2 * cell + 4, 80 + 3 * cell + 4, 3)
    tile = lambda r, c: grid[4 + r * cell + 4, 80 + 4 + c * cell + 4]  # noqa: E731
    assert set(tile(0, c)[0] for c in range(3)) <= {0, 1, 2, 3}
    assert tile(1, 0)[0] == 7 and (tile(1, 1) == 255).all() and (tile(1, 2) == 255).all()
    full = tag_examples_grid(ds, per_tag=2, min_size=8)
    assert full.height == NUM_TAGS * (8 + 2) + 2


def test_report_dir_and_figures(tmp_path, ds):
    assert default_report_dir(tmp_path / "getchu128") == tmp_path / "getchu128" / "report"
    assert default_report_dir(tmp_path / "getchu128.zip") == tmp_path / "getchu128_report"
    report = default_report_dir(tmp_path / "ds")
    assert report_figures(report) == []
    write_report(
        report,
        {"count": len(ds)},
        ds.labels,
        ds.known,
        Counter({"2010": 10}),
        ["2010"],
        [40] * len(ds),
        [("2010", ds.images[0], 10)],
    )
    names = [p.name for p in report_figures(report)]
    assert names == ["tags.png", "years.png", "short_edge.png", "mean_faces.png"]
    (report / "mean_faces.png").unlink()
    assert "mean_faces.png" not in [p.name for p in report_figures(report)]


def test_tags_chart_is_the_reports_chart(tmp_path, ds):
    chart = tags_chart(tag_counts(ds.labels, ds.known), len(ds))
    write_report(tmp_path, {}, ds.labels, ds.known, Counter({"2010": 10}), ["2010"], [40] * 10, [])
    with Image.open(tmp_path / "tags.png") as saved:
        assert np.array_equal(np.asarray(saved.convert("RGB")), np.asarray(chart))
