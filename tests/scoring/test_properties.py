"""Property-based: score() never raises on arbitrary text, and every scored report is consistent."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from khrushchev_essays.scoring import score

# Essay-like words mixed with arbitrary unicode (control characters, surrogates excluded by
# st.text, emoji, combining marks): the engine must cope with both at once.
WORDS = st.sampled_from(["Khrushchev", "Secret Speech", "1956", "1953", "because", "However,", "Virgin Lands",
                         "de-Stalinisation", "In conclusion,", "transformed", ".", "\n\n", "\r\n", "\u00a0",
                         "\u2014", "\u2019", "\U0001F680", "\x00", "\t", "sovnarkhozy", "most significant"])
TEXTS = st.one_of(
    st.text(max_size=300),
    st.lists(st.one_of(WORDS, st.text(max_size=12)), max_size=60).map(" ".join),
)


@pytest.mark.parametrize("q", ["q1", "q2", "auto"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXTS)
def test_score_never_raises_and_reports_are_consistent(q, text, rubrics):
    r = score(text, q)
    if r.status == "error":
        assert r.error and r.mark is None
        return
    assert r.status == "scored"
    rubric = rubrics[r.question]
    assert 0 <= r.mark <= rubric.max_mark
    assert 0 <= r.level <= 5
    assert r.level == rubric.level_for_mark(r.mark)
    spans = [s for c in r.criteria for s in c.evidence] + [s for f in r.factors for s in f.evidence] + r.inaccuracies
    for sp in spans:
        assert 0 <= sp.start <= sp.end <= len(text)
        assert sp.text == text[sp.start:sp.end]
    for c in r.criteria:
        assert 0 <= c.mark <= c.max_mark
    assert len(r.feedback["next_steps"]) <= 3
