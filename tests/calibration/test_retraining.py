"""Retraining the calibrator from teachers' reviews (issue 5): the before/after record, the rule
that a new model replaces the one in use only when it agrees better with the reviews, and how the
analytics page shows agreement before and after.

Retraining writes into the test's own instance folder (instance/calibrators), and the shipped
calibrators are stood in for by a folder of the test's own (CALIBRATORS_DIR is pointed at it), so
the package's models are never touched; later tests check that the retrained model is preferred
over the shipped one, and that a broken one falls back to it. The "teachers" here mark every
essay a fixed number of marks above the rules: a bias a calibrator can learn exactly, so the
figures below are known in advance.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import stat
from pathlib import Path

import pytest
from conftest import read_fixture
from filelock import FileLock

from khrushchev_essays.resources import data_path
from khrushchev_essays.calibration import store as cal
from khrushchev_essays.calibration.apply import capped
from khrushchev_essays.scoring import score
from khrushchev_essays.storage import CalibrationRun, Submission, Teacher, db, save_submission
from khrushchev_essays.storage.reviews import save_review
from khrushchev_essays.calibration import MIN_ESSAYS, TrainingError, retrain_from_reviews

# (fixture, paragraphs dropped from the end): twelve q1 essays of Levels 1-4 whose caps would
# not hold them down even 2 marks higher, so "the rules' mark + 2" is a level a model can reach.
# (The narrative fixture no longer qualifies: it never names change at either end, so it is now
# held at Level 1 as an answer to another question; the whole medium fixture is held at Level 3
# for its general evidence, as it would be two paragraphs short of it 2 marks higher: it is used
# without one, four or five of them (without three it now states a verdict and reaches 14, so
# 16 would pass that cap), and the dyslexic fixture without two or three.)
ESSAYS = [("q1_medium.txt", k) for k in (1, 4, 5)] + [("q1_dyslexic_strong.txt", k) for k in (2, 3)] + [("q1_own_words_strong.txt", k) for k in range(5)] + \
         [("q1_one_sided.txt", 2), ("q1_one_sided.txt", 3)]


def essay(name: str, drop: int) -> str:
    paras = [p for p in read_fixture(name).split("\n\n") if p.strip()]
    return "\n\n".join(paras[: len(paras) - drop])


@pytest.fixture
def shipped(tmp_path, monkeypatch):
    """An empty folder the engine reads instead of the package's shipped calibrators."""
    path = tmp_path / "shipped"
    path.mkdir()
    monkeypatch.setattr(cal, "CALIBRATORS_DIR", path)
    return path


@pytest.fixture
def folder(private_instance, shipped):
    """Where retraining writes by default: calibrators/ in the test's own instance folder."""
    return private_instance / "calibrators"


def store_reviewed(app, q1, count: int = len(ESSAYS), shift: int = 2, class_code: str = "12C") -> list[int]:
    """Store `count` scored q1 essays, each reviewed at the rules' mark + `shift`; their ids."""
    ids = []
    with app.app_context():
        teacher = db.session.query(Teacher).one()
        for name, drop in ESSAYS[:count]:
            text = essay(name, drop)
            report = score(text, q1)
            assert report.calibration is None and not any(c.get("applied") for c in report.caps)
            sub = save_submission(text, report, class_code=class_code)
            mark = min(25, report.mark + shift)
            # The premise of the figures below at the usual 2 marks: the caps let the reviews stand.
            assert shift > 2 or capped(q1, float(mark), report)[0] == mark, f"{name} without {drop}: caps hold {mark} down"
            save_review(sub, teacher, mark=mark, level=q1.level_for_mark(mark),
                        criteria={c.id: c.mark for c in report.criteria}, comment="")
            ids.append(sub.id)
    return ids


