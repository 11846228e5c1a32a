"""Fixtures shared by the city world's tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.envs.city.test_world import STRIP


@pytest.fixture
def strip_map(tmp_path: Path) -> str:
    """The path of a map file holding ``STRIP``, the one-street test map."""
    path = tmp_path / "strip.txt"
    path.write_text(STRIP)
    return str(path)
