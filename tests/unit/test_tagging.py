"""Tag selection by the paper's rules on hand-made probabilities, and the tags file format."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from anime_gan.data.tags import EXCLUSIVE_GROUPS, INDEPENDENT, NUM_TAGS, TAG_INDEX, TAGS
from anime_gan.errors import UserError
from anime_gan.jsonl import append_jsonl
from anime_gan.tagging.tagger import (
    THRESHOLD,
    finished_ids,
    labels_from_probs,
    read_tags,
    select_tags,
    tag_rows,
)


def i2v_vector(**probs: float) -> np.ndarray:
    """A [1539] Illustration2Vec output: 0.01 everywhere, the named tags (a_b = 'a b') as given."""
    out = np.full(1539, 0.01, dtype=np.float32)
    for name, p in probs.items():
        out[TAGS[TAG_INDEX[name.replace("_", " ")]].i2v_index] = p
    return out


def on(labels: np.ndarray) -> set[str]:
    return {TAGS[i].name for i in np.flatnonzero(labels)}


def test_selects_the_34_tags_by_i2v_index() -> None:
    full = np.random.default_rng(0).random((3, 1539), dtype=np.float32)
    sel = select_tags(full)
    assert sel.probs.shape == sel.labels.shape == (3, NUM_TAGS)
    assert sel.labels.dtype == np.uint8
    assert sel.probs[:, TAG_INDEX["gray hair"]].tolist() == full[:, 206].tolist()
    assert sel.probs[:, TAG_INDEX["orange eyes"]].tolist() == full[:, 285].tolist()
    torch_sel = select_tags(torch.from_numpy(full))
    np.testing.assert_array_equal(torch_sel.labels, sel.labels)


def test_exactly_one_hair_and_one_eye_color_by_argmax() -> None:
    sel = select_tags(i2v_vector(blonde_hair=0.9, pink_hair=0.95, blue_eyes=0.2, red_eyes=0.1))
    labels = sel.labels[0]
    assert on(labels) == {"pink hair", "blue eyes"}  # even when the best eye color is below 0.25
    for idx in EXCLUSIVE_GROUPS.values():
        assert labels[idx].sum() == 1
    nothing = select_tags(np.zeros(1539, np.float32)).labels[0]
    assert on(nothing) == {"blonde hair", "blue eyes"}  # all equal: the first of each group


def test_ties_go_to_the_lowest_index() -> None:
    probs = i2v_vector(red_hair=0.7, brown_hair=0.7, aqua_eyes=0.6, black_eyes=0.6)
    labels = select_tags(probs).labels[0]
    assert on(labels) == {"brown hair", "aqua eyes"}  # brown (i2v 10) before red (52), 123 < 129


def test_independent_tags_are_strictly_above_the_threshold() -> None:
    assert THRESHOLD == 0.25
    probs = i2v_vector(
        long_hair=0.25,
        smile=np.nextafter(np.float32(0.25), np.float32(1)),
        glasses=0.2499,
        hat=1.0,
        twintails=0.9,
        short_hair=0.8,
    )
    labels = select_tags(probs).labels[0]
    independent = {TAGS[i].name for i in INDEPENDENT if labels[i]}
    assert independent == {"smile", "hat", "twintails", "short hair"}  # 0.25 itself is false
    assert on(select_tags(probs, threshold=0.1).labels[0]) >= {"long hair", "glasses"}


def test_labels_from_probs_checks_its_input() -> None:
    with pytest.raises(ValueError, match="34"):
        labels_from_probs(np.zeros((2, 33)))
    with pytest.raises(ValueError, match="1539"):
        select_tags(np.zeros((2, 34)))


def test_tags_file_round_trip_and_torn_last_line(tmp_path: Path) -> None:
    sel = select_tags(np.stack([i2v_vector(blush=0.7), i2v_vector(glasses=0.4)]))
    path = tmp_path / "tags.jsonl"
    with open(path, "w") as handle:
        append_jsonl(handle, tag_rows(["a", "b"], ["a.png", "sub/b.png"], sel))
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert rows[1] == {
        "id": "b",
        "file": "sub/b.png",
        "labels": sel.labels[1].tolist(),
        "probs": pytest.approx(sel.probs[1].tolist()),
    }
    with open(path, "a") as handle:
        handle.write('{"id": "c", "file": "c.png", "pro')  # an interrupted write
    tags = read_tags(tmp_path)
    assert sorted(tags) == ["a", "b"]
    np.testing.assert_array_equal(tags["a"][1], sel.labels[0])
    assert tags["a"][0].dtype == np.float32 and tags["a"][1].dtype == np.uint8
    assert finished_ids(path) == {"a", "b"}
    assert path.read_text().endswith("}\n")  # the torn tail is cut off, so appending can resume


def test_tags_file_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="run `anime-gan tag` first"):
        read_tags(tmp_path / "nope.jsonl")
    path = tmp_path / "tags.jsonl"
    path.write_text('{"id": "a", "probs": [0.5], "labels": [1]}\n')
    with pytest.raises(UserError, match="without 34 tags"):
        read_tags(path)
    path.write_text('not json\n{"id": "a"}\n')
    with pytest.raises(UserError, match="line 1 of .* is not valid JSON"):
        read_tags(path)
