"""The spaCy pipeline: loaded once per process, and a pipeline saved elsewhere can be named in
KHRUSHCHEV_SPACY_PIPELINE (checked in a subprocess, so this process's cache is left alone)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

from khrushchev_essays.scoring import build_pipeline, get_nlp
from khrushchev_essays.scoring.nlp import PIPELINE_ENV


def test_get_nlp_returns_the_same_object_twice():
    assert get_nlp() is get_nlp()


def test_the_pipeline_has_a_sentencizer_and_a_lowercasing_lemmatizer():
    nlp = get_nlp()
    assert "sentencizer" in nlp.pipe_names
    doc = nlp("The Reforms failed. REFORMS were announced in 1957!")
    assert len(list(doc.sents)) == 2
    assert [t.lemma_ for t in doc if t.lower_ == "reforms"] == ["reform", "reform"]


def test_a_pipeline_saved_elsewhere_is_loaded_from_the_environment(tmp_path):
    target = tmp_path / "pipeline"
    build_pipeline(target)
    assert (target / "config.cfg").is_file()
    code = (
        "import json, pathlib\n"
        "from khrushchev_essays.scoring import get_nlp, score\n"
        "from khrushchev_essays.scoring.nlp import PIPELINE_DIR\n"
        "nlp = get_nlp()\n"
        "r = score('The Secret Speech in 1956 was significant because it weakened the hardliners. '\n"
        "          'In conclusion, de-Stalinisation transformed the USSR to a limited extent.', 'q1')\n"
        "print(json.dumps({'path': str(nlp._path), 'same': nlp is get_nlp(), 'pipes': nlp.pipe_names,\n"
        "                  'default': str(PIPELINE_DIR), 'status': r.status,\n"
        "                  'factor': [f.status for f in r.factors if f.id == 'destalinisation'][0]}))\n"
    )
    env = {**os.environ, PIPELINE_ENV: str(target)}
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["path"] == str(target) != out["default"]
    assert out["same"] is True
    assert "sentencizer" in out["pipes"]
    assert out["status"] == "scored" and out["factor"] != "missing"


# --- the sentencizer: spaCy's rule, on arrays -----------------------------------------------------
_PIECES = st.sampled_from(["a", "Word", "1956", " ", "  ", "\n", "\n\n", ".", "!", "?", "...", "?!", "\u2026", '"',
                           "'", "(", ")", "[", "-", "\u2014", ",", ";", ":", "Mr.", "e.g.", "U.S.S.R.", "\u3002",
                           "\uff01", "\u203c", "*", "\u2022"])


def _reference():
    import spacy

    ref = spacy.blank("en")
    ref.add_pipe("sentencizer")
    return ref


_REF = _reference()


def _starts(doc) -> list[int]:
    from spacy.attrs import SENT_START

    return doc.to_array([SENT_START]).tolist()


def test_the_loaded_pipeline_splits_with_the_array_sentencizer_under_spacys_name():
    from spacy.pipeline import Sentencizer

    from khrushchev_essays.scoring.nlp import SENTENCIZER_NAME

    nlp = get_nlp()
    pipe = nlp.get_pipe("sentencizer")
    assert isinstance(pipe, Sentencizer) and type(pipe) is not Sentencizer
    assert nlp.get_pipe_meta("sentencizer").factory == SENTENCIZER_NAME
    assert pipe.punct_chars == _REF.get_pipe("sentencizer").punct_chars


def test_the_array_sentencizer_finds_spacys_sentences_in_every_fixture():
    from conftest import FIXTURES

    nlp = get_nlp()
    texts = [p.read_text(encoding="utf-8") for p in sorted(FIXTURES.glob("*.txt"))]
    assert texts
    # Most fixtures are essays long enough for the arrays; the short ones and the strings below go
    # through spaCy's own loop in the pipeline, and through the arrays in `arrays`.
    assert sum(len(nlp.make_doc(t)) >= nlp.get_pipe("sentencizer").ARRAYS_FROM for t in texts) > len(texts) / 2
    arrays = _arrays_always()
    for text in texts + ["", " ", ".", "!?", "a", "a.", ". a", '"Yes." No', "Stop!!! Go"]:
        assert _starts(nlp(text)) == _starts(_REF(text)), text[:60]
        assert _starts(arrays(nlp.make_doc(text))) == _starts(_REF(text)), text[:60]


def _arrays_always():
    """The pipeline's sentencizer class, set to use its arrays however short the doc."""
    pipe = get_nlp().get_pipe("sentencizer")
    mine = type(pipe)(punct_chars=sorted(pipe.punct_chars))
    mine.ARRAYS_FROM = 1
    return mine