def test_a_model_that_agrees_better_is_installed_and_the_run_recorded(app, teacher_client, folder, q1):
    ids = store_reviewed(app, q1)
    with app.app_context():
        text = read_fixture("q1_strong.txt")
        unreviewed = save_submission(text, score(text, q1)).id  # not reviewed: not learnt from
        teacher = db.session.query(Teacher).one()
        result = retrain_from_reviews("q1", teacher=teacher)
        assert result.outcome == "installed" and result.before_by == "rules" and result.reviews == len(ESSAYS)
        # The teachers are always 2 marks above the rules: the model learns exactly that, even
        # with each essay left out of its own training.
        assert result.after["qwk"] == 1.0 and result.after["exact"] == 1.0
        assert result.before["qwk"] < 1.0
        assert all(result.before[k] == result.rules[k] for k in ("n", "qwk", "exact", "adjacent", "mark_mae"))
        side = result.sidecar
        assert side["source"] == "database:teacher-reviews" and side["trained_on"] == ids and unreviewed not in ids
        assert side["trained_by"] == teacher.email and side["apply"] is True and side["replaced"] == "rules"
        run = db.session.query(CalibrationRun).one()
        assert (run.question, run.outcome, run.model_id, run.reviews) == ("q1", "installed", side["model_id"], len(ESSAYS))
        assert run.teacher_id == teacher.id and run.gain == pytest.approx(1.0 - result.before["qwk"], abs=1e-4)
    status = cal.calibrator_status(q1)
    assert status.active and status.calibrator.model_id == side["model_id"]
    # New essays are now levelled by it, and keep the rules' level beside it.
    text = essay("q1_medium.txt", 1)
    report = score(text, q1)
    assert report.calibration["model"] == side["model_id"]
    assert report.mark == report.calibration["rule_mark"] + 2


def test_retraining_again_on_the_same_reviews_keeps_the_model_in_use(app, teacher_client, folder, q1):
    store_reviewed(app, q1)
    with app.app_context():
        first = retrain_from_reviews("q1")
        before = {p.name: p.read_bytes() for p in folder.glob("q1.*")}
        second = retrain_from_reviews("q1")
        assert second.outcome == "kept" and second.before_by == first.model_id
        # The model in use saw every one of these reviews: the run says so.
        assert second.before["trained_on"] == len(ESSAYS) and f"trained on {len(ESSAYS)} of them" in second.message
        assert {p.name: p.read_bytes() for p in folder.glob("q1.*")} == before  # no file changed
        assert [r.outcome for r in db.session.query(CalibrationRun).order_by(CalibrationRun.id)] == ["installed", "kept"]


def test_reviews_that_agree_with_the_rules_leave_the_rules_in_charge(app, teacher_client, folder, q1):
    store_reviewed(app, q1, shift=0)
    with app.app_context():
        result = retrain_from_reviews("q1")
    assert result.outcome == "not_used" and result.rules["qwk"] == 1.0 and result.model_id is None
    assert "the rules still decide" in result.message
    assert not list(folder.glob("q1.*"))
    assert not cal.calibrator_status(q1).active


def test_too_few_reviews_or_a_busy_folder_refuse_with_a_reason(app, teacher_client, folder, q1):
    store_reviewed(app, q1, count=MIN_ESSAYS - 1)
    with app.app_context():
        with pytest.raises(TrainingError, match="q1: 9 reviewed submissions, at least 10 are needed"):
            retrain_from_reviews("q1")
    store_reviewed(app, q1, count=1)
    folder.mkdir()
    with app.app_context(), FileLock(folder / ".lock"):
        with pytest.raises(TrainingError, match="another retraining is writing the calibrators"):
            retrain_from_reviews("q1", lock_timeout=0.2)
        assert db.session.query(CalibrationRun).count() == 0


