"""A verdict that concedes is still the writer's verdict (issue 10, item 3: judgement by meaning).

A balanced conclusion weighs inside its own sentences: "he did not remake the system, but he did
change ...", "... whereas most of his schemes were undone". Those concessions are the writer's,
unlike a last paragraph that reports what other people think ("some historians argue ...",
"critics reply ..."). Only the second kind is set aside when the conclusion's claims are counted.
Every essay here is written for this file and scored by the real engine.
"""

from __future__ import annotations

import pytest

from khrushchev_essays.scoring import score
from khrushchev_essays.scoring.claims import reports_view
from khrushchev_essays.scoring.engine import default_engine

BODY = """Khrushchev set out to make Soviet rule work without mass terror, and he did change the way people lived and were governed. The question is whether that amounted to a new kind of state.

The end of the terror was the deepest break. After Stalin died in 1953 the camps began to empty, and by the end of the decade most prisoners had come home. The Secret Speech of February 1956 told the party that Stalin had murdered loyal communists. When Molotov, Malenkov and Kaganovich lost their fight with him in 1957 they were sent to minor posts rather than shot. Political defeat stopped being a death sentence.

Daily life improved in ways people could see. From 1957 the state built prefabricated blocks of flats on a huge scale, and millions of families left communal apartments. Pensions were raised in 1956 and the working week was cut. Sputnik in 1957 and Gagarin's flight in 1961 gave the country pride in its science.

The system itself stayed in place. The party kept its monopoly of power and the press printed what it was told. Tanks crushed the Hungarian rising in November 1956, Pasternak was forced to turn down his Nobel Prize in 1958, and strikers at Novocherkassk were shot in 1962.

The economy was reorganised rather than rebuilt. The regional economic councils of 1957 replaced the Moscow ministries, and the party was split into industrial and farming halves in 1962, yet both changes were reversed soon after his fall in October 1964. The Virgin Lands brought a record harvest in 1956, but by 1963 the USSR had to buy grain from abroad.

"""

OWN_VERDICT = """Khrushchev did not transform the Soviet system, but he did transform the relationship between the state and its citizens, from one resting on fear to one resting on promises. That change outlived him, whereas most of his economic schemes were quietly dropped. The USSR of 1964 was gentler, yet it was run by the same party for the same ends as in 1953."""

REPORTED_VIEWS = """Some historians argue that the end of the terror was a turning point for the whole country. Critics reply that the party's monopoly and the planned economy came through his decade untouched. Others argue that his reforms were too erratic to be judged as a programme at all."""


def _report(conclusion: str):
    return score(BODY + conclusion, "q1").to_dict()


def _judgement(report) -> dict:
    return next(c for c in report["criteria"] if c["id"] == "judgement")


def test_a_conceding_verdict_counts_as_the_conclusion():
    report = _report(OWN_VERDICT)
    details = _judgement(report)["details"]
    assert details["conclusion"] is True
    assert details["conclusion_judgement"] is True
    assert "no_judgement" not in report["flags"]


def test_a_last_paragraph_of_reported_views_is_not_the_writers_verdict():
    own, reported = _report(OWN_VERDICT), _report(REPORTED_VIEWS)
    assert _judgement(reported)["details"]["conclusion_judgement"] is False
    assert _judgement(reported)["mark"] < _judgement(own)["mark"]


@pytest.mark.parametrize("sentence, reported", [
    ("He did not transform the system; nevertheless he did transform daily life.", False),
    ("That change outlived him, whereas his schemes were dropped.", False),
    ("Although the party survived, the terror ended for good.", False),
    ("Some historians argue that the terror's end transformed the country.", True),
    ("Critics say that nothing fundamental changed by 1964.", True),
    ("It could be argued that the reforms were a real change.", True),
    ("However, some people think the reforms were a real change by 1964.", True),
    ("Yet historians such as Medvedev argue that the system was never transformed.", True),
])
def test_reports_view_tells_a_concession_from_another_view(sentence, reported):
    analysis, _, _ = default_engine().analyse_text(sentence, "q1")
    s = analysis.sentences[0]
    assert s.has("counter")
    assert reports_view(analysis, s) is reported
