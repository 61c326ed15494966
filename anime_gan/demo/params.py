"""What the procedural face renderer draws: the colors of the tags and the random non-tag traits.

Two inputs make one face: its 34-entry label vector (the tags) and :class:`FaceParams` (the
variety that is not a tag: head placement, skin, background, fringe, eye size, accessory colors
and styles). ``sample_params`` draws every non-tag trait from the
random generator in one fixed order, whatever the tags are, so that switching one tag on or off
with the same generator state changes only the part of the picture that the tag is about.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

import numpy as np

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
WHITE: RGB = (255, 255, 255)
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


def shade(color: RGB, factor: float) -> RGB:
    """``color`` scaled in value (factor < 1 darkens), clipped at 255."""
    out = (min(255, round(c * factor)) for c in color)
    return tuple(out)  # type: ignore[return-value]


def mix(a: RGB, b: RGB, t: float) -> RGB:
    """Linear blend from ``a`` (t = 0) to ``b`` (t = 1)."""
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b))  # type: ignore[return-value]


def outline_of(color: RGB) -> RGB:
    """A darker line color for a fill; bright fills get a relatively stronger darkening."""
    return shade(color, 0.62 if max(color) > 200 else 0.55)


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
    hat_style: int  # 0 wide-brim hat, 1 beret, 2 pointed witch hat
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
        return [self.at(-u, v) for u, v in side] + [self.at(u, v) for u, v in side[::-1]]

    def eye_centers(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """Centres (x, y) of the left and right eye."""
        return self.at(-self.eye_spacing, 0.2), self.at(self.eye_spacing, 0.2)

    def mouth_center(self) -> tuple[float, float]:
        return self.at(0, 0.68)

    def cheek_centers(self) -> tuple[tuple[float, float], tuple[float, float]]:
        return self.at(-0.48, 0.56), self.at(0.48, 0.56)


def sample_params(rng: np.random.Generator) -> FaceParams:
    """Draw all non-tag traits, always the same number of draws in the same order."""
    u = rng.uniform

    def pick(options: tuple[RGB, ...]) -> RGB:
        return options[int(rng.integers(len(options)))]

    # keyword arguments are evaluated in the order written: that order is the draw order
    traits = dict(
        cx=0.5 + u(-0.03, 0.03),
        hy=0.455 + u(-0.02, 0.02),
        r=0.27 * u(0.93, 1.07),
        skin=mix((255, 238, 226), (242, 206, 180), u(0.0, 1.0)),  # light to dark
        background=tuple(  # muted: any hue, low saturation, light
            round(255 * c) for c in colorsys.hsv_to_rgb(u(0.0, 1.0), u(0.08, 0.32), u(0.66, 0.93))
        ),
        hair_value=u(0.95, 1.04),
        eye_value=u(0.94, 1.06),
        fringe_spikes=int(rng.integers(5, 8)),
        fringe_tips=tuple(float(t) for t in u(0.0, 1.0, 8)),
        fringe_shift=u(-0.25, 0.25),
        eye_scale=u(0.9, 1.1),
        eye_spacing=u(0.37, 0.41),
        mouth_scale=u(0.85, 1.15),
        blush_strength=u(0.55, 0.75),
        clothes=pick(CLOTHES),
        hat_style=int(rng.integers(3)),
        hat_color=pick(HATS),
        hat_band=pick(ACCESSORY),
        ribbon_color=pick(ACCESSORY),
    )
    ribbon_side, ponytail_side = (int(s) for s in rng.choice([-1, 1], 2))
    return FaceParams(
        **traits,
        ribbon_side=ribbon_side,
        ponytail_side=ponytail_side,
        tie_color=pick(ACCESSORY),
        frame_color=pick(FRAMES),
        round_glasses=bool(rng.integers(2)),
        tail_swing=u(0.85, 1.15),
    )