def test_the_analytics_page_shows_agreement_before_and_after_retraining(app, teacher_client, folder, q1):
    store_reviewed(app, q1)
    page = teacher_client.get("/teacher/analytics").get_data(as_text=True)
    section = page[page.index('id="q1"'):page.index('id="q2"')]
    assert "The rules set the automatic level" in section and f"Retrain from {len(ESSAYS)} reviews" in section
    assert "Now, with calibrator" not in section and "disabled" not in section.split("Retrain from")[0][-200:]

    resp = teacher_client.post("/teacher/analytics/retrain/q1", follow_redirects=True)
    page = resp.get_data(as_text=True)
    assert "Retrained: the new model is now used." in page
    assert f"It gives your level on {len(ESSAYS)} of your {len(ESSAYS)} reviewed essays" in page
    assert f"Agreement with {len(ESSAYS)} reviews (QWK): 1.00 for the new model" in page
    section = page[page.index('id="q1"'):page.index('id="q2"')]
    with app.app_context():
        run = db.session.query(CalibrationRun).one()
    # The three measures of the same reviews: as marked at the time (unchanged: the rules), the
    # rules alone, and now with the new calibrator (every level right).
    start = section.index("agreement-table")
    rows = section[start:section.index("</table>", start)]
    assert f"Now, with calibrator {run.model_id}</th><td class=\"num\">1.00</td><td class=\"num\">100%</td>" in rows
    before = f"{run.before['qwk']:.2f}"
    assert f"As marked at the time</th><td class=\"num\">{before}</td>" in rows
    assert f"Rules alone</th><td class=\"num\">{before}</td>" in rows
    # The run itself: before (the rules), after (the new model), outcome.
    runs = section[section.index("runs-table"):]
    assert f"{before} <span class=\"muted\">(rules)</span>" in runs and "<strong>1.00</strong>" in runs
    assert "new model in use" in runs and "teacher@school.example" in runs
    assert (f"The automatic level is set by the calibrator <code>{run.model_id}</code>, retrained on this installation "
            f"(kept in its instance folder, tried before the shipped one), trained on {len(ESSAYS)} of your reviews") in section
    # q2 has no reviews: its button is disabled and says how many more are needed.
    q2 = page[page.index('id="q2"'):]
    assert "Retrain from 0 reviews" in q2 and "needs at least 10 (10 more)" in q2


def test_the_retrain_route_refuses_unknown_questions_strangers_and_too_few_reviews(app, teacher_client, folder, q1):
    assert teacher_client.post("/teacher/analytics/retrain/q9").status_code == 404
    store_reviewed(app, q1, count=3)
    page = teacher_client.post("/teacher/analytics/retrain/q1", follow_redirects=True).get_data(as_text=True)
    assert "Cannot retrain: q1: 3 reviewed submissions, at least 10 are needed" in page
    # Signed out: sent to sign in, nothing trained.
    assert app.test_client().post("/teacher/analytics/retrain/q1").status_code == 303
    with app.app_context():
        assert db.session.query(CalibrationRun).count() == 0 and db.session.query(Submission).count() == 3


def test_caps_hold_over_a_model_retrained_from_generous_reviews(app, teacher_client, folder, q1, scored_fixture):
    store_reviewed(app, q1, shift=6)
    with app.app_context():
        assert retrain_from_reviews("q1").outcome == "installed"
    for name in ("junk_keyword_list.txt", "junk_copied_question_q1.txt", "junk_too_short.txt", "junk_off_topic.txt"):
        report = score(read_fixture(name), q1)
        assert report.calibration is not None and report.calibration["predicted_mark"] > report.calibration["rule_mark"]
        assert report.level <= 1, (name, report.level, report.flags)


# --- where retrained models live: the instance folder, tried before the shipped ones ------------
def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def ship_the_real_q1(shipped: Path) -> str:
    """Stand the package's own q1 calibrator in as the shipped one, marked for use; its model id."""
    package = data_path("models", "calibrators")
    shutil.copy2(package / "q1.model.json", shipped / "q1.model.json")
    side = json.loads((package / "q1.json").read_text(encoding="utf-8"))
    (shipped / "q1.json").write_text(json.dumps({**side, "apply": True}), encoding="utf-8")
    return side["model_id"]


