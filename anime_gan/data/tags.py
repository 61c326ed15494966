"""The 34 tags of the paper (section 3.2, Table 1), in one place.

Order is the schema order used by every label vector in the project: the 13 hair colors, the
5 hair styles, the 6 other tags, the 10 eye colors. ``i2v_index`` is the tag's position among
Illustration2Vec's 1,539 outputs. The paper writes "gray hair" where Illustration2Vec spells
"grey hair": the canonical name here is the paper's, and both spellings parse.
"""

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from anime_gan.errors import UnknownTagError, UserError


@dataclass(frozen=True)
class Tag:
    name: str
    group: str
    i2v_index: int
    i2v_name: str


@dataclass(frozen=True)
class TagGroup:
    name: str
    exclusive: bool  # exactly one tag of the group per image (argmax), else independent tags
    tags: tuple[str, ...]


# (group, exclusive, {tag name: Illustration2Vec index}) in schema order
_SCHEMA = (
    (
        "hair_color",
        True,
        {
            "blonde hair": 8,
            "brown hair": 10,
            "black hair": 17,
            "blue hair": 23,
            "pink hair": 42,
            "purple hair": 43,
            "green hair": 49,
            "red hair": 52,
            "silver hair": 62,
            "white hair": 92,
            "orange hair": 141,
            "aqua hair": 142,
            "gray hair": 206,
        },
    ),
    (
        "hair_style",
        False,
        {"long hair": 2, "short hair": 3, "twintails": 19, "drill hair": 218, "ponytail": 48},
    ),
    (
        "other",
        False,
        {"blush": 4, "smile": 7, "open mouth": 11, "hat": 12, "ribbon": 18, "glasses": 57},
    ),
    (
        "eye_color",
        True,
        {
            "blue eyes": 9,
            "red eyes": 14,
            "brown eyes": 22,
            "green eyes": 28,
            "purple eyes": 40,
            "yellow eyes": 54,
            "pink eyes": 112,
            "aqua eyes": 123,
            "black eyes": 129,
            "orange eyes": 285,
        },
    ),
)

TAGS: tuple[Tag, ...] = tuple(
    Tag(name, group, idx, name.replace("gray", "grey"))
    for group, _, members in _SCHEMA
    for name, idx in members.items()
)
GROUPS: tuple[TagGroup, ...] = tuple(
    TagGroup(group, exclusive, tuple(members)) for group, exclusive, members in _SCHEMA
)
TAG_NAMES: tuple[str, ...] = tuple(t.name for t in TAGS)
NUM_TAGS = len(TAGS)
TAG_INDEX: dict[str, int] = {name: i for i, name in enumerate(TAG_NAMES)}
I2V_INDICES: tuple[int, ...] = tuple(t.i2v_index for t in TAGS)

#: Index arrays of the two exclusive groups, by group name.
EXCLUSIVE_GROUPS: dict[str, np.ndarray] = {
    g.name: np.array([TAG_INDEX[t] for t in g.tags]) for g in GROUPS if g.exclusive
}
#: Indices of the tags that are independent (Bernoulli) rather than part of an exclusive group.
INDEPENDENT: np.ndarray = np.array(
    [i for i, t in enumerate(TAGS) if t.group not in EXCLUSIVE_GROUPS]
)
#: Independent tags that cannot both be true; a partly tagged source that names one implies the
#: other is false, and one that names both is contradictory (both become unknown).
OPPOSITES = (("long hair", "short hair"),)

_ALIASES = {"grey": "gray", "blond": "blonde", "twin tails": "twintails", "twintail": "twintails"}


def normalize_tag_name(name: str) -> str:
    """Lower-case, underscores/hyphens/extra spaces to single spaces, spelling aliases resolved."""
    words = str(name).lower().replace("_", " ").replace("-", " ").split()
    text = " ".join(_ALIASES.get(w, w) for w in words)
    return _ALIASES.get(text, text)


