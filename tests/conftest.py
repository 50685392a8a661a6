"""Shared fixtures. One conftest for the whole suite (see DESIGN.md)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def calibration_path() -> Path | None:
    """The marked practice essays (../shared/calibration), or None on a clone without them."""
    env = os.environ.get("KHRUSHCHEV_CALIBRATION_DIR")
    p = Path(env) if env else ROOT.parent / "shared" / "calibration"
    return p if (p / "labels.tsv").is_file() else None


@pytest.fixture(scope="session")
def calibration_dir() -> Path:
    p = calibration_path()
    if p is None:
        pytest.skip("marked essays not found (../shared/calibration is absent in a user's clone)")
    return p


@pytest.fixture(scope="session")
def rubrics():
    from khrushchev_essays.scoring import load_all_rubrics

    return load_all_rubrics()


@pytest.fixture(scope="session")
def q1(rubrics):
    return rubrics["q1"]


@pytest.fixture(scope="session")
def q2(rubrics):
    return rubrics["q2"]


def read_fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")
