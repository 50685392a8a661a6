"""Rubric validation: every problem of a broken rubric reported at once, each with its field path;
unreadable files refused with a clear reason; `khrushchev-essays rubric check` on good and bad files."""

from __future__ import annotations

import copy
import re
import tomllib

import pytest
from click.testing import CliRunner

from khrushchev_essays.cli import main
from khrushchev_essays.scoring import RubricError, load_rubric_file, parse_rubric
from khrushchev_essays.scoring.rubric import RUBRICS_DIR, rubric_paths


@pytest.fixture()
def q1_data() -> dict:
    return copy.deepcopy(tomllib.loads((RUBRICS_DIR / "q1_transformation.toml").read_text(encoding="utf-8")))


def problems_of(data: dict) -> list[str]:
    with pytest.raises(RubricError) as exc:
        parse_rubric(data, "broken.toml")
    assert exc.value.problems
    assert all(p.startswith("[broken.toml] ") for p in exc.value.problems), exc.value.problems
    return exc.value.problems


def mentions(problems: list[str], *patterns: str) -> bool:
    """Some single problem matches all the patterns (regexes, case-insensitive)."""
    return any(all(re.search(p, prob, re.I) for p in patterns) for prob in problems)


def test_the_real_rubric_parses(q1_data):
    assert parse_rubric(q1_data).id == "q1"


def test_weights_not_summing_to_one_is_reported_against_criteria(q1_data):
    q1_data["criteria"][0]["weight"] = 0.5
    probs = problems_of(q1_data)
    assert mentions(probs, r"criteria", r"weight", r"1\.2")


def test_level_gap_is_reported_against_levels(q1_data):
    q1_data["levels"][2]["min_mark"] = 7
    probs = problems_of(q1_data)
    assert mentions(probs, r"levels", r"gap"), probs


def test_invalid_factor_id_is_reported_with_its_path(q1_data):
    q1_data["factors"][1]["id"] = "Bad-ID"
    probs = problems_of(q1_data)
    assert mentions(probs, r"factors\[1\]\.id"), probs


def test_every_problem_is_reported_in_one_error(q1_data):
    """Weights that do not sum to 1, a factor with an invalid id and a level gap: all three in one
    RubricError, each with the field path where it is (not only the first kind pydantic stops at)."""
    q1_data["criteria"][0]["weight"] = 0.5
    q1_data["factors"][1]["id"] = "Bad-ID"
    q1_data["levels"][2]["min_mark"] = 7
    probs = problems_of(q1_data)
    assert mentions(probs, r"factors\[1\]\.id"), probs
    assert mentions(probs, r"criteria", r"weight"), probs
    assert mentions(probs, r"levels", r"gap"), probs


def test_cross_field_problems_each_have_their_own_path(q1_data):
    """Two whole-rubric problems are two entries, each naming its field, not one '(top level)' line."""
    q1_data["criteria"][0]["weight"] = 0.5
    q1_data["levels"][2]["min_mark"] = 7
    probs = problems_of(q1_data)
    assert len(probs) >= 2, probs
    assert mentions(probs, r"\] criteria\b", r"weight"), probs
    assert mentions(probs, r"\] levels\b", r"gap"), probs


def test_many_field_problems_are_all_listed(q1_data):
    q1_data["factors"][0]["id"] = "1st"
    q1_data["factors"][2]["phrases"] = ["only one"]
    q1_data["events"][0]["years"] = [1812]
    q1_data["levels"][1]["label"] = ""
    del q1_data["markers"]["causal"]
    q1_data["unknown_key"] = True
    probs = problems_of(q1_data)
    for path in (r"factors\[0\]\.id", r"factors\[2\]\.phrases", r"events\[0\]\.years", r"levels\[1\]\.label",
                 r"markers\.causal", r"unknown_key"):
        assert mentions(probs, path), (path, probs)
    assert mentions(probs, r"events\[0\]\.years", "1812")


