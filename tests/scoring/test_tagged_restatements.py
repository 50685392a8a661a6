"""Comments tagged on to paragraphs that only restate the question earn nothing (issue 10: marks
that follow the argument, not its vocabulary).

A student who ends every paragraph of a story with "This shows that this was the most significant
factor in Khrushchev's fall from power in 1964" has asserted a link five times and explained it
never. Such a sentence (the last of a body paragraph, pointing back at it, made of the question's
words and the language of argument) is set aside as a restatement: the paragraph keeps what it
explains. A comment that says something of its own, or weighs, is read as before, and so are the
introduction and the conclusion, where the position is stated. Every essay here is written for
this file and scored by the real engine.
"""

from __future__ import annotations

import pytest

from khrushchev_essays.scoring import score
from khrushchev_essays.scoring.engine import default_engine
from khrushchev_essays.scoring.rubric import load_rubric
from khrushchev_essays.web.feedback_view import argument_view

INTRO = ("Khrushchev was removed from power in October 1964 by his colleagues in the Presidium. "
         "Several things led to this, including de-Stalinisation, farming and foreign policy.")

BODY = [
    "In February 1956 Khrushchev gave the Secret Speech at the 20th Party Congress. He told the delegates "
    "about Stalin's purges and the cult of personality, and said that loyal communists had been shot. "
    "Afterwards many prisoners came home from the camps and some were rehabilitated. Later that year there "
    "were protests in Poland and a rising in Hungary, which the Red Army put down in November.",
    "In 1954 the Virgin Lands scheme began in Kazakhstan and western Siberia. Young volunteers went east to "
    "plough the steppe and new state farms were set up there. The harvest of 1956 was a record. After a visit "
    "to Iowa in 1959 Khrushchev told farms all over the country to grow maize. In 1963 the crop failed and "
    "grain had to be bought from Canada and the USA.",
    "In October 1962 the Soviet Union placed nuclear missiles on Cuba. American spy planes photographed the "
    "sites and Kennedy ordered a blockade of the island. After thirteen days Khrushchev agreed to take the "
    "missiles away, and the Americans later removed their missiles from Turkey. By then the split with Mao's "
    "China was also out in the open.",
    "In 1962 Khrushchev divided the party into an industrial half and an agricultural half. He also made a rule "
    "in 1961 that a share of officials had to be replaced at each election. In 1957 he had already replaced "
    "the economic ministries in Moscow with regional councils called sovnarkhozy. Many officials in the "
    "regions were worried about their jobs.",
    "Khrushchev also made decisions on his own. He was First Secretary and from 1958 Chairman of the Council "
    "of Ministers as well. He shouted at artists at the Manezh exhibition in 1962 and banged his shoe on a "
    "desk at the United Nations in 1960. In October 1964 he was called back from his holiday at Pitsunda and "
    "the Central Committee voted to remove him.",
]

CONCLUSION = ("Overall, Khrushchev fell for several reasons. De-Stalinisation mattered, but the failure of farming "
              "and the anger of the party officials mattered more in 1964.")

# The question restated after each paragraph, a different way each time.
TAGGED = [
    "This was the most significant factor in Khrushchev's fall from power in 1964.",
    "Therefore this shows that it was a key reason why he was removed in October 1964.",
    "This clearly was a crucial cause of his fall from power.",
    "This was a significant factor in his downfall in 1964.",
    "As a result, this was a major reason for his removal from power.",
]


def essay(tags: list[str] | None = None) -> str:
    body = [p + (" " + t if t else "") for p, t in zip(BODY, tags or [""] * len(BODY))]
    return "\n\n".join([INTRO, *body, CONCLUSION])


def _argument(text: str):
    return default_engine().analyse_text(text, "q2")


def _excluded_texts(text: str, why: str) -> list[str]:
    analysis, argument, _ = _argument(text)
    return [analysis.text[analysis.sentences[i].start:analysis.sentences[i].end]
            for i, reason in sorted(argument.excluded.items()) if reason == why]


def test_restating_the_question_after_each_paragraph_earns_nothing():
    plain, tagged = essay(), essay(TAGGED)
    assert _excluded_texts(tagged, "restatement") == TAGGED
    assert not _excluded_texts(plain, "restatement")
    before, after = score(plain, "q2"), score(tagged, "q2")
    # No higher: the paragraphs are credited for what they explain, and they explain no more.
    assert after.level <= before.level and after.mark <= before.mark, (before.mark, after.mark)
    # The conclusion's verdict still stands.
    assert after.argument["verdict"] and "no_judgement" not in after.flags


def test_the_feedback_says_why_a_restatement_earned_nothing():
    text = essay(TAGGED)
    report = score(text, "q2")
    view = argument_view(text, report, load_rubric("q2"))
    shown = [x for x in view.excluded if x["title"] == "Restates the question"]
    assert [x["text"] for x in shown] == TAGGED
    assert all("in your words" in x["why"] for x in shown)
    assert all(text[x["start"]:x["end"]] == x["text"] for x in shown)


@pytest.mark.parametrize("comment", [
    # It weighs or limits the paragraph's factor: a judgement of it, not an echo of the question.
    "This shows that de-Stalinisation was not enough on its own to bring him down.",
    "This mattered more than de-Stalinisation in his fall from power in 1964.",
    # It says what the paragraph showed, in words of its own.
    "This shows that the officials who feared for their posts were ready to vote against him in 1964.",
])
def test_a_comment_that_says_something_is_read_as_before(comment):
    tags = ["", "", "", comment, ""]
    assert comment not in _excluded_texts(essay(tags), "restatement")


def test_a_restatement_is_only_set_aside_at_the_end_of_a_body_paragraph():
    # Leading its paragraph, the same words are the paragraph's point; in the conclusion, the verdict.
    lead = TAGGED[0] + " " + BODY[0]
    text = "\n\n".join([INTRO, lead, *BODY[1:], CONCLUSION + " " + TAGGED[3]])
    assert not _excluded_texts(text, "restatement")
