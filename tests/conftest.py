"""Shared fixtures. ../shared (the team's read-only material) is optional: tests that read it skip."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def shared_path() -> Path:
    return Path(os.environ.get("ANIME_GAN_SHARED") or REPO.parent / "shared")


@pytest.fixture
def shared_dir() -> Path:
    path = shared_path()
    if not path.exists():
        pytest.skip(f"{path} is absent (set ANIME_GAN_SHARED to the shared folder)")
    return path
