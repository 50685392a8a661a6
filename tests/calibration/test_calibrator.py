"""The calibrator through the real engine and real files: training, trust checks, caps, review routing.

Calibrators are trained into tmp folders from the marked essays (../shared/calibration; skipped
without them), never into models/. One test checks the calibrators the repository ships against
the current rubrics and features, so a stale model is noticed (re-run `make calibrate`).
"""

from __future__ import annotations

import copy
import hashlib
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from khrushchev_essays.calibration import store as cal
from khrushchev_essays.scoring import load_rubric, score
from khrushchev_essays.calibration import (
    CALIBRATORS_DIR,
    NEEDS_REVIEW_BELOW,
    apply_calibration,
    calibrator_status,
    feature_problems,
    features,
    flag_review,
)

pytestmark = pytest.mark.calibration

# Junk written for these tests (not calibration essays). Long enough that too_short is not the
# only thing holding them down, except the one that is meant to be short.
KEYWORDS = (
    "Khrushchev\nSecret Speech 1956\nVirgin Lands scheme 1954\nCuban Missile Crisis 1962\nde-Stalinisation\n"
    "Sputnik 1957\nHungarian uprising 1956\nBerlin Wall 1961\nmaize campaign\nsovnarkhozy 1957\nGulag releases\n"
    "the Thaw\nNovocherkassk 1962\nAnti-Party Group 1957\nSeven-Year Plan 1959\nU-2 incident 1960\n"
    "Presidium October 1964\nBrezhnev\nparty bifurcation 1962\nindustrial ministries abolished\n"
) * 4
OFF_TOPIC = (
    "Football is the most popular sport in the world, and every weekend millions of people watch their "
    "local team play. A good striker needs pace, balance and a calm head in front of goal, while a goalkeeper "
    "must be brave and quick to react. Training sessions usually begin with stretching and short sprints, then "
    "move on to passing drills and small-sided games. Diet matters too: pasta the night before a match gives "
    "players the energy they need, and plenty of water keeps them going in the second half. "
) * 3
TOO_SHORT = (
    "Khrushchev's reforms changed the USSR to some extent: the Secret Speech of 1956 began de-Stalinisation "
    "and millions were released from the Gulag, but the one-party state stayed."
)


def copied(rubric) -> str:
    """The question, over and over, with a token sentence: copying earns nothing."""
    return (rubric.question + " ") * 14 + "This essay will answer the question."


def junk_texts(rubric) -> dict[str, str]:
    return {"keyword_list": KEYWORDS, "off_topic": OFF_TOPIC, "copied_question": copied(rubric), "too_short": TOO_SHORT}


@pytest.fixture(scope="module")
def data(calibration_dir):
    """{question: [(rule report, level, mark)]} for the marked essays, scored once per module."""
    from khrushchev_essays.calibration import labelled_reports

    return labelled_reports(calibration_dir / "labels.tsv", [calibration_dir], jobs=1)


@pytest.fixture(scope="module")
def trained(data, tmp_path_factory) -> Path:
    """Calibrators for both questions, marked for use whatever their gain, in a tmp folder."""
    from khrushchev_essays.calibration import train_question

    out = tmp_path_factory.mktemp("calibrators")
    for q, rows in data.items():
        train_question(load_rubric(q), rows, out, "test", always_apply=True)
    return out


@pytest.fixture(scope="module")
def generous(data, tmp_path_factory) -> Path:
    """A hostile calibrator taught that every essay deserves full marks: caps must still hold."""
    from khrushchev_essays.calibration import train_question

    out = tmp_path_factory.mktemp("generous")
    for q, rows in data.items():
        rubric = load_rubric(q)
        train_question(rubric, [(r, rubric.top_level, rubric.max_mark) for r, _lv, _m in rows], out, "test", always_apply=True)
    return out


def rules_report(text: str, rubric):
    """The rules' report, whatever calibrator the repository ships."""
    return copy.deepcopy(_rules(text, rubric))


def _rules(text: str, rubric):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(cal.ENV_SWITCH, "off")
        return score(text, rubric)


