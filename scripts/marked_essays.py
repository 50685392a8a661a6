"""The essays the training scripts learn from: the marked practice essays beside the repository
(../shared/calibration and ../shared/calibration2, each skipped with a message when absent) and
the project's own essay fixtures."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETS = ("calibration", "calibration2")


def originals(shared: Path | None = None, min_level: int = 0) -> list[tuple[str, str, str]]:
    """(name, question, text) of every essay to learn from; marked essays only from `min_level`."""
    shared = shared if shared is not None else ROOT.parent / "shared"
    out = []
    for name in SETS:
        labels = shared / name / "labels.tsv"
        if not labels.is_file():
            print(f"{labels} not found: skipping that set", file=sys.stderr)
            continue
        with labels.open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh, delimiter="\t"):
                if int(row["consensus_level"]) >= min_level:
                    path = shared / name / row["question"] / row["file"]
                    out.append((f"{name}/{row['question']}/{row['file']}", row["question"], path.read_text(encoding="utf-8")))
    for path in sorted((ROOT / "tests" / "fixtures").glob("q[12]_*.txt")):
        out.append((f"fixtures/{path.name}", path.name[:2], path.read_text(encoding="utf-8")))
    return out


def levels(shared: Path | None = None) -> dict[str, int]:
    """name (as `originals` gives it) -> the markers' consensus level, for the marked essays."""
    shared = shared if shared is not None else ROOT.parent / "shared"
    out = {}
    for name in SETS:
        labels = shared / name / "labels.tsv"
        if labels.is_file():
            with labels.open(encoding="utf-8") as fh:
                for row in csv.DictReader(fh, delimiter="\t"):
                    out[f"{name}/{row['question']}/{row['file']}"] = int(row["consensus_level"])
    return out


def write_model(name: str, payload: dict, indent: int = 2) -> Path:
    """Write a fitted model as plain JSON to the source tree's package data
    (khrushchev_essays/models/NAME), not wherever the package happens to be imported from."""
    import json

    target = ROOT / "khrushchev_essays" / "models" / name
    target.write_text(json.dumps(payload, indent=indent) + "\n", encoding="utf-8")
    print(f"wrote {target.relative_to(ROOT)}")
    return target
