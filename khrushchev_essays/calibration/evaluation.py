"""How closely the engine agrees with examiners' marks on a labelled set of essays.

`evaluate(paths, labels_file)` scores every essay in a labels TSV (columns question, file,
consensus_level, consensus_mark; others ignored) with its labelled question and returns the
figures the mark scheme cares about: quadratic weighted kappa of levels, exact and adjacent
(within one level) agreement, the mean absolute error of marks, the level confusion matrix,
overall and per question, and the essays that are two or more levels out.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..batch import score_items
from ..inputs import Item, ReadError, read_text_file

LEVELS = list(range(6))
REQUIRED_COLUMNS = ("question", "file", "consensus_level", "consensus_mark")


class EvaluationError(ValueError):
    """The labels file or the essays it names cannot be used; `problems` lists each one."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def read_labels(labels_file: str | Path) -> list[dict[str, Any]]:
    """The rows of a labels TSV, with levels and marks as ints; raise EvaluationError."""
    path = Path(labels_file)
    try:
        text = read_text_file(path)
    except ReadError as exc:
        raise EvaluationError([f"labels file {path}: {exc}"]) from None
    reader = csv.DictReader(text.splitlines(), delimiter="\t")
    missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise EvaluationError([f"labels file {path}: missing column(s) {', '.join(missing)} (a tab-separated header row is needed)"])
    rows, problems = [], []
    for line, row in enumerate(reader, start=2):
        try:
            label = {
                "question": row["question"].strip(), "file": row["file"].strip(),
                "level": int(row["consensus_level"]), "mark": int(row["consensus_mark"]),
            }
        except (TypeError, ValueError, AttributeError):
            problems.append(f"labels file {path} line {line}: needs a question, a file and whole-number consensus_level/consensus_mark")
            continue
        if label["level"] not in LEVELS:  # the confusion matrix and kappa would drop it silently
            problems.append(f"labels file {path} line {line}: consensus_level {label['level']} is not a level 0-5")
            continue
        rows.append(label)
    if problems:
        raise EvaluationError(problems)
    if not rows:
        raise EvaluationError([f"labels file {path}: no labelled essays"])
    return rows


def find_essay(paths: Sequence[str | Path], question: str, name: str) -> Path | None:
    """Where a labelled essay is: the first PATH/<question>/<file> or PATH/<file> that exists."""
    for base in map(Path, paths):
        for candidate in (base / question / name, base / name):
            if candidate.is_file():
                return candidate
    return None


def labelled_items(paths: Sequence[str | Path], labels_file: str | Path) -> tuple[list[dict[str, Any]], list[Item]]:
    """The labels and, in the same order, an Item per labelled essay with its labelled question.

    An essay that cannot be read is an Item with `error` set; one that cannot be found raises
    EvaluationError listing every missing essay.
    """
    labels = read_labels(labels_file)
    located = [(row, find_essay(paths, row["question"], row["file"])) for row in labels]
    missing = [f"{row['question']}/{row['file']}" for row, where in located if where is None]
    if missing:
        searched = ", ".join(str(p) for p in paths)
        raise EvaluationError([f"essay not found in {searched}: {m} (looked for PATH/<question>/<file> and PATH/<file>)" for m in missing])
    items = []
    for row, where in located:
        try:
            items.append(Item(str(where), row["question"], read_text_file(where)))
        except ReadError as exc:
            items.append(Item(str(where), row["question"], error=f"{where}: {exc}"))
    return labels, items


def _nan_to_none(x: float) -> float | None:
    return None if math.isnan(x) else round(float(x), 4)


def agreement(true_levels: list[int], pred_levels: list[int], true_marks: list[int], pred_marks: list[int]) -> dict[str, Any]:
    """QWK, exact and adjacent level agreement, mark MAE and the confusion matrix for one group."""
    from sklearn.metrics import cohen_kappa_score, confusion_matrix

    n = len(true_levels)
    if n == 0:
        return {"n": 0, "qwk": None, "exact": None, "adjacent": None, "mark_mae": None,
                "confusion": [[0] * len(LEVELS) for _ in LEVELS]}
    diffs = [abs(t - p) for t, p in zip(true_levels, pred_levels)]
    # Kappa is undefined (NaN, with a warning) when both raters use one level only: shown as n/a.
    import warnings

    from sklearn.exceptions import UndefinedMetricWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        qwk = cohen_kappa_score(true_levels, pred_levels, weights="quadratic", labels=LEVELS)
    return {
        "n": n,
        "qwk": _nan_to_none(qwk),
        "exact": round(sum(d == 0 for d in diffs) / n, 4),
        "adjacent": round(sum(d <= 1 for d in diffs) / n, 4),
        "mark_mae": round(sum(abs(t - p) for t, p in zip(true_marks, pred_marks)) / n, 3),
        "confusion": confusion_matrix(true_levels, pred_levels, labels=LEVELS).tolist(),
    }