def test_missing_file_is_a_clear_rubric_error(tmp_path):
    path = tmp_path / "nowhere.toml"
    with pytest.raises(RubricError) as exc:
        load_rubric_file(path)
    assert len(exc.value.problems) == 1
    assert str(path) in exc.value.problems[0] and "cannot be read" in exc.value.problems[0]


def test_non_utf8_file_is_a_clear_rubric_error(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes('id = "q1"\ntitle = "R\xe9formes"\n'.encode("latin-1"))
    with pytest.raises(RubricError) as exc:
        load_rubric_file(path)
    assert str(path) in str(exc.value) and "UTF-8" in str(exc.value)


def test_invalid_toml_is_a_clear_rubric_error(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('id = "q1"\ntitle = \n[[levels]\n', encoding="utf-8")
    with pytest.raises(RubricError) as exc:
        load_rubric_file(path)
    assert str(path) in str(exc.value) and "not valid TOML" in str(exc.value)
    assert "line" in str(exc.value)


def test_file_problems_name_the_file(tmp_path, q1_data):
    text = (RUBRICS_DIR / "q1_transformation.toml").read_text(encoding="utf-8")
    path = tmp_path / "weights.toml"
    path.write_text(text.replace("weight = 0.26", "weight = 0.50", 1), encoding="utf-8")
    with pytest.raises(RubricError) as exc:
        load_rubric_file(path)
    assert all(p.startswith(f"[{path}]") for p in exc.value.problems)


def test_a_rubric_file_is_read_each_time_and_parsed_again_when_it_changes(tmp_path):
    """load_rubric_file parses the same bytes once (the CLI and the engine both load the rubrics),
    but reads the file every time: an edited file is the edited rubric, a broken one an error."""
    text = (RUBRICS_DIR / "q1_transformation.toml").read_text(encoding="utf-8")
    path = tmp_path / "q1.toml"
    path.write_text(text, encoding="utf-8")
    first = load_rubric_file(path)
    assert load_rubric_file(path) is first
    assert load_rubric_file(path) == parse_rubric(tomllib.loads(text), str(path))
    path.write_text(text.replace('title = "', 'title = "Edited: ', 1), encoding="utf-8")
    edited = load_rubric_file(path)
    assert edited.title.startswith("Edited: ") and not first.title.startswith("Edited: ")
    path.write_text(text.replace("weight = 0.26", "weight = 0.50", 1), encoding="utf-8")
    for _ in range(2):
        with pytest.raises(RubricError):
            load_rubric_file(path)
    path.write_text(text, encoding="utf-8")
    assert load_rubric_file(path) is first


# --- the CLI ------------------------------------------------------------------------------------
def test_rubric_check_passes_the_real_files():
    result = CliRunner().invoke(main, ["rubric", "check"])
    assert result.exit_code == 0, result.output
    for path in rubric_paths():
        assert f"{path}: ok" in result.output
    assert "q1" in result.output and "q2" in result.output
    assert "named factor: De-Stalinisation" in result.output
    assert "max mark 25" in result.output


def test_rubric_check_fails_on_a_broken_file_listing_its_problems(tmp_path):
    text = (RUBRICS_DIR / "q1_transformation.toml").read_text(encoding="utf-8")
    broken = tmp_path / "broken.toml"
    broken.write_text(text.replace('id = "terror_thaw"', 'id = "Terror-Thaw"').replace("min_mark = 11", "min_mark = 12"),
                      encoding="utf-8")
    good = RUBRICS_DIR / "q2_fall_from_power.toml"
    result = CliRunner().invoke(main, ["rubric", "check", str(broken), str(good)])
    assert result.exit_code == 1, result.output
    out = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert f"{broken}: " in out and "problem" in out
    assert "factors[1].id" in out
    assert f"{good}: ok" in out


def test_rubric_check_fails_on_an_unreadable_file(tmp_path):
    missing = tmp_path / "missing.toml"
    result = CliRunner().invoke(main, ["rubric", "check", str(missing)])
    assert result.exit_code == 1
    assert "cannot be read" in result.output
