"""What the procedural face renderer draws: the colors of the tags and the random non-tag traits.

Two inputs make one face: :class:`FaceTags` (read from a 34-entry label vector) and
:class:`FaceParams` (the variety that is not a tag: head placement, skin, background, fringe,
eye size, accessory colors and styles). ``sample_params`` draws every non-tag trait from the
random generator in one fixed order, whatever the tags are, so that switching one tag on or off
with the same generator state changes only the part of the picture that the tag is about.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

import numpy as np

from anime_gan.data.tags import EXCLUSIVE_GROUPS, TAG_INDEX, TAG_NAMES

RGB = tuple[int, int, int]

#: Base color of each hair tag. White, silver and gray differ by value and tint: white is the
#: brightest and neutral, silver light and cool blue, gray a neutral middle value.
HAIR_COLORS: dict[str, RGB] = {
    "blonde hair": (250, 222, 110),
    "brown hair": (128, 78, 42),
    "black hair": (38, 36, 48),
    "blue hair": (48, 92, 214),
    "pink hair": (250, 148, 196),
    "purple hair": (136, 74, 186),
    "green hair": (62, 162, 74),
    "red hair": (206, 36, 42),
    "silver hair": (176, 190, 222),
    "white hair": (252, 252, 248),
    "orange hair": (250, 132, 32),
    "aqua hair": (52, 214, 206),
    "gray hair": (122, 122, 126),
}
#: Iris color of each eye tag.
EYE_COLORS: dict[str, RGB] = {
    "blue eyes": (52, 104, 236),
    "red eyes": (222, 30, 44),
    "brown eyes": (140, 82, 38),
    "green eyes": (40, 170, 64),
    "purple eyes": (150, 70, 206),
    "yellow eyes": (246, 206, 30),
    "pink eyes": (250, 104, 172),
    "aqua eyes": (30, 206, 214),
    "black eyes": (52, 48, 58),
    "orange eyes": (252, 128, 24),
}
SKIN_LIGHT: RGB = (255, 238, 226)
SKIN_DARK: RGB = (242, 206, 180)
CLOTHES: tuple[RGB, ...] = (
    (40, 52, 96),
    (246, 246, 250),
    (120, 32, 48),
    (52, 92, 70),
    (92, 92, 104),
    (150, 186, 226),
    (34, 34, 40),
    (230, 196, 120),
)
ACCESSORY: tuple[RGB, ...] = (
    (226, 40, 60),
    (250, 120, 170),
    (60, 110, 230),
    (250, 214, 60),
    (252, 252, 252),
    (140, 70, 200),
    (40, 40, 48),
    (46, 170, 120),
)
HATS: tuple[RGB, ...] = (
    (250, 238, 200),
    (40, 40, 52),
    (200, 60, 70),
    (70, 90, 170),
    (246, 246, 246),
    (150, 110, 70),
    (120, 70, 150),
    (70, 130, 90),
)
FRAMES: tuple[RGB, ...] = ((30, 30, 36), (150, 30, 40), (40, 50, 120), (110, 70, 40))
HAT_STYLES = 3  # 0 wide-brim hat, 1 beret, 2 pointed witch hat


def shade(color: RGB, factor: float) -> RGB:
    """``color`` scaled in value (factor < 1 darkens)."""
    out = (int(max(0, min(255, round(c * factor)))) for c in color)
    return tuple(out)  # type: ignore[return-value]


def mix(a: RGB, b: RGB, t: float) -> RGB:
    """Linear blend from ``a`` (t = 0) to ``b`` (t = 1)."""
    return tuple(int(round(x + (y - x) * t)) for x, y in zip(a, b))  # type: ignore[return-value]


def outline_of(color: RGB) -> RGB:
    """A darker line color for a fill; bright fills get a relatively stronger darkening."""
    return shade(color, 0.62 if max(color) > 200 else 0.55)


@dataclass(frozen=True)
class FaceTags:
    """The 34 tags of one face, read as drawing decisions."""

    hair: str
    eyes: str
    long: bool
    short: bool
    twintails: bool
    drill: bool
    ponytail: bool
    blush: bool
    smile: bool
    open_mouth: bool
    hat: bool
    ribbon: bool
    glasses: bool

    @classmethod
    def from_labels(cls, labels: np.ndarray) -> FaceTags:
        """Exclusive groups by argmax (as the schema says), independent tags by value > 0.5."""
        vec = np.asarray(labels, dtype=np.float64).reshape(-1)
        if vec.shape[0] != len(TAG_NAMES):
            raise ValueError(f"a label vector has {len(TAG_NAMES)} entries, got {vec.shape[0]}")
        hair = EXCLUSIVE_GROUPS["hair_color"][int(np.argmax(vec[EXCLUSIVE_GROUPS["hair_color"]]))]
        eyes = EXCLUSIVE_GROUPS["eye_color"][int(np.argmax(vec[EXCLUSIVE_GROUPS["eye_color"]]))]

        def on(name: str) -> bool:
            return bool(vec[TAG_INDEX[name]] > 0.5)

        return cls(
            TAG_NAMES[hair],
            TAG_NAMES[eyes],
            on("long hair"),
            on("short hair"),
            on("twintails"),
            on("drill hair"),
            on("ponytail"),
            on("blush"),
            on("smile"),
            on("open mouth"),
            on("hat"),
            on("ribbon"),
            on("glasses"),
        )


@dataclass(frozen=True)
class FaceParams:
    """Non-tag variety of one face; lengths are fractions of the image side."""

    cx: float  # head centre x
    hy: float  # head centre y (the eyes sit a little below it)
    r: float  # head radius
    skin: RGB
    background: RGB
    hair_value: float  # small brightness jitter of the hair color
    eye_value: float
    fringe_spikes: int
    fringe_tips: tuple[float, ...]  # tip depth of each spike, in units of r
    fringe_shift: float
    eye_scale: float
    eye_spacing: float  # eye centre distance from the midline, in units of r
    mouth_scale: float
    blush_strength: float
    clothes: RGB
    hat_style: int
    hat_color: RGB
    hat_band: RGB
    ribbon_color: RGB
    ribbon_side: int  # -1 left, +1 right
    ponytail_side: int
    tie_color: RGB
    frame_color: RGB
    round_glasses: bool
    tail_swing: float  # how far twintails / ponytail swing outwards

    def at(self, u: float, v: float) -> tuple[float, float]:
        """The image point ``u`` head radii right of and ``v`` below the head centre."""
        return self.cx + u * self.r, self.hy + v * self.r

    def symmetric(self, side: list[tuple[float, float]]) -> list[tuple[float, float]]:
        """Outline from (u, v) points of the left half (u > 0 meaning further left), mirrored."""
        left = [self.at(-u, v) for u, v in side]
        return left + [self.at(u, v) for u, v in side[::-1]]

    def eye_centers(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """Centres (x, y) of the left and right eye."""
        y = self.hy + 0.2 * self.r
        d = self.eye_spacing * self.r
        return (self.cx - d, y), (self.cx + d, y)

    def mouth_center(self) -> tuple[float, float]:
        return self.cx, self.hy + 0.68 * self.r

    def cheek_centers(self) -> tuple[tuple[float, float], tuple[float, float]]:
        y = self.hy + 0.56 * self.r
        d = 0.48 * self.r
        return (self.cx - d, y), (self.cx + d, y)


def _muted_background(rng: np.random.Generator) -> RGB:
    h, s, v = rng.uniform(0.0, 1.0), rng.uniform(0.08, 0.32), rng.uniform(0.66, 0.93)
    out = (int(round(255 * c)) for c in colorsys.hsv_to_rgb(h, s, v))
    return tuple(out)  # type: ignore[return-value]


def sample_params(rng: np.random.Generator) -> FaceParams:
    """Draw all non-tag traits, always the same number of draws in the same order."""
    cx = 0.5 + rng.uniform(-0.03, 0.03)
    hy = 0.455 + rng.uniform(-0.02, 0.02)
    r = 0.27 * rng.uniform(0.93, 1.07)
    skin = mix(SKIN_LIGHT, SKIN_DARK, rng.uniform(0.0, 1.0))
    background = _muted_background(rng)
    hair_value, eye_value = rng.uniform(0.95, 1.04), rng.uniform(0.94, 1.06)
    spikes = int(rng.integers(5, 8))
    tips = tuple(float(t) for t in rng.uniform(0.0, 1.0, 8))
    fringe_shift = rng.uniform(-0.25, 0.25)
    eye_scale, eye_spacing = rng.uniform(0.9, 1.1), rng.uniform(0.37, 0.41)
    mouth_scale, blush_strength = rng.uniform(0.85, 1.15), rng.uniform(0.55, 0.75)
    clothes = CLOTHES[int(rng.integers(len(CLOTHES)))]
    hat_style = int(rng.integers(HAT_STYLES))
    hat_color = HATS[int(rng.integers(len(HATS)))]
    hat_band = ACCESSORY[int(rng.integers(len(ACCESSORY)))]
    ribbon_color = ACCESSORY[int(rng.integers(len(ACCESSORY)))]
    ribbon_side, ponytail_side = (int(s) for s in rng.choice([-1, 1], 2))
    tie_color = ACCESSORY[int(rng.integers(len(ACCESSORY)))]
    frame_color = FRAMES[int(rng.integers(len(FRAMES)))]
    round_glasses = bool(rng.integers(2))
    tail_swing = rng.uniform(0.85, 1.15)
    return FaceParams(
        cx,
        hy,
        r,
        skin,
        background,
        hair_value,
        eye_value,
        spikes,
        tips,
        fringe_shift,
        eye_scale,
        eye_spacing,
        mouth_scale,
        blush_strength,
        clothes,
        hat_style,
        hat_color,
        hat_band,
        ribbon_color,
        ribbon_side,
        ponytail_side,
        tie_color,
        frame_color,
        round_glasses,
        tail_swing,
    )
