"""The procedural demo faces: determinism, labels, every tag drawn where it belongs, CLI."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from anime_gan.cli.main import main as cli_main
from anime_gan.data.dataset import load_dataset
from anime_gan.data.priors import LabelPrior
from anime_gan.data.tags import (
    EXCLUSIVE_GROUPS,
    INDEPENDENT,
    NUM_TAGS,
    TAG_INDEX,
    TAG_NAMES,
    to_multi_hot,
)
from anime_gan.demo import render
from anime_gan.demo.params import FaceParams, sample_params
from anime_gan.demo.render import face_rng, render_dataset, render_face
from anime_gan.errors import UserError

RES = 128  # toggles are checked at 128 px, where LANCZOS ringing (~3 px) is small beside r
BASE = ("blonde hair", "blue eyes")  # no independent tag: medium hair, neutral mouth, nothing worn
RINGING = 4


def labels(*names: str) -> np.ndarray:
    return to_multi_hot(names)


# ---- regions of a face, in pixels, from its non-tag parameters ---------------------------------

Region = Callable[..., np.ndarray]  # (params, resolution=RES) -> bool mask [res, res]


def box(x0: float, x1: float, y0: float, y1: float) -> Region:
    """Mask of the box [x0, x1] x [y0, y1], in head radii around the head centre."""

    def mask(p: FaceParams, res: int = RES) -> np.ndarray:
        yy, xx = (np.mgrid[0:res, 0:res] + 0.5) / res
        u, v = (xx - p.cx) / p.r, (yy - p.hy) / p.r
        return (u >= x0) & (u <= x1) & (v >= y0) & (v <= y1)

    return mask


def union(*regions: Region) -> Region:
    return lambda p, res=RES: np.logical_or.reduce([reg(p, res) for reg in regions])


def around(anchor: Callable[[FaceParams], tuple[float, float]], half: float) -> Region:
    """A square of half-side ``half`` radii around a point given in image fractions."""

    def mask(p: FaceParams, res: int = RES) -> np.ndarray:
        x, y = anchor(p)
        u, v = (x - p.cx) / p.r, (y - p.hy) / p.r
        return box(u - half, u + half, v - half, v + half)(p, res)

    return mask


LEFT_EYE = around(lambda p: p.eye_centers()[0], 0.08)
RIGHT_EYE = around(lambda p: p.eye_centers()[1], 0.08)
EYES = union(LEFT_EYE, RIGHT_EYE)
LEFT_FRAME = around(lambda p: p.eye_centers()[0], 0.4)
RIGHT_FRAME = around(lambda p: p.eye_centers()[1], 0.4)
MOUTH = around(lambda p: p.mouth_center(), 0.1)
LEFT_CHEEK = around(lambda p: p.cheek_centers()[0], 0.05)
CHEEKS = union(LEFT_CHEEK, around(lambda p: p.cheek_centers()[1], 0.05))
HAIR_TOP = box(-0.3, 0.3, -0.75, -0.6)
FACE_CORE = box(-0.42, 0.42, -0.25, 0.78)
TOP = box(-9, 9, -9, -0.85)
ABOVE_HEAD = box(-0.5, 0.5, -9, -1.25)
BOTTOM = box(-9, 9, 0.95, 9)
LOWER_LEFT, LOWER_RIGHT = box(-9, -1.2, 0.9, 9), box(1.2, 9, 0.9, 9)
JAW_LEFT, JAW_RIGHT = box(-1.2, -0.95, 0.55, 1.0), box(0.95, 1.2, 0.55, 1.0)
FAR_LEFT, FAR_RIGHT = box(-9, -1.3, -0.4, 0.6), box(1.3, 9, -0.4, 0.6)
SIDE_LEFT, SIDE_RIGHT = box(-9, -0.95, 0.2, 1.5), box(0.95, 9, 0.2, 1.5)


def ribbon_spot(p: FaceParams, res: int = RES) -> np.ndarray:
    return box(p.ribbon_side * 0.72 - 0.2, p.ribbon_side * 0.72 + 0.2, -1.0, -0.7)(p, res)


def ponytail_side(p: FaceParams, res: int = RES) -> np.ndarray:
    return (box(1.3, 9, -1.0, 1.0) if p.ponytail_side > 0 else box(-9, -1.3, -1.0, 1.0))(p, res)


def ponytail_other_side(p: FaceParams, res: int = RES) -> np.ndarray:
    return (box(-9, -1.3, -0.5, 1.0) if p.ponytail_side > 0 else box(1.3, 9, -0.5, 1.0))(p, res)


# tag -> (regions that must change, each in at least 3 pixels; regions that must not change at all)
EXPECT: dict[str, tuple[tuple[Region, ...], tuple[Region, ...]]] = {
    "hair": ((HAIR_TOP,), (EYES, MOUTH, CHEEKS)),
    "eyes": ((LEFT_EYE, RIGHT_EYE), (MOUTH, HAIR_TOP, TOP, BOTTOM, CHEEKS)),
    "long hair": ((LOWER_LEFT, LOWER_RIGHT), (FACE_CORE, TOP)),
    "short hair": ((JAW_LEFT, JAW_RIGHT), (FACE_CORE, TOP)),
    "twintails": ((FAR_LEFT, FAR_RIGHT), (FACE_CORE, ABOVE_HEAD)),
    "drill hair": ((SIDE_LEFT, SIDE_RIGHT), (FACE_CORE, TOP)),
    "ponytail": ((ponytail_side,), (FACE_CORE, ponytail_other_side)),
    "blush": ((CHEEKS,), (EYES, MOUTH, TOP, BOTTOM)),
    "smile": ((MOUTH,), (EYES, CHEEKS, TOP, BOTTOM)),
    "open mouth": ((MOUTH,), (EYES, CHEEKS, TOP, BOTTOM)),
    "hat": ((ABOVE_HEAD,), (EYES, MOUTH, CHEEKS, BOTTOM)),
    "ribbon": ((ribbon_spot,), (EYES, MOUTH, CHEEKS, BOTTOM)),
    "glasses": ((LEFT_FRAME, RIGHT_FRAME), (MOUTH, TOP, BOTTOM)),
}


def toggle_pair(tag: str) -> tuple[np.ndarray, np.ndarray, str]:
    """Labels without and with ``tag`` (for an exclusive tag: another tag of its group instead)."""
    group = next((g for g, idx in EXCLUSIVE_GROUPS.items() if TAG_INDEX[tag] in idx), None)
    if group is None:
        return labels(*BASE), labels(*BASE, tag), tag
    members = EXCLUSIVE_GROUPS[group]
    other = TAG_NAMES[members[1] if TAG_INDEX[tag] == members[0] else members[0]]
    keep = BASE[1] if group == "hair_color" else BASE[0]
    return labels(keep, other), labels(keep, tag), "hair" if group == "hair_color" else "eyes"


@pytest.mark.parametrize("tag", TAG_NAMES)
@pytest.mark.parametrize("seed", [0, 7, 26])
def test_each_tag_changes_its_region_only(tag: str, seed: int) -> None:
    off, on, kind = toggle_pair(tag)
    a = render_face(off, RES, np.random.default_rng(seed))
    b = render_face(on, RES, np.random.default_rng(seed))
    # LANCZOS ringing spreads a change by ~3 px at a level or two: "unchanged" allows that
    changed = np.abs(a.astype(int) - b.astype(int)).max(axis=2) > RINGING
    params = sample_params(np.random.default_rng(seed))
    must, keep = EXPECT[kind]
    for i, region in enumerate(must):
        assert (changed & region(params)).sum() >= 3, f"{tag}: required region {i} unchanged"
    for i, region in enumerate(keep):
        assert not (changed & region(params)).any(), f"{tag}: region {i} should not change"


def test_deterministic_per_seed() -> None:
    lab = labels("pink hair", "green eyes", "twintails", "smile", "hat")
    a = render_face(lab, 32, np.random.default_rng(3))
    b = render_face(lab, 32, np.random.default_rng(3))
    c = render_face(lab, 32, np.random.default_rng(4))
    np.testing.assert_array_equal(a, b)
    assert np.abs(a.astype(int) - c.astype(int)).mean() > 2.0


@pytest.mark.parametrize("res", [16, 32, 64, 128])
def test_shape_and_dtype(res: int) -> None:
    img = render_face(
        labels("silver hair", "aqua eyes", "long hair"), res, np.random.default_rng(0)
    )
    assert img.shape == (res, res, 3) and img.dtype == np.uint8
    assert img.std() > 20  # a picture, not a flat fill


def test_hair_and_eye_colors_are_distinct_at_32px() -> None:
    """Every pair of hair colors (silver/white/gray included), and of eye colors, differs."""
    cases = (("hair_color", HAIR_TOP, "blue eyes"), ("eye_color", EYES, "blonde hair"))
    for group, region, fixed in cases:
        means = []
        for seed in (1, 2):
            mask = region(sample_params(np.random.default_rng(seed)), 32)
            faces = [
                render_face(labels(TAG_NAMES[i], fixed), 32, np.random.default_rng(seed))
                for i in EXCLUSIVE_GROUPS[group]
            ]
            means.append([face[mask].mean(axis=0) for face in faces])
        m = np.mean(means, axis=0)
        dist = np.linalg.norm(m[:, None] - m[None], axis=2) + np.eye(len(m)) * 1e3
        assert dist.min() > 25, group


def test_dataset_labels_follow_prior() -> None:
    ds = render_dataset(400, resolution=16, seed=5, workers=1)
    assert ds.images.shape == (400, 16, 16, 3) and ds.images.dtype == np.uint8
    for idx in EXCLUSIVE_GROUPS.values():
        assert (ds.labels[:, idx].sum(axis=1) == 1).all()
        counts = ds.labels[:, idx].sum(axis=0)
        assert counts.min() > 400 / len(idx) * 0.4 and counts.max() < 400 / len(idx) * 1.7
    rates = ds.labels[:, INDEPENDENT].mean(axis=0)
    assert np.all(np.abs(rates - 0.25) < 0.08)
    assert ds.known.shape == (400, NUM_TAGS) and (ds.known == 1).all()
    assert ds.metadata[3] == {
        "id": "render-000003",
        "source": "render",
        "year": None,
        "width": 16,
        "height": 16,
        "seed": 5,
    }
    assert ds.info["source"] == "render"


def test_dataset_with_another_prior() -> None:
    prior = LabelPrior.training()
    prior.tag_rates[TAG_INDEX["glasses"]] = 0.9
    prior.group_probs["hair_color"][:] = 0.0
    prior.group_probs["hair_color"][2] = 1.0  # black only
    ds = render_dataset(200, resolution=16, seed=0, prior=prior, workers=1)
    assert ds.labels[:, TAG_INDEX["black hair"]].all()
    assert 0.8 < ds.labels[:, TAG_INDEX["glasses"]].mean() < 0.97


def test_image_depends_only_on_seed_and_index(monkeypatch: pytest.MonkeyPatch) -> None:
    ds = render_dataset(6, resolution=32, seed=11, workers=1)
    for i in (0, 5):
        np.testing.assert_array_equal(ds.images[i], render_face(ds.labels[i], 32, face_rng(11, i)))
    monkeypatch.setattr(render, "POOL_MIN", 1)
    monkeypatch.setattr(render, "_CHUNK", 2)
    pooled = render.render_images(ds.labels, 32, 11, workers=2)
    np.testing.assert_array_equal(pooled, ds.images)
    other = render_dataset(6, resolution=32, seed=12, workers=1)
    assert not np.array_equal(other.images, ds.images)


@pytest.mark.parametrize("res", [8, 24, 48, 0, "32"])
def test_bad_resolution_is_a_user_error(res: object) -> None:
    with pytest.raises(UserError, match="resolution"):
        render_dataset(4, resolution=res)  # type: ignore[arg-type]


def test_bad_n_and_face_resolution() -> None:
    with pytest.raises(UserError, match="n=0"):
        render_dataset(0)
    with pytest.raises(UserError, match="resolution"):
        render_face(labels(*BASE), 8, np.random.default_rng(0))
    assert render_face(labels(*BASE), 20, np.random.default_rng(0)).shape == (20, 20, 3)


def test_cli_end_to_end(tmp_path, capsys) -> None:
    args = [
        "render",
        "n=16",
        "resolution=32",
        f"out={tmp_path}/demo",
        f"sheet={tmp_path}/s.png",
        "hydra.run.dir=" + str(tmp_path / "run"),
    ]
    assert cli_main(args) == 0
    ds = load_dataset(tmp_path / "demo")
    assert len(ds) == 16 and ds.resolution == 32 and (ds.known == 1).all()
    np.testing.assert_array_equal(ds.images, render_dataset(16, 32, 0, workers=1).images)
    assert (tmp_path / "s.png").stat().st_size > 1000
    out = capsys.readouterr().out
    assert "images: 16" in out and "blonde hair" in out


def test_cli_bad_resolution(tmp_path, capsys) -> None:
    args = [
        "render",
        "n=4",
        "resolution=24",
        f"out={tmp_path}/demo",
        "hydra.run.dir=" + str(tmp_path / "run"),
    ]
    with pytest.raises(SystemExit) as e:
        cli_main(args)
    assert e.value.code == 2
    assert "resolution=24" in capsys.readouterr().err
    assert not (tmp_path / "demo").exists()
