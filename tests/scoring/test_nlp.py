"""The spaCy pipeline: loaded once per process, and a pipeline saved elsewhere can be named in
KHRUSHCHEV_SPACY_PIPELINE (checked in a subprocess, so this process's cache is left alone)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import ROOT

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