def evaluate(paths: Sequence[str | Path], labels_file: str | Path, jobs: int | None = None) -> dict[str, Any]:
    """Score each labelled essay with its labelled question and compare with the labels.

    Returns {"labels", "n", "failed": [...], "overall": {...}, "by_question": {q: {...}},
    "off_by_2": [...], "essays": [...]}, where each group holds n, qwk, exact, adjacent,
    mark_mae and confusion (rows: labelled level 0-5, columns: predicted level). Raises
    EvaluationError when the labels file or any essay it names cannot be found.
    """
    labels, items = labelled_items(paths, labels_file)
    essays, failed = [], []
    for row, report in zip(labels, score_items(items, jobs=jobs)):
        if report.status != "scored":
            failed.append({"question": row["question"], "file": row["file"], "error": report.error})
            continue
        essays.append({
            "question": row["question"], "file": row["file"], "level": row["level"], "mark": row["mark"],
            "predicted_level": report.level, "predicted_mark": report.mark, "flags": list(report.flags),
        })

    def group(rows: list[dict[str, Any]]) -> dict[str, Any]:
        return agreement([e["level"] for e in rows], [e["predicted_level"] for e in rows],
                         [e["mark"] for e in rows], [e["predicted_mark"] for e in rows])

    questions = sorted({e["question"] for e in labels})
    return {
        "labels": str(labels_file),
        "n": len(labels),
        "failed": failed,
        "overall": group(essays),
        "by_question": {q: group([e for e in essays if e["question"] == q]) for q in questions},
        "off_by_2": [e for e in essays if abs(e["level"] - e["predicted_level"]) >= 2],
        "essays": essays,
    }


def _fmt(x: float | None, spec: str) -> str:
    return "n/a" if x is None else format(x, spec)


def format_evaluation(result: dict[str, Any]) -> str:
    """The figures of `evaluate` as a plain-text report for a terminal."""
    lines = [f"{result['n']} labelled essays ({result['labels']}); {len(result['failed'])} could not be scored", ""]
    lines.append(f"{'':10}{'n':>4}{'QWK':>8}{'exact':>8}{'adjacent':>10}{'mark MAE':>10}")
    groups = {"overall": result["overall"], **result["by_question"]}
    for name, g in groups.items():
        lines.append(
            f"{name:10}{g['n']:>4}{_fmt(g['qwk'], '.3f'):>8}{_fmt(g['exact'], '.3f'):>8}"
            f"{_fmt(g['adjacent'], '.3f'):>10}{_fmt(g['mark_mae'], '.2f'):>10}"
        )
    for name, g in groups.items():
        lines += ["", f"Level confusion, {name} (rows: labelled level, columns: predicted level)"]
        lines.append("      " + "".join(f"{lv:>4}" for lv in LEVELS))
        lines += [f"  L{lv}  " + "".join(f"{c:>4}" for c in row) for lv, row in zip(LEVELS, g["confusion"])]
    off = result["off_by_2"]
    lines += ["", f"Off by 2+ levels: {len(off)}"]
    lines += [
        f"  {e['question']}/{e['file']}: labelled L{e['level']} ({e['mark']}), predicted L{e['predicted_level']} "
        f"({e['predicted_mark']})" + (f"  flags: {', '.join(e['flags'])}" if e["flags"] else "")
        for e in off
    ]
    if result["failed"]:
        lines += ["", "Could not be scored:"] + [f"  {f['error']}" for f in result["failed"]]
    return "\n".join(lines)


__all__ = ["LEVELS", "REQUIRED_COLUMNS", "EvaluationError", "agreement", "evaluate", "find_essay", "format_evaluation",
           "labelled_items", "read_labels"]
