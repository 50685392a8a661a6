"""A model retrained in one process is used by another, already running, at its next score (issue 14).

Two real processes share an instance folder: a "worker" that keeps its engine loaded and scores an
essay whenever asked (as a gunicorn worker would), and `khrushchev-essays train` run beside it,
which writes instance/calibrators/. Nothing tells the worker; it notices the files' mtime and size.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES

WORKER = r"""
import json, sys
from khrushchev_essays.calibration import calibrator_status
from khrushchev_essays.scoring import load_rubric, score

text = open(sys.argv[1], encoding="utf-8").read()
rubric = load_rubric("q1")
for line in sys.stdin:  # one line asks for one score
    report = score(text, "q1")
    status = calibrator_status(rubric)
    print(json.dumps({"model": (report.calibration or {}).get("model"), "origin": status.origin,
                      "reason": status.reason}), flush=True)
"""


def labelled_set(folder: Path) -> Path:
    """Twelve q1 essays from the fixtures (whole, and without their last paragraph) with marks a
    marker might give: a labels TSV as `train --labels` reads it."""
    essays = folder / "q1"
    essays.mkdir(parents=True)
    rows = ["question\tfile\tconsensus_level\tconsensus_mark"]
    sources = sorted(FIXTURES.glob("q1_*.txt"))
    for i, path in enumerate([*sources, *sources][:12]):
        text = path.read_text(encoding="utf-8").strip()
        if i >= len(sources):
            text = "\n\n".join(text.split("\n\n")[:-1]) or text
        (essays / f"{i:02}.txt").write_text(text + "\n", encoding="utf-8")
        mark = 6 + (i * 7) % 18
        rows.append(f"q1\t{i:02}.txt\t{min(5, mark // 5)}\t{mark}")
    labels = folder / "labels.tsv"
    labels.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return labels


@pytest.mark.slow
def test_a_running_worker_uses_a_model_another_process_just_retrained(tmp_path):
    instance = tmp_path / "instance"
    env = {**os.environ, "KHRUSHCHEV_INSTANCE_PATH": str(instance)}
    env.pop("KHRUSHCHEV_CALIBRATION", None)
    labels = labelled_set(tmp_path / "marked")
    cli = Path(sys.executable).parent / "khrushchev-essays"
    worker = subprocess.Popen([sys.executable, "-c", WORKER, str(FIXTURES / "q1_medium.txt")], env=env,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def ask() -> dict:
        worker.stdin.write("score\n")
        worker.stdin.flush()
        return json.loads(worker.stdout.readline())

    def retrain() -> dict:
        done = subprocess.run([str(cli), "train", "--labels", str(labels), "--always-apply", "-j", "1"],
                              env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr + done.stdout
        return json.loads((instance / "calibrators" / "q1.json").read_text(encoding="utf-8"))

    try:
        before = ask()
        assert before["origin"] != "instance", before  # nothing retrained yet: shipped model or the rules

        first = retrain()  # another process, writing instance/calibrators/
        after = ask()
        assert (after["origin"], after["model"]) == ("instance", first["model_id"]), after

        # Retrained again (new marks): new files, and the same running worker moves to them too.
        labels.write_text(labels.read_text(encoding="utf-8").replace("\t6\n", "\t9\n"), encoding="utf-8")
        second = retrain()
        assert second["model_id"] != first["model_id"]
        assert ask()["model"] == second["model_id"]
    finally:
        worker.stdin.close()
        worker.wait(timeout=60)