def test_the_retrain_button_writes_the_instance_folder_privately_and_never_the_package(
        app, teacher_client, folder, shipped, q1):
    package = data_path("models", "calibrators")  # the real shipped models (CALIBRATORS_DIR is patched)
    before = digest(package)
    store_reviewed(app, q1)
    page = teacher_client.post("/teacher/analytics/retrain/q1", follow_redirects=True).get_data(as_text=True)
    assert "Retrained: the new model is now used." in page
    assert sorted(p.name for p in folder.iterdir()) == [".lock", "q1.json", "q1.model.json"]
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()} == dict.fromkeys(
        [".lock", "q1.json", "q1.model.json"], 0o600)
    assert list(shipped.iterdir()) == [] and digest(package) == before
    status = cal.calibrator_status(q1)
    assert status.active and (status.origin, status.folder, status.passed_over) == ("instance", str(folder), None)


def test_the_retrained_model_is_preferred_to_the_shipped_one(app, teacher_client, folder, shipped, q1):
    store_reviewed(app, q1)  # levelled by the rules (no calibrator yet), reviewed 2 marks higher
    shipped_id = ship_the_real_q1(shipped)
    status = cal.calibrator_status(q1)
    assert (status.origin, status.calibrator.model_id) == ("shipped", shipped_id)
    page = teacher_client.get("/teacher/analytics").get_data(as_text=True)
    assert f"<code>{shipped_id}</code>, shipped with the app, trained on" in page
    with app.app_context():
        result = retrain_from_reviews("q1", always_apply=True)
    # The model in use before was the shipped one; the new one sits beside it, not over it.
    assert result.before_by == shipped_id and result.outcome == "installed" and result.model_id != shipped_id
    assert json.loads((shipped / "q1.json").read_text(encoding="utf-8"))["model_id"] == shipped_id
    status = cal.calibrator_status(q1)
    assert (status.origin, status.calibrator.model_id) == ("instance", result.model_id)
    assert score(essay("q1_medium.txt", 0), q1).calibration["model"] == result.model_id
    page = teacher_client.get("/teacher/analytics").get_data(as_text=True)
    assert f"<code>{result.model_id}</code>, retrained on this installation" in page


def _append_a_byte(folder: Path) -> None:
    with (folder / "q1.model.json").open("ab") as fh:
        fh.write(b"\0")


def _sidecar(**changes):
    def change(folder: Path) -> None:
        side = json.loads((folder / "q1.json").read_text(encoding="utf-8"))
        (folder / "q1.json").write_text(json.dumps({**side, **changes}), encoding="utf-8")
    return change


@pytest.mark.parametrize(("breakage", "reason"), [
    (_append_a_byte, "q1.model.json does not match the sha256 in its sidecar"),
    (_sidecar(rubric_fingerprint="0" * 16), "trained for rubric 0000000000000000"),
    (_sidecar(features_version=0), "trained on features version 0"),
    (_sidecar(apply=False, apply_reason="worse than the rules"), "did not beat the rules in cross-validation"),
    (lambda folder: (folder / "q1.json").write_text("{", encoding="utf-8"), "is not valid JSON"),
], ids=["hash", "rubric", "features", "apply", "json"])
def test_a_broken_retrained_model_falls_back_to_the_shipped_one_with_a_reason(
        app, teacher_client, folder, shipped, q1, breakage, reason):
    store_reviewed(app, q1)
    shipped_id = ship_the_real_q1(shipped)
    with app.app_context():
        installed = retrain_from_reviews("q1", always_apply=True)
    assert cal.calibrator_status(q1).calibrator.model_id == installed.model_id
    breakage(folder)
    status = cal.calibrator_status(q1)
    assert (status.origin, status.calibrator.model_id) == ("shipped", shipped_id)
    assert reason in status.passed_over
    assert score(essay("q1_medium.txt", 0), q1).calibration["model"] == shipped_id
    page = teacher_client.get("/teacher/analytics").get_data(as_text=True)
    section = page[page.index('id="q1"'):page.index('id="q2"')]
    assert f"<code>{shipped_id}</code>, shipped with the app" in section
    assert "The calibrator retrained on this installation is not used: " in section and reason in section