def tag_index(name: str) -> int:
    """Schema index of a tag name (forgiving of case, ``_``/spaces and gray/grey)."""
    key = normalize_tag_name(name)
    if key in TAG_INDEX:
        return TAG_INDEX[key]
    close = difflib.get_close_matches(key, TAG_NAMES, n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(repr(c) for c in close)}?" if close else "none is close."
    raise UnknownTagError(
        f"unknown tag {name!r}: {hint} Run `anime-gan tags` to list the 34 known tags."
    )


def is_known_tag(name: str) -> bool:
    return normalize_tag_name(name) in TAG_INDEX


def group_of(name_or_index: str | int) -> TagGroup:
    idx = name_or_index if isinstance(name_or_index, int) else tag_index(name_or_index)
    return next(g for g in GROUPS if g.name == TAGS[idx].group)


def to_multi_hot(names: Iterable[str]) -> np.ndarray:
    """Multi-hot uint8 vector of length 34 with the given tags set."""
    vec = np.zeros(NUM_TAGS, dtype=np.uint8)
    for name in names:
        vec[tag_index(name)] = 1
    return vec


def from_multi_hot(vec: np.ndarray | Iterable[float], threshold: float = 0.5) -> list[str]:
    """Names of the tags whose value exceeds ``threshold``, in schema order."""
    arr = np.asarray(vec, dtype=np.float64).reshape(-1)
    if arr.shape[0] != NUM_TAGS:
        raise ValueError(f"a label vector has {NUM_TAGS} entries, got {arr.shape[0]}")
    return [TAG_NAMES[i] for i in np.flatnonzero(arr > threshold)]


def labels_from_tags(
    names: Iterable[str], assume_complete: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Labels and known-mask for one image of a source that lists the tags it shows.

    ``assume_complete`` says the source tags all 34 (every absent tag is false). Otherwise an
    absent tag is unknown, with these rules (documented in data/README.md):

    - exclusive group with exactly one tag named: the whole group is known (one-hot);
      none named, or several (a contradiction): the whole group is unknown;
    - independent tag named: known true; absent: unknown, except that naming one of an
      ``OPPOSITES`` pair makes the other known false, and naming both makes both unknown.
    """
    labels = to_multi_hot(names)
    known = np.ones(NUM_TAGS, dtype=np.uint8) if assume_complete else labels.copy()
    for idx in EXCLUSIVE_GROUPS.values():
        one = labels[idx].sum() == 1  # else none or a contradiction: the group is unknown
        known[idx], labels[idx] = one, labels[idx] * one
    if assume_complete:
        return labels, known
    for a, b in OPPOSITES:
        ia, ib = TAG_INDEX[a], TAG_INDEX[b]
        if labels[ia] and labels[ib]:
            labels[[ia, ib]] = 0
            known[[ia, ib]] = 0
        elif labels[ia] or labels[ib]:
            known[[ia, ib]] = 1
    return labels, known


def fixed_tags(spec: Mapping[str, bool] | Iterable[str] | None) -> dict[int, bool]:
    """Parse user-fixed tags: a mapping name -> bool, or names (true), '-name'/'no name' (false)."""
    if spec is None:
        return {}
    if isinstance(spec, Mapping):
        return {tag_index(k): bool(v) for k, v in spec.items()}
    if isinstance(spec, str):
        raise UserError(
            f"tags={spec!r} is one string, not a list of tags: write it as a list, "
            f"e.g. tags='[{spec}]'."
        )
    out: dict[int, bool] = {}
    for item in spec:
        text = str(item).strip()
        value = True
        if text.startswith(("-", "!")):
            text, value = text[1:], False
        elif text.lower().startswith("no "):
            text, value = text[3:], False
        index = tag_index(text)
        if out.get(index, value) != value:
            raise UserError(
                f"the tag {TAG_NAMES[index]!r} is asked both on and off ({item!r} "
                f"and its opposite): keep one of the two."
            )
        out[index] = value
    return out