@given(st.lists(_PIECES, max_size=60).map("".join))
@settings(max_examples=400, deadline=None)
def test_the_array_sentencizer_splits_any_text_as_spacys_own(text):
    nlp = get_nlp()
    assert _starts(_arrays_always()(nlp.make_doc(text))) == _starts(_REF(text))
    assert _starts(nlp(text)) == _starts(_REF(text))  # short texts: spaCy's own loop


def test_the_array_sentencizer_leaves_boundaries_set_before_it_unless_told_to_overwrite():
    from spacy.attrs import SENT_START

    nlp = get_nlp()
    pipe = nlp.get_pipe("sentencizer")
    for overwrite in (False, True):
        ours, theirs = nlp.make_doc("One. Two three. Four"), _REF.make_doc("One. Two three. Four")
        for doc in (ours, theirs):
            doc[3].is_sent_start = True  # "three" and the "." after it, as a component before might decide
            doc[4].is_sent_start = True
        ref_pipe = type(_REF.get_pipe("sentencizer"))(punct_chars=sorted(pipe.punct_chars), overwrite=overwrite)
        mine = type(pipe)(punct_chars=sorted(pipe.punct_chars), overwrite=overwrite)
        mine.ARRAYS_FROM = 1
        assert mine(ours).to_array([SENT_START]).tolist() == ref_pipe(theirs).to_array([SENT_START]).tolist()


def test_the_lemma_table_is_loaded_as_spacy_builds_it_entry_for_entry():
    """The lemmatizer's tables are filled in bulk when the pipeline loads (nlp._read_lookups): the
    same entries in the same order and the same Bloom filter as spaCy's own Table makes."""
    import srsly
    from spacy.lookups import Lookups, Table

    nlp = get_nlp()
    lemmatizer = nlp.get_pipe("lowercase_lemmatizer")
    saved = nlp._path / "lowercase_lemmatizer" / "lookups"
    reference = Lookups().from_disk(saved)
    assert lemmatizer.lookups.tables == reference.tables == ["lemma_lookup"]
    ours, theirs = lemmatizer.lookups.get_table("lemma_lookup"), reference.get_table("lemma_lookup")
    assert type(ours) is Table and len(ours) > 10_000
    assert list(ours.items()) == list(theirs.items())
    assert ours.bloom.to_bytes() == theirs.bloom.to_bytes() and ours.name == theirs.name
    raw = srsly.msgpack_loads((saved / "lookups.bin").read_bytes())["lemma_lookup"]
    assert all(word in ours for word in ("reforms", "were", "leaders")) and "qzxv" not in ours
    assert len(raw) == len(ours)


def test_short_phrases_get_the_same_lemmas_from_spacys_loop_as_from_the_columns():
    """Docs under ARRAYS_FROM tokens (a rubric's phrases) go through spaCy's loop, longer ones a
    column at a time; both apply the lookup rule."""
    nlp = get_nlp()
    lemmatizer = nlp.get_pipe("lowercase_lemmatizer")
    phrases = ["Secret Speech", "REFORMS were", "the Virgin Lands scheme", "mice's", "Ünïcödé naïve",
               "de-Stalinisation", "1,000,000 £5bn", "Was", "collectivised farms were broken up"]
    for phrase in phrases:
        assert len(nlp.make_doc(phrase)) < lemmatizer.ARRAYS_FROM
        looped = [t.lemma_ for t in lemmatizer(nlp.make_doc(phrase))]
        lemmatizer.ARRAYS_FROM = 1
        try:
            columns = [t.lemma_ for t in lemmatizer(nlp.make_doc(phrase))]
        finally:
            del lemmatizer.ARRAYS_FROM  # back to the class's threshold
        assert looped == columns == [lemmatizer.lookup_lemmatize(t)[0] for t in nlp.make_doc(phrase)], phrase
