"""The browser benchmark refuses an unbuilt page with one sentence (no browser needed)."""

import pytest

from anime_gan.errors import UserError
from anime_gan.export.bench_web import benchmark


def test_benchmark_names_the_unbuilt_page_and_the_fix(tmp_path):
    with pytest.raises(UserError, match="not built.*make web"):
        benchmark(tmp_path / "model", ["fp32"], [1], n=1, page_dir=tmp_path / "dist")
