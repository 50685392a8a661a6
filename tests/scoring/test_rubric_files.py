"""The two rubric data files: they load, cover enough ground, and keep their hints honest."""

from __future__ import annotations

import re

import pytest

from khrushchev_essays.scoring.rubric import load_rubric_file, rubric_paths

QUESTIONS = {
    "q1": "To what extent did Khrushchev's reforms transform the USSR by 1964?",
    "q2": "How far was de-Stalinisation the most significant factor in Khrushchev's fall from power in 1964?",
}
WEIGHTS = {
    "factors": 0.26,
    "evidence": 0.16,
    "analysis": 0.24,
    "balance": 0.12,
    "judgement": 0.14,
    "organisation": 0.08,
}
PERIOD = range(1953, 1965)


def _contains(text: str, phrase: str) -> bool:
    """`phrase` occurs in `text` as whole words, ignoring case."""
    return re.search(r"(?<!\w)" + re.escape(phrase.lower()) + r"(?!\w)", text.lower()) is not None


@pytest.fixture(scope="module", params=sorted(QUESTIONS))
def rubric(request, rubrics):
    return rubrics[request.param]


def test_both_files_load_with_their_ids():
    loaded = {load_rubric_file(p).id: p.name for p in rubric_paths()}
    assert loaded.get("q1") == "q1_transformation.toml"
    assert loaded.get("q2") == "q2_fall_from_power.toml"


def test_question_text_and_shape(rubric):
    assert rubric.question == QUESTIONS[rubric.id]
    assert rubric.max_mark == 25
    assert [(lv.level, lv.min_mark, lv.max_mark) for lv in sorted(rubric.levels, key=lambda lv: lv.level)] == [
        (0, 0, 0), (1, 1, 5), (2, 6, 10), (3, 11, 15), (4, 16, 20), (5, 21, 25),
    ]
    assert 5 <= len(rubric.structure) <= 7
    assert rubric.topic_text.strip()


def test_criteria_are_the_six_kinds_with_agreed_weights(rubric):
    assert {c.id: c.weight for c in rubric.criteria} == pytest.approx(WEIGHTS)
    assert all(c.id == c.kind for c in rubric.criteria)
    # Each kind's params are validated with their defaults (rubric.CRITERION_PARAMS).
    assert all(type(c.params).__name__.lower().startswith(c.kind) for c in rubric.criteria)


def test_enough_factors_each_with_phrases_hint_and_development(rubric):
    assert len(rubric.factors) >= 8
    for f in rubric.factors:
        assert len(f.phrases) >= 10, f.id
        assert f.hint.strip(), f.id
        assert len(f.development) >= 8, f.id


def test_named_factor():
    q1 = load_rubric_file(next(p for p in rubric_paths() if p.name == "q1_transformation.toml"))
    q2 = load_rubric_file(next(p for p in rubric_paths() if p.name == "q2_fall_from_power.toml"))
    assert [f.id for f in q1.factors if f.named] == []
    assert [f.id for f in q2.factors if f.named] == ["destalinisation"]
    named = {p.lower() for p in q2.named_factor.phrases}
    assert {"de-stalinisation", "de stalinisation", "destalinisation", "de-stalinization"} <= named


def test_event_years_lie_in_the_period(rubric):
    assert 20 <= len(rubric.events) <= 35
    for e in rubric.events:
        for year in e.years:
            stalin_era = year < 1953 and "stalin" in e.name.lower()
            assert year in PERIOD or stalin_era, f"{e.name}: {year}"


def test_no_phrase_repeated_within_a_factor(rubric):
    for f in rubric.factors:
        norm = [" ".join(p.lower().split()) for p in f.phrases]
        assert len(norm) == len(set(norm)), f"{f.id}: {sorted(p for p in norm if norm.count(p) > 1)}"


def test_hints_do_not_give_away_their_own_phrases(rubric):
    for f in rubric.factors:
        leaked = [p for p in f.phrases if _contains(f.hint, p)]
        assert not leaked, f"{f.id} hint contains {leaked}"


def test_length_caps(rubric):
    caps = rubric.caps
    assert [(c.below_words, c.max_level) for c in caps.length] == [(150, 1), (250, 2), (400, 4)]
    assert (caps.no_judgement, caps.mostly_narrative, caps.one_sided) == (3, 2, 3)
    assert (caps.ignores_named_factor, caps.keyword_list, caps.off_topic, caps.copied_question) == (2, 1, 1, 1)
    assert caps.narrative_share == pytest.approx(0.6)