def copy_dir(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def edit_sidecar(folder: Path, qid: str, **changes) -> None:
    p = folder / f"{qid}.json"
    side = json.loads(p.read_text())
    side.update(changes)
    p.write_text(json.dumps(side))


# --- training ----------------------------------------------------------------------------------
def test_training_is_reproducible(data, tmp_path):
    from khrushchev_essays.calibration import cross_validate, train_question

    rubric = load_rubric("q1")
    rows = data["q1"]
    args = (rubric, [r for r, _l, _m in rows], [lv for _r, lv, _m in rows], [m for _r, _l, m in rows])
    assert cross_validate(*args) == cross_validate(*args)
    a = train_question(rubric, rows, tmp_path / "a", "test", always_apply=True)
    b = train_question(rubric, rows, tmp_path / "b", "test", always_apply=True)
    assert a["cv"] == b["cv"] and a["sha256"] == b["sha256"] and a["model_id"] == b["model_id"]
    reports = [copy.deepcopy(r) for r, _l, _m in rows]
    for folder in ("a", "b"):
        for r in reports:
            apply_calibration(r, rubric, directory=tmp_path / folder)
    again = [copy.deepcopy(r) for r, _l, _m in rows]
    for r in again:
        apply_calibration(r, rubric, directory=tmp_path / "b")
    assert [r.to_dict() for r in reports] == [r.to_dict() for r in again]


def test_sidecar_records_what_loading_checks(trained, q1):
    import sklearn

    side = json.loads((trained / "q1.json").read_text())
    assert side["sklearn_version"] == sklearn.__version__
    assert side["features_version"] == cal.FEATURES_VERSION
    assert side["rubric_fingerprint"] == q1.fingerprint()
    assert side["training_size"] == 24 and side["random_state"] == cal.RANDOM_STATE
    assert side["sha256"] == hashlib.sha256((trained / "q1.model.json").read_bytes()).hexdigest()
    assert side["model_id"].startswith("q1-") and side["model_id"].endswith(side["sha256"][:8])
    for who in ("model", "rules"):
        assert {"qwk", "exact", "adjacent", "mark_mae", "n"} <= set(side["cv"][who])
    assert "rule_mark" in side["feature_names"]


# --- a calibrated report -------------------------------------------------------------------------
def test_calibrated_report_keeps_rule_level_and_evidence(trained, calibration_dir, q2):
    text = (calibration_dir / "q2" / "05.txt").read_text(encoding="utf-8")
    report = rules_report(text, q2)
    before = report.to_dict()
    apply_calibration(report, q2, directory=trained)
    after = report.to_dict()
    side = json.loads((trained / "q2.json").read_text())
    assert after["calibration"]["model"] == side["model_id"]
    assert after["calibration"]["rule_level"] == before["level"]
    assert after["calibration"]["rule_mark"] == before["mark"]
    assert after["criteria"] == before["criteria"] and after["factors"] == before["factors"]
    assert any(c["evidence"] for c in after["criteria"]) and any(f["evidence"] for f in after["factors"])
    # Idempotent, and undone when calibration is turned off.
    apply_calibration(report, q2, directory=trained)
    assert report.to_dict() == after
    apply_calibration(report, q2, enabled=False)
    assert report.calibration is None and (report.level, report.mark) == (before["level"], before["mark"])


def test_engine_uses_a_calibrator_from_its_folder_and_can_be_turned_off(trained, calibration_dir, q1, monkeypatch):
    monkeypatch.setattr(cal, "CALIBRATORS_DIR", trained)
    text = (calibration_dir / "q1" / "10.txt").read_text(encoding="utf-8")
    on = score(text, q1)
    assert on.calibration and on.calibration["model"].startswith("q1-")
    monkeypatch.setenv(cal.ENV_SWITCH, "off")
    off = score(text, q1)
    assert off.calibration is None
    assert (off.level, off.mark) == (on.calibration["rule_level"], on.calibration["rule_mark"])


# --- refusals ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "says"),
    [
        ("tamper", "sha256"),
        ("rubric", "rubric"),
        ("schema", "feature schema"),
        ("pickle", "no longer loaded"),
        ("not_numbers", "could not be read"),
        ("features_version", "features version"),
        ("feature_names", "not the calibrator its sidecar describes"),
        ("no_sidecar", "no calibrator"),
        ("bad_json", "not valid JSON"),
    ],
)
def test_refused_calibrators_leave_the_rules_in_charge(trained, tmp_path, calibration_dir, q1, change, says):
    folder = copy_dir(trained, tmp_path / "cal")
    if change == "tamper":
        with (folder / "q1.model.json").open("ab") as fh:
            fh.write(b"\0")
    elif change == "rubric":
        edit_sidecar(folder, "q1", rubric_fingerprint="0" * 16)
    elif change == "schema":
        edit_sidecar(folder, "q1", features_schema_hash="0" * 16)
    elif change == "pickle":  # what earlier versions wrote: a .joblib file, sidecar format 1
        edit_sidecar(folder, "q1", format=1)
    elif change == "not_numbers":  # hashes right, but a scale of 0 would divide by zero
        model = json.loads((folder / "q1.model.json").read_text())
        (folder / "q1.model.json").write_text(json.dumps({**model, "scale": [0.0] * len(model["scale"])}))
        edit_sidecar(folder, "q1", sha256=hashlib.sha256((folder / "q1.model.json").read_bytes()).hexdigest())
    elif change == "features_version":
        edit_sidecar(folder, "q1", features_version=cal.FEATURES_VERSION + 1)
    elif change == "feature_names":
        names = json.loads((folder / "q1.json").read_text())["feature_names"]
        edit_sidecar(folder, "q1", feature_names=[n for n in names if n != "log_words"])
    elif change == "no_sidecar":
        (folder / "q1.json").unlink()
    elif change == "bad_json":
        (folder / "q1.json").write_text("{not json")
    status = calibrator_status(q1, directory=folder)
    assert not status.active and says in status.reason
    report = rules_report((calibration_dir / "q1" / "03.txt").read_text(encoding="utf-8"), q1)
    expected = report.to_dict()
    apply_calibration(report, q1, directory=folder)
    assert report.to_dict() == expected  # the rules' level, calibration null


