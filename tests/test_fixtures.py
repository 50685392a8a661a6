"""The essay fixtures are what tests/fixtures/README.md says they are: present, UTF-8, in range."""

import re
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|")


def readme_rows() -> list[dict[str, str]]:
    """The rows of the README's fixture table, as {column: cell}."""
    lines = [ln for ln in (FIXTURES / "README.md").read_text(encoding="utf-8").splitlines() if ln.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = []
    for line in lines[2:]:
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        rows.append(dict(zip(header, cells, strict=True)))
    return rows


ROWS = readme_rows()


def test_the_readme_lists_every_fixture_once():
    listed = [r["file"] for r in ROWS]
    assert len(listed) == len(set(listed)), "a fixture is listed twice"
    on_disk = sorted(p.name for p in FIXTURES.glob("*.txt"))
    assert sorted(listed) == on_disk


@pytest.mark.parametrize("row", ROWS, ids=[r["file"] for r in ROWS])
def test_fixture_exists_is_utf8_and_in_its_word_range(row):
    path = FIXTURES / row["file"]
    assert path.is_file(), f"{row['file']} is listed in README.md but missing"
    text = path.read_bytes().decode("utf-8")  # raises on anything that is not UTF-8
    lo, hi = (int(x) for x in row["words"].split("-"))
    assert lo <= len(text.split()) <= hi, (row["file"], len(text.split()), row["words"])
    assert row["set for"] in ("q1", "q2")
    assert row["level"].isdigit() and 0 <= int(row["level"]) <= 5
    assert row["why"], f"{row['file']} has no reason for its level"


@pytest.mark.parametrize("name", ["q1_own_words_strong.txt", "q2_own_words_strong.txt"])
def test_own_words_essays_use_no_stock_phrases(name):
    # The point of these two fixtures: a Level-5 argument without the formulae a marker might count.
    text = (FIXTURES / name).read_text(encoding="utf-8").lower()
    for phrase in ("in conclusion", "to a large extent", "most significant"):
        assert phrase not in text, phrase
    assert text.count("however") <= 1
