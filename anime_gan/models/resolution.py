"""Which image sizes and options the networks accept, checked in one place.

A wrong resolution is a user error (a config value), so it ends in one sentence naming the value
and the fix. ``ResolutionError`` is also a ``ValueError`` for callers that catch the built-in.
"""

from anime_gan.errors import UserError


class ResolutionError(UserError, ValueError):
    """A resolution the chosen network cannot produce or read."""


def doublings(resolution: int, start: int, network: str) -> int:
    """Number k of 2x steps with ``start * 2**k == resolution``.

    The generators start from a 16x16 map (paper Fig. 3; the DCGAN G checks the same rule so the two
    are interchangeable), so their resolutions are 16 * 2^k; the discriminator halves its input
    down to 1x1 or more, so it reads any power of two (start = 1).
    """
    k = max(resolution // start, 1).bit_length() - 1 if type(resolution) is int else 0
    if type(resolution) is not int or start << k != resolution:
        allowed = ", ".join(str(max(start, 16) * 2**i) for i in range(5))
        rule = "a power of two" if start == 1 else f"{start} times a power of two"
        raise ResolutionError(
            f"The {network} cannot work at resolution {resolution!r}: it must be {rule} "
            f"(e.g. {allowed}); set the model's resolution to one of these."
        )
    return k


def check_option(network: str, option: str, value: object, allowed: tuple) -> None:
    """A ValueError in one sentence when a network's ``option`` is not one of ``allowed``."""
    if value not in allowed:
        raise ValueError(f"{network} {option} must be one of {allowed}, got {value!r}.")
