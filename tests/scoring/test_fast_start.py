"""Fast start (issue 14): scoring an essay imports no scikit-learn, loads no pickle, and the numpy
stand-ins compute what scikit-learn computed, to the bit."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from khrushchev_essays.calibration import CALIBRATORS_DIR, calibrator_status
from khrushchev_essays.calibration.linear import LinearCalibrator
from khrushchev_essays.scoring import get_nlp, load_all_rubrics, load_rubric
from khrushchev_essays.scoring.tfidf import SublinearTfidf

from conftest import FIXTURES

HEAVY = ("sklearn", "scipy", "joblib", "flask", "sqlalchemy")


def test_grading_an_essay_from_the_cli_imports_no_scikit_learn_and_still_calibrates(tmp_path):
    """The CLI's own code path, in a fresh process, with a calibrator that applies: the shipped q2
    model, copied into the instance folder and marked for use (whether the shipped one beats the
    rules depends on the latest `make calibrate`)."""
    folder = tmp_path / "instance" / "calibrators"
    folder.mkdir(parents=True)
    side = json.loads((CALIBRATORS_DIR / "q2.json").read_text(encoding="utf-8"))
    (folder / "q2.json").write_text(json.dumps({**side, "apply": True}), encoding="utf-8")
    (folder / "q2.model.json").write_bytes((CALIBRATORS_DIR / "q2.model.json").read_bytes())
    code = (
        "import json, sys, io, contextlib\n"
        "from khrushchev_essays.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        "    try:\n"
        f"        main(['grade', {str(FIXTURES / 'q2_medium.txt')!r}, '-f', 'json'])\n"
        "    except SystemExit as exc:\n"
        "        assert exc.code == 0, exc.code\n"
        "[report] = json.loads(out.getvalue())\n"
        f"print(json.dumps({{'heavy': sorted(m for m in {HEAVY!r} if m in sys.modules), "
        "'calibration': report['calibration'], 'status': report['status']}))\n"
    )
    env = {**os.environ, "KHRUSHCHEV_INSTANCE_PATH": str(tmp_path / "instance")}
    env.pop("KHRUSHCHEV_CALIBRATION", None)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path, env=env)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["status"] == "scored" and result["heavy"] == []
    assert result["calibration"] and result["calibration"]["model"] == side["model_id"]


def test_the_engine_scores_both_questions_without_scikit_learn():
    code = (
        "import sys\nfrom khrushchev_essays.scoring import score\n"
        f"for name, q in (('q1_strong.txt', 'q1'), ('q2_notes.txt', 'q2'), ('junk_off_topic.txt', 'auto')):\n"
        f"    r = score(open({str(FIXTURES)!r} + '/' + name, encoding='utf-8').read(), q)\n"
        "    assert r.status == 'scored', r.error\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_loading_the_pipeline_leaves_spacy_cli_unimported_and_still_importable():
    """get_nlp imports spaCy without its command-line interface (typer, weasel, requests...); the
    real spacy.cli is still there for whoever imports it later, spacy.info still works, and an
    essay is read as after a plain `import spacy` (compared in a second fresh process)."""
    essay = str(FIXTURES / "q1_strong.txt")
    code = (
        "import json, sys\n"
        "from khrushchev_essays.scoring import get_nlp, score\n"
        "nlp = get_nlp()\n"
        "cli_loaded = [m for m in ('spacy.cli', 'typer', 'weasel', 'requests') if m in sys.modules]\n"
        f"report = score(open({essay!r}, encoding='utf-8').read(), 'q1').to_json()\n"
        "import spacy.cli\n"
        "from spacy.cli import download, info\n"
        "import spacy\n"
        "about = spacy.info(silent=True)\n"
        "print(json.dumps({'cli_loaded': cli_loaded, 'callable': callable(info) and callable(download), "
        "'version': about['spacy_version'] == spacy.__version__, 'report': report}))\n"
    )
    runs = {}
    for plain in (False, True):
        source = ("import spacy\n" if plain else "") + code
        done = subprocess.run([sys.executable, "-c", source], capture_output=True, text=True, check=True)
        runs[plain] = json.loads(done.stdout.strip().splitlines()[-1])
    assert runs[False]["cli_loaded"] == []
    assert "spacy.cli" in runs[True]["cli_loaded"]  # a plain import of spaCy does bring it in
    assert runs[False]["callable"] and runs[False]["version"]
    assert runs[False]["report"] == runs[True]["report"]


def _topic_documents(rubric, nlp) -> list[list[str]]:
    docs = [rubric.topic_text + " " + rubric.question + " " + rubric.summary]
    docs += [" ".join([f.name, *f.phrases, *f.development, f.hint]) for f in rubric.factors]
    return [[t.lemma_ for t in d if t.is_alpha and not t.is_stop and len(t) > 2] for d in nlp.pipe(docs)]


def _compare_with_scikit_learn(documents):
    from sklearn.feature_extraction.text import TfidfVectorizer

    reference = TfidfVectorizer(analyzer=lambda doc: doc, sublinear_tf=True)
    expected = reference.fit_transform(documents)
    mine = SublinearTfidf()
    got = mine.fit_transform(documents)
    assert mine.vocabulary_ == reference.vocabulary_
    assert np.array_equal(mine.idf_, reference.idf_)
    assert np.array_equal(got, expected.toarray())
    assert np.array_equal(got.sum(axis=0), expected.sum(axis=0).A1)  # the topic centroid


@pytest.mark.parametrize("qid", sorted(load_all_rubrics()))
def test_the_topic_model_weights_are_scikit_learns_to_the_bit(qid):
    _compare_with_scikit_learn(_topic_documents(load_rubric(qid), get_nlp()))


def test_tfidf_matches_scikit_learn_on_repeated_and_shared_terms():
    rng = np.random.default_rng(7)
    words = [f"w{i}" for i in range(60)]
    documents = [[words[j] for j in rng.integers(0, 60, size=rng.integers(1, 200))] for _ in range(12)]
    documents.append(["w1"])  # a one-word document
    _compare_with_scikit_learn(documents)


def test_a_linear_calibrator_predicts_what_the_fitted_estimator_does_after_a_json_round_trip():
    from khrushchev_essays.calibration.model import RuleResidualRegressor

    rng = np.random.default_rng(3)
    X = rng.normal(size=(30, 5)) * [1, 10, 0.1, 3, 1]
    X[:, 2] = rng.integers(0, 25, size=30)
    y = X[:, 2] + rng.normal(size=30)
    est = RuleResidualRegressor(feature_names=("a", "b", "rule_mark", "c", "d")).fit(X, y)
    model = LinearCalibrator.from_json(LinearCalibrator.from_estimator(est).to_json())
    new = rng.normal(size=(40, 5)) * 7
    assert np.array_equal(model.predict(new), est.predict(new))
    assert model.feature_names[model.base_index] == "rule_mark"


@pytest.mark.parametrize(("change", "says"), [
    ({"kind": "pickle"}, "not a rule_residual_ridge model"),
    ({"coef": [1.0]}, "coef must be"),
    ({"mean": ["x", 1, 2]}, "mean must be"),
    ({"scale": [1.0, -1.0, 1.0]}, "scale must be positive"),
    ({"intercept": float("nan")}, "intercept"),
    ({"base_feature": "nope"}, "base_feature"),
])
def test_a_model_file_that_is_not_sound_numbers_is_refused(change, says):
    good = {"kind": "rule_residual_ridge", "feature_names": ["a", "rule_mark", "b"], "base_feature": "rule_mark",
            "mean": [0.0, 1.0, 2.0], "scale": [1.0, 1.0, 1.0], "coef": [0.1, 0.2, 0.3], "intercept": 0.5, "alpha": 10.0}
    LinearCalibrator.from_json(json.dumps(good))
    with pytest.raises(ValueError, match=says):
        LinearCalibrator.from_json(json.dumps({**good, **change}))


@pytest.mark.parametrize("qid", sorted(load_all_rubrics()))
def test_the_shipped_calibrators_are_plain_numbers_with_a_sidecar(qid):
    names = sorted(p.name for p in CALIBRATORS_DIR.iterdir() if p.name.startswith(f"{qid}."))
    assert names == [f"{qid}.json", f"{qid}.model.json"]
    side = json.loads((CALIBRATORS_DIR / f"{qid}.json").read_text(encoding="utf-8"))
    assert side["format"] == 2 and side["model_file"] == f"{qid}.model.json"
    status = calibrator_status(load_rubric(qid), directory=CALIBRATORS_DIR)
    assert status.active or "did not beat the rules" in status.reason, status.reason


def test_our_pipeline_loads_without_reading_its_saved_tokenizer_and_tokenises_the_same():
    """get_nlp skips the saved tokenizer of a pipeline this spaCy release built (see nlp._default_tokenizer)."""
    import spacy

    from khrushchev_essays.scoring.nlp import PIPELINE_DIR, _default_tokenizer

    assert _default_tokenizer(str(PIPELINE_DIR)) == ["tokenizer"]
    fast = get_nlp()  # (also registers the lemmatizer's factory, which spacy.load needs)
    full = spacy.load(PIPELINE_DIR)
    assert fast.tokenizer.to_bytes(exclude=["vocab"]) == full.tokenizer.to_bytes(exclude=["vocab"])
    text = (FIXTURES / "q1_strong.txt").read_text(encoding="utf-8") + " U.S.-backed e.g. 1950s can't £5.3bn :-)"
    assert [t.text for t in fast(text)] == [t.text for t in full(text)]


def test_warming_the_app_compiles_every_template_and_writes_nothing(app):
    """What serve does before the first request (web/server.py, warm_up): no student waits for it."""
    from sqlalchemy import func, select

    from khrushchev_essays.storage import Submission, db
    from khrushchev_essays.web.server import warm_up

    env = app.jinja_env
    pages = env.list_templates(filter_func=lambda n: n.endswith(".html"))
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(Submission))
        warm_up(app)
        after = db.session.scalar(select(func.count()).select_from(Submission))
    assert before == after == 0
    import weakref

    missing = [name for name in pages if env.cache.get((weakref.ref(env.loader), name)) is None]
    assert pages and not missing, f"not compiled: {missing}"


def test_the_column_at_a_time_lemmatizer_gives_each_token_the_lemma_of_its_lookup_rule():
    nlp = get_nlp()
    lemmatizer = nlp.get_pipe("lowercase_lemmatizer")
    texts = [p.read_text(encoding="utf-8") for p in sorted(FIXTURES.glob("*.txt"))]
    texts.append("REFORMS Reforms reforms were WERE Was, MICE mice's 1,000,000 £5bn Ünïcödé naïve ")
    checked = 0
    for doc in nlp.pipe(texts):
        expected = [lemmatizer.lookup_lemmatize(t)[0] for t in doc]
        assert [t.lemma_ for t in doc] == expected
        checked += len(doc)
    assert checked > 10_000
    assert [t.lemma_ for t in nlp("Reforms REFORMS were")] == ["reform", "reform", "be"]
    assert len(nlp("")) == 0
