"""Shared fixtures. ../shared (the team's read-only material) is optional: tests that read it skip."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]


def shared_path() -> Path:
    return Path(os.environ.get("ANIME_GAN_SHARED") or REPO.parent / "shared")


@pytest.fixture
def shared_dir() -> Path:
    path = shared_path()
    if not path.exists():
        pytest.skip(f"{path} is absent (set ANIME_GAN_SHARED to the shared folder)")
    return path


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny models on a shared 2-core machine run faster on one thread than on two competing ones
    (and leave a core free). Use it with ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