def test_a_calibrator_the_engine_has_outgrown_is_refused(trained, calibration_dir, q1):
    """Criterion figures that vanish (the engine changed) stop the model; the rules decide."""
    report = rules_report((calibration_dir / "q1" / "03.txt").read_text(encoding="utf-8"), q1)
    names = calibrator_status(q1, directory=trained).calibrator.feature_names
    assert feature_problems(report, names) is None
    gone = next(iter(report.criteria[0].details))
    del report.criteria[0].details[gone]
    assert "missing features" in feature_problems(report, names)
    apply_calibration(report, q1, directory=trained)
    assert report.calibration is None


def test_an_unused_flag_is_not_a_mismatch(trained, calibration_dir, q1):
    report = rules_report((calibration_dir / "q1" / "03.txt").read_text(encoding="utf-8"), q1)
    report.flags.append("some_new_flag")
    names = calibrator_status(q1, directory=trained).calibrator.feature_names
    assert feature_problems(report, names) is None


# --- the mark scheme still rules -----------------------------------------------------------------
@pytest.mark.parametrize("qid", ["q1", "q2"])
@pytest.mark.parametrize("kind", ["keyword_list", "off_topic", "copied_question", "too_short"])
def test_caps_hold_over_any_calibrator(trained, generous, monkeypatch, qid, kind):
    rubric = load_rubric(qid)
    text = junk_texts(rubric)[kind]
    rules = rules_report(text, rubric)
    assert kind in rules.flags and rules.level <= 1
    for folder in (trained, generous):
        monkeypatch.setattr(cal, "CALIBRATORS_DIR", folder)
        report = score(text, rubric)  # through the engine, calibrator on
        assert report.calibration is not None, calibrator_status(rubric).reason
        assert report.level <= 1 and report.mark <= rubric.band(1).max_mark, (folder.name, report.calibration)
        assert kind in report.flags


