"""Benchmarks (``anime-gan bench``, ``make bench``): FLOPs and sizes counted from the models,
training and generation speed, and the utilisation they imply (docs/benchmarks.md)."""
