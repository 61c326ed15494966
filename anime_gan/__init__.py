"""anime-gan: MakeGirlsMoe (Jin et al. 2017) reproduced end to end, and beyond."""

__version__ = "0.1.0"