def test_the_generous_calibrator_would_lift_an_uncapped_essay(generous, calibration_dir, q1):
    """So the cap test above is not passing only because the model agrees with the caps."""
    report = rules_report((calibration_dir / "q1" / "02.txt").read_text(encoding="utf-8"), q1)
    if any(c["max_level"] < q1.top_level for c in report.caps):
        pytest.skip("this essay is capped by the current rules")
    apply_calibration(report, q1, directory=generous)
    assert report.level == q1.top_level and report.calibration["rule_level"] < q1.top_level


# --- confidence and review routing ----------------------------------------------------------------
def test_needs_review_follows_confidence(data, trained):
    seen_low = False
    for q, rows in data.items():
        rubric = load_rubric(q)
        for r, _lv, _m in rows:
            for report in (r, copy.deepcopy(r)):
                if report is not r:
                    apply_calibration(report, rubric, directory=trained)
                assert 0.5 <= report.confidence <= 1
                low = report.confidence < NEEDS_REVIEW_BELOW
                seen_low |= low
                assert ("needs_review" in report.flags) == low, (q, report.source, report.confidence)
    assert seen_low, "no essay in the marked set has a low confidence: the threshold routes nothing"


def test_flag_review_is_idempotent(data):
    report = copy.deepcopy(data["q1"][0][0])
    report.confidence = NEEDS_REVIEW_BELOW - 0.01
    flag_review(report)
    flag_review(report)
    assert report.flags.count("needs_review") == 1
    report.confidence = 0.9
    flag_review(report)
    assert "needs_review" not in report.flags


def test_features_ignore_calibration_and_review(data, trained, q1):
    report = copy.deepcopy(data["q1"][0][0])
    before = features(report)
    apply_calibration(report, q1, directory=trained)
    report.flags.append("needs_review")
    assert features(report) == before


# --- the calibrators the repository ships ---------------------------------------------------------
@pytest.mark.parametrize("qid", ["q1", "q2"])
def test_shipped_calibrator_matches_the_current_rubric_and_features(qid, tmp_path, calibration_dir):
    """Fails when the rubrics or the engine's features moved on: re-run `make calibrate` and commit.

    The engine would fall back to the rules on its own; this test makes the staleness visible.
    Whether the shipped model is *used* depends on its cross-validated gain (sidecar `apply`),
    so the copy here is marked for use to check every other condition.
    """
    if not (CALIBRATORS_DIR / f"{qid}.json").is_file():
        pytest.fail(f"no shipped calibrator for {qid} in {CALIBRATORS_DIR}: run `make calibrate` and commit it")
    rubric = load_rubric(qid)
    folder = tmp_path / "shipped"
    folder.mkdir()
    for suffix in (".json", ".model.json"):
        shutil.copy2(CALIBRATORS_DIR / f"{qid}{suffix}", folder / f"{qid}{suffix}")
    edit_sidecar(folder, qid, apply=True)
    status = calibrator_status(rubric, directory=folder)
    assert status.active, f"shipped calibrator for {qid} is stale ({status.reason}): run `make calibrate` and commit"
    text = sorted((calibration_dir / qid).glob("*.txt"))[0].read_text(encoding="utf-8")
    problem = feature_problems(rules_report(text, rubric), status.calibrator.feature_names)
    assert problem is None, f"shipped calibrator for {qid}: {problem}"


# --- the command --------------------------------------------------------------------------------
def test_train_command_prints_model_and_rules(calibration_dir, tmp_path):
    from khrushchev_essays.cli import main

    result = CliRunner().invoke(main, ["train", "--labels", str(calibration_dir / "labels.tsv"), "--out", str(tmp_path), "-j", "1"])
    assert result.exit_code == 0, result.output
    for q in ("q1", "q2"):
        assert f"{q}  rules" in result.output and f"{q}  model" in result.output
        assert (tmp_path / f"{q}.model.json").is_file() and (tmp_path / f"{q}.json").is_file()
