import numpy as np
import pytest

from anime_gan.data import tags as T
from anime_gan.errors import UnknownTagError, UserError


def test_schema_has_34_tags_with_spec_indices():
    assert T.NUM_TAGS == 34
    assert [g.name for g in T.GROUPS] == ["hair_color", "hair_style", "other", "eye_color"]
    assert (
        len(T.EXCLUSIVE_GROUPS["hair_color"]) == 13 and len(T.EXCLUSIVE_GROUPS["eye_color"]) == 10
    )
    assert len(T.INDEPENDENT) == 11
    assert T.TAGS[T.tag_index("gray hair")].i2v_index == 206
    assert T.TAGS[T.tag_index("orange eyes")].i2v_index == 285
    assert T.TAGS[T.tag_index("drill hair")].i2v_index == 218


def test_indices_match_illustration2vec_tag_list(shared_dir):
    import json

    names = json.loads((shared_dir / "assets" / "tag_list.json").read_text())
    assert len(names) == 1539
    for tag in T.TAGS:
        assert names[tag.i2v_index] == tag.i2v_name


@pytest.mark.parametrize("spelling", ["Blue Hair", "blue_hair", "  blue   hair ", "BLUE-HAIR"])
def test_parsing_forgives_case_spaces_underscores(spelling):
    assert T.tag_index(spelling) == T.tag_index("blue hair")


def test_gray_grey_aliases():
    assert T.tag_index("grey hair") == T.tag_index("gray hair") == T.tag_index("Grey_Hair")


def test_unknown_tag_names_it_and_suggests():
    with pytest.raises(UnknownTagError) as e:
        T.tag_index("blu hair")
    msg = str(e.value)
    assert "'blu hair'" in msg and "blue hair" in msg
    assert isinstance(e.value, UserError)


def test_multi_hot_roundtrip():
    vec = T.to_multi_hot(["red eyes", "smile", "Blonde_Hair"])
    assert vec.dtype == np.uint8 and vec.sum() == 3
    assert T.from_multi_hot(vec) == ["blonde hair", "smile", "red eyes"]
    with pytest.raises(ValueError):
        T.from_multi_hot(np.zeros(5))


def test_partial_labels_rules():
    labels, known = T.labels_from_tags(["blue hair", "long hair"])
    hair = T.EXCLUSIVE_GROUPS["hair_color"]
    eyes = T.EXCLUSIVE_GROUPS["eye_color"]
    assert known[hair].all() and labels[hair].sum() == 1
    assert not known[eyes].any()  # no eye color named: unknown, not false
    assert known[T.tag_index("short hair")] == 1 and labels[T.tag_index("short hair")] == 0
    assert known[T.tag_index("smile")] == 0

    labels, known = T.labels_from_tags(["blue hair", "red hair", "long hair", "short hair"])
    assert not known[hair].any() and not labels[hair].any()  # contradiction -> unknown
    assert known[T.tag_index("long hair")] == 0 == known[T.tag_index("short hair")]


def test_complete_labels_mark_everything_known():
    labels, known = T.labels_from_tags(["blue hair", "red eyes"], assume_complete=True)
    assert known.all() and labels.sum() == 2


def test_fixed_tags_spellings():
    fixed = T.fixed_tags(["blue hair", "-smile", "no glasses"])
    assert fixed == {
        T.tag_index("blue hair"): True,
        T.tag_index("smile"): False,
        T.tag_index("glasses"): False,
    }
    assert T.fixed_tags({"Hat": 0}) == {T.tag_index("hat"): False}
