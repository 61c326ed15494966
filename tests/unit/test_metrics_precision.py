"""Per-label precision with an oracle judge on synthetic images: the expected Table 2."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch

from anime_gan.data.dataset import FaceDataset
from anime_gan.data.priors import LabelPrior
from anime_gan.data.tags import NUM_TAGS, TAG_INDEX, TAG_NAMES
from anime_gan.metrics.context import EvalContext
from anime_gan.metrics.judge import held_out_report, verdicts
from anime_gan.metrics.precision import TagPrecision
from anime_gan.metrics.precision_table import (
    PAPER_PRECISION,
    precision_rows,
    write_precision_sheets,
    write_precision_table,
)
from anime_gan.metrics.protocols import PrecisionProtocol

BLUE, AQUA, GLASSES, DRILL = (
    TAG_INDEX[t] for t in ("blue hair", "aqua hair", "glasses", "drill hair")
)


def faulty_generator(z: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """Writes its condition into the first 34 pixels of the red channel (-1 off, +1 on), except
    that it paints blue hair as aqua and never draws glasses."""
    c = c.clone()
    blue = c[:, BLUE] > 0.5
    c[blue, BLUE], c[blue, AQUA] = 0.0, 1.0
    c[:, GLASSES] = 0.0
    img = -torch.ones(len(c), 3, 16, 16)
    img[:, 0].view(len(c), -1)[:, :NUM_TAGS] = c * 2 - 1
    img[:, 1] = z[:, :1, None].expand(-1, 16, 16).tanh()  # noise changes the picture, not the tags
    return img


class OracleJudge:
    """Reads the tags back from the pixels; claims it never learned drill hair."""

    name, threshold = "oracle", 0.5
    known_tags = tuple(i for i in range(NUM_TAGS) if i != DRILL)
    held_out = {"tags": {t: {"precision": 1.0, "recall": 1.0, "support": 10} for t in TAG_NAMES}}

    def probabilities(self, images: torch.Tensor) -> torch.Tensor:
        return (images[:, 0].reshape(len(images), -1)[:, :NUM_TAGS] + 1) / 2


def _dataset(n: int = 30) -> FaceDataset:
    labels = (
        LabelPrior.training()
        .sample(n, generator=torch.Generator().manual_seed(0))
        .numpy()
        .astype(np.uint8)
    )
    imgs = faulty_generator(torch.zeros(n, 4), torch.from_numpy(labels).float())
    images = ((imgs.permute(0, 2, 3, 1) + 1) * 127.5).round().to(torch.uint8).numpy()
    return FaceDataset(images, labels, np.ones_like(labels), [{"id": str(i)} for i in range(n)])


def test_verdicts_take_the_argmax_in_groups_and_threshold_the_rest():
    probs = torch.full((1, NUM_TAGS), 0.3)
    probs[0, TAG_INDEX["red hair"]], probs[0, TAG_INDEX["smile"]] = 0.35, 0.6
    v = verdicts(probs, 0.5)[0]
    assert v[TAG_INDEX["red hair"]] and v[TAG_INDEX["smile"]] and not v[TAG_INDEX["blush"]]
    assert (
        int(v[[TAG_INDEX[t] for t in TAG_NAMES if t.endswith("hair") and TAG_INDEX[t] < 13]].sum())
        == 1
    )
    assert int(v[TAG_INDEX["blue eyes"] :].sum()) == 1  # exactly one eye color as well


def test_oracle_judge_gives_the_expected_table(tmp_path):
    ctx = EvalContext(
        faulty_generator, 4, LabelPrior.training(), _dataset(), judge=OracleJudge(), batch_size=7
    )
    result = PrecisionProtocol("p", per_tag=20).result(ctx)
    expected = {t: 1.0 for t in TAG_NAMES if t != "drill hair"}
    expected["blue hair"], expected["glasses"] = 0.0, 0.0
    assert result.precision == expected
    assert result.skipped == {"drill hair": "the judge has too few labelled examples of it"}
    assert result.mean == pytest.approx(31 / 33)
    assert result.images["smile"].shape == (20, 16, 16, 3) and result.shown["blue hair"].sum() == 0

    rows = precision_rows(result, ctx.judge, 20)
    csv_path, md_path = write_precision_table(rows, tmp_path, "oracle")
    with open(csv_path) as f:
        table = {r["tag"]: r for r in csv.DictReader(f)}
    assert len(table) == NUM_TAGS
    assert (
        float(table["glasses"]["precision"]) == 0.0
        and float(table["glasses"]["paper"]) == PAPER_PRECISION["glasses"]
    )
    assert table["drill hair"]["precision"] == "" and "too few" in table["drill hair"]["note"]
    assert float(table["hat"]["judge_precision"]) == 1.0
    md = md_path.read_text()
    assert (
        "| blue hair | 0.00 | 20 | 0.70 | 1.00 | 1.00 | 10 |  |" in md
        and "Mean over the 33 judged tags" in md
    )
    sheets = write_precision_sheets(result, tmp_path)
    assert (tmp_path / "overview.png").is_file() and (
        tmp_path / "sheets" / "blue_hair.png"
    ).is_file()
    assert len(sheets) == 34


def test_tag_precision_states_add_up_across_processes():
    a, b, whole = TagPrecision(), TagPrecision(), TagPrecision()
    probs = torch.rand(10, NUM_TAGS, generator=torch.Generator().manual_seed(0))
    for m, part in ((a, probs[:4]), (b, probs[4:]), (whole, probs)):
        m.update(part, TAG_INDEX["smile"])
    a.merge_state(b)
    assert torch.equal(a.compute().nan_to_num(-1), whole.compute().nan_to_num(-1))
    assert torch.isnan(whole.compute()[TAG_INDEX["hat"]])


def test_held_out_report_of_the_oracle_is_perfect():
    ds = _dataset(40)
    blue = ds.labels[:, BLUE] == 1  # the labels of what the faulty painter drew
    ds.labels[blue, BLUE], ds.labels[blue, AQUA], ds.labels[:, GLASSES] = 0, 1, 0
    report = held_out_report(OracleJudge(), ds)
    assert report["accuracy"] == 1.0 and report["group_accuracy"] == {
        "hair_color": 1.0,
        "eye_color": 1.0,
    }
    assert report["tags"]["smile"] == {
        "precision": 1.0,
        "recall": 1.0,
        "support": int(ds.labels[:, TAG_INDEX["smile"]].sum()),
        "predicted": int(ds.labels[:, TAG_INDEX["smile"]].sum()),
    }
    assert (
        report["tags"]["glasses"]["precision"] is None and report["tags"]["glasses"]["support"] == 0
    )
