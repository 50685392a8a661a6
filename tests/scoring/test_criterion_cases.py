"""Every criterion against its pass and fail cases (tests/scoring/cases/criteria.toml)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from khrushchev_essays.scoring import score

from conftest import read_fixture

CASES = tomllib.loads((Path(__file__).parent / "cases" / "criteria.toml").read_text(encoding="utf-8"))["criterion"]
ROWS = [(c["id"], kind, name, q, why) for c in CASES for kind in ("pass", "fail") for name, q, why in c[kind]]
_SCORED: dict[tuple[str, str], object] = {}


def scored(name: str, q: str):
    if (name, q) not in _SCORED:
        _SCORED[(name, q)] = score(read_fixture(name), q)
    return _SCORED[(name, q)]


@pytest.mark.parametrize(("cid", "kind", "name", "q", "why"), ROWS, ids=[f"{c}-{k}-{n}-{q}" for c, k, n, q, _ in ROWS])
def test_each_criterion_on_its_cases(cid, kind, name, q, why):
    case = next(c for c in CASES if c["id"] == cid)
    result = next(c for c in scored(name, q).criteria if c.id == cid)
    share = result.mark / result.max_mark
    if kind == "pass":
        assert share >= case["high"], (why, result.mark, result.max_mark, result.comment)
    else:
        assert share <= case["low"], (why, result.mark, result.max_mark, result.comment)


def test_every_criterion_of_both_rubrics_has_cases_both_ways(rubrics):
    covered = {c["id"] for c in CASES if c["pass"] and c["fail"]}
    for r in rubrics.values():
        assert {c.id for c in r.criteria} <= covered, {c.id for c in r.criteria} - covered
