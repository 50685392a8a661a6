"""Every flag and cap of the mark scheme against its pass and fail cases (tests/scoring/cases/caps.toml)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from khrushchev_essays.scoring import score

from conftest import read_fixture

CASES = tomllib.loads((Path(__file__).parent / "cases" / "caps.toml").read_text(encoding="utf-8"))["rule"]
ROWS = [(c["rule"], kind, name, q) for c in CASES for kind in ("raised", "not_raised") for name, q in c[kind]]
_SCORED: dict[tuple[str, str], object] = {}


def scored(name: str, q: str):
    if (name, q) not in _SCORED:
        _SCORED[(name, q)] = score(read_fixture(name), q)
    return _SCORED[(name, q)]


@pytest.mark.parametrize(("rule", "kind", "name", "q"), ROWS, ids=[f"{r}-{k}-{n}-{q}" for r, k, n, q in ROWS])
def test_each_rule_on_its_cases(rule, kind, name, q):
    r = scored(name, q)
    assert (rule in r.flags) == (kind == "raised"), (rule, kind, name, q, r.flags)
    cap = [c for c in r.caps if c["rule"] == rule]
    if kind == "raised" and cap:
        assert r.level <= cap[0]["max_level"]


BUILT = {"narrative_structure", "irrelevant"}  # their cases are built below from the fixtures


def test_every_cap_rule_has_cases_both_ways(rubrics):
    covered = {c["rule"] for c in CASES if c["raised"] and c["not_raised"]} | BUILT
    settings = {"narrative_share", "thin_evidence_share", "thin_evidence_specifics", "inaccurate_min"}  # lines, not levels
    caps = {k for k, v in rubrics["q1"].caps.model_dump().items() if isinstance(v, int) and k not in settings}
    assert caps <= covered, caps - covered


def test_date_headings_organise_an_essay_as_a_story():
    paras = [p for p in read_fixture("q1_medium.txt").split("\n\n") if p.strip()]
    headed = "\n\n".join([paras[0], "1953-1956: the first years", *paras[1:3], "1957-1964: the later years",
                          *paras[3:]])
    assert "narrative_structure" in score(headed, "q1").flags
    assert "narrative_structure" not in scored("q1_medium.txt", "q1").flags


def test_an_essay_mostly_about_something_else_is_irrelevant():
    asides = [
        "Our class visited a museum last spring, and the guide spent a long time on the building itself.",
        "The roof had been repaired many times, and the windows were replaced with modern glass.",
        "Everyone agreed that the cafe was the best part of the day, although the queue was long.",
        "On the coach home we played cards and argued about which film to watch at the weekend.",
        "My cousin says the same museum has a new room about the history of the local railway.",
        "The sandwiches were expensive, so next time we will bring our own lunch from home.",
        "A storm had flooded the car park, and the driver had to find another way out of town.",
        "Some of us wrote postcards to our families and posted them at the little shop by the gate.",
        "Our teacher took photographs of the group on the steps before we went inside the hall.",
        "The gift shop sold pencils, maps and small models of famous buildings from around the world.",
        "It rained for most of the afternoon, and our shoes were soaked by the time we left.",
        "Next year the trip will go to the coast, where there is a famous lighthouse and a harbour.",
    ]
    opening = " ".join(read_fixture("q2_sincere_short.txt").split(". ")[:3]) + "."
    text = opening + "".join(
        "\n\n" + " ".join(asides[i:i + 3]) for i in range(0, len(asides), 3))
    assert "irrelevant" in score(text, "q2").flags
    assert "irrelevant" not in scored("q2_sincere_short.txt", "q2").flags
