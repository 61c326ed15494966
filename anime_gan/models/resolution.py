"""Which image sizes the networks accept, checked in one place.

A wrong resolution is a user error (a config value), so it ends in one sentence naming the value
and the fix. ``ResolutionError`` is also a ``ValueError`` for callers that catch the built-in.
"""

from __future__ import annotations

from anime_gan.errors import UserError


class ResolutionError(UserError, ValueError):
    """A resolution the chosen network cannot produce or read."""


def doublings(resolution: int, start: int, network: str) -> int:
    """Number k of 2x steps with ``start * 2**k == resolution``.

    The generators start from a 16x16 map (paper Fig. 3; the DCGAN G checks the same rule so the two
    are interchangeable), so their resolutions are 16 * 2^k; the discriminator halves its input
    down to 1x1 or more, so it reads any power of two (start = 1).
    """
    k, size = 0, start
    while isinstance(resolution, int) and size < resolution:
        size, k = size * 2, k + 1
    if not isinstance(resolution, int) or isinstance(resolution, bool) or size != resolution:
        allowed = ", ".join(str(max(start, 16) * 2**i) for i in range(5))
        rule = "a power of two" if start == 1 else f"{start} times a power of two"
        raise ResolutionError(
            f"The {network} cannot work at resolution {resolution!r}: it must be {rule} "
            f"(e.g. {allowed}); set the model's resolution to one of these."
        )
    return k
