"""Does the mark follow the argument? Perturbations a sound marker resists, scored by the real engine.

    make robustness                          # every kind, the default seed
    make robustness ARGS="--verbose"         # and each failing case: source, level before -> after
    make robustness ARGS="--limit 10 --json" # a quick run, machine-readable

A benchmark, not a test: it prints figures and exits 0 (unless --fail-under is given and some
kind is below it). The originals are the marked essays in ../shared/calibration and
../shared/calibration2 (skipped with a message when absent) and the project's own essay fixtures
(tests/fixtures/q1_*.txt, q2_*.txt). Each kind and what counts as moving the right way:

    keyword_salad  generated nonsense from key terms and connectives (and the salad fixtures), and each
                   Level 3+ essay with the words of every sentence shuffled: level <= 2
    other_question each essay scored against the other question: level <= 2
    shuffled       sentences shuffled across the essay (originals at level >= 3): level drops by >= 2
    shuffled_within  sentences shuffled inside each paragraph, paragraphs kept (a known gap): the same
    truncated      the first 40% of the words (originals with mark >= 5): mark lower
    repeated       body paragraphs repeated once: level and mark never higher
    padding        a paragraph or two on Stalin's rule, the war or the Tsars, or on the years after
                   1964: level never higher
    wrong_dates    every year of a known event shifted (>= 2 dated events): mark lower
    misspelt       8% of the words misspelt: level within one
    surface        CRLF, smart quotes, emoji; or old Mac line ends, Unicode separators, odd spacing
                   (doubled spaces, tabs, zero-width spaces, a BOM), ellipses: same level, and every
                   evidence span is text[start:end]
    layout         the same sentences paragraphed otherwise (paragraphs split in two or merged, the
                   body in one paragraph, no paragraphs at all): level within one
    tagged         a comment that only restates the question ("Therefore this was a key reason for
                   his removal in October 1964") added to the end of each or half of the body
                   paragraphs: level never higher

For shuffled and truncated an original also needs the markers' label (when it has one) to be at
least that level or mark, so that a script the engine over-marks is not asked to fall further
than a sound marker would make it. The generators live in benchmarks/perturb.py.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import perturb  # noqa: E402  (a sibling module, found through the line above)
from perturb import (  # noqa: E402,F401  (re-exported: the tests import the generators from here)
    STRATEGIES,
    keyword_salad,
    layout,
    misspelt,
    padding,
    repeated,
    scrambled,
    shuffled,
    shuffled_within,
    surface,
    tagged,
    truncated,
    wrong_dates,
)

SHARED = Path(os.environ.get("KHRUSHCHEV_SHARED_DIR") or ROOT.parent / "shared")
SETS = ("calibration", "calibration2")
FIXTURES = ROOT / "tests" / "fixtures"
KINDS = ("keyword_salad", "other_question", "shuffled", "shuffled_within", "truncated", "repeated", "padding",
         "wrong_dates", "misspelt", "surface", "layout", "tagged")
OTHER = {"q1": "q2", "q2": "q1"}


@dataclass
class Original:
    """An essay to perturb: where it came from, the question it was set, the markers' label."""

    source: str
    question: str
    text: str
    label_level: int | None = None
    label_mark: int | None = None
    answers: str | None = None  # the question it really answers, when known to differ
    report: object = None  # the engine's report on the unperturbed essay


@dataclass
class Case:
    """One perturbed essay and what it is compared with."""

    kind: str
    source: str
    question: str  # the rubric it is scored against
    strategy: str
    text: str
    original: Original | None = None
    report: object = None
    passed: bool = False
    reason: str = ""


@dataclass
class Results:
    cases: list[Case] = field(default_factory=list)
    originals: int = 0
    notes: list[str] = field(default_factory=list)


# --- originals -----------------------------------------------------------------------------------


def fixture_answers(readme: Path = FIXTURES / "README.md") -> dict[str, str]:
    """file -> the question it really answers, from the fixtures README's table ("answers" column)."""
    out: dict[str, str] = {}
    if not readme.is_file():
        return out
    header: list[str] | None = None
    for line in readme.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if header is None:
            header = [c.lower() for c in cells]
            continue
        if set(cells[0]) <= set("-: ") or "answers" not in header:
            continue
        row = dict(zip(header, cells, strict=False))  # a short row leaves cells out
        if row.get("file") and row.get("answers"):
            out[row["file"]] = row["answers"]
    return out


def load_originals(notes: list[str], shared: Path = SHARED) -> list[Original]:
    """The marked essays of both shared sets (when present) and the project's essay fixtures."""
    out: list[Original] = []
    for name in SETS:
        folder = shared / name
        labels = folder / "labels.tsv"
        if not labels.is_file():
            notes.append(f"{folder} not found: its essays are skipped")
            continue
        with labels.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh, delimiter="\t"):
                path = folder / row["question"] / row["file"]
                if not path.is_file():
                    notes.append(f"{path.name} listed in {name}/labels.tsv is missing")
                    continue
                out.append(Original(f"{name}/{row['question']}/{row['file']}", row["question"],
                                    path.read_text(encoding="utf-8"), int(row["consensus_level"]),
                                    int(row["consensus_mark"])))
    answers = fixture_answers()
    for path in sorted(FIXTURES.glob("q[12]_*.txt")):
        q = path.name[:2]
        out.append(Original(f"fixtures/{path.name}", q, path.read_text(encoding="utf-8"),
                            answers=answers.get(path.name, q)))
    return out


def interleave(originals: list[Original], limit: int | None) -> list[Original]:
    """At most `limit` originals, taken in turn from each source and question so a quick run sees all."""
    if not limit:
        return originals
    groups: dict[tuple[str, str], list[Original]] = {}
    for o in originals:
        groups.setdefault((o.source.split("/")[0], o.question), []).append(o)
    out: list[Original] = []
    while len(out) < min(limit, len(originals)):
        for g in groups.values():
            if g and len(out) < limit:
                out.append(g.pop(0))
    return out


# --- pass rules ----------------------------------------------------------------------------------


def _spans(report) -> list:
    return [sp for part in (*report.criteria, *report.factors) for sp in part.evidence]


def judge(case: Case) -> tuple[bool, str]:
    """Whether the perturbed essay's report moved the way a sound marker's would, and why not."""
    after = case.report
    if after.status != "scored":
        return False, f"not scored: {after.error}"
    before = case.original.report if case.original else None
    lv, mk = after.level, after.mark
    if case.kind in ("keyword_salad", "other_question"):
        return lv <= 2, f"level {lv} > 2"
    lb, mb = before.level, before.mark
    if case.kind in ("shuffled", "shuffled_within"):
        return lv <= lb - 2, f"level {lb} -> {lv}, not down by 2"
    if case.kind in ("truncated", "wrong_dates"):
        return mk < mb, f"mark {mb} -> {mk}, not lower"
    if case.kind == "repeated":
        return lv <= lb and mk <= mb, f"level {lb} -> {lv}, mark {mb} -> {mk}"
    if case.kind in ("padding", "tagged"):
        return lv <= lb, f"level {lb} -> {lv}, higher"
    if case.kind in ("misspelt", "layout"):
        return abs(lv - lb) <= 1, f"level {lb} -> {lv}, moved more than one"
    if case.kind == "surface":
        bad = [sp for sp in _spans(after) if case.text[sp.start:sp.end] != sp.text]
        if bad:
            sp = bad[0]
            return False, f"{len(bad)} spans off the text, e.g. [{sp.start}:{sp.end}] {sp.text!r}"
        return lv == lb, f"level {lb} -> {lv}"
    raise ValueError(case.kind)


# --- building the cases --------------------------------------------------------------------------


def build_cases(originals: list[Original], voc: perturb.Vocabulary, seed: int, variants: int,
                salads: int, kinds: tuple[str, ...]) -> list[Case]:
    """Every perturbation of every original (those that apply), `variants` each.

    Each kind has its own random stream from `seed`, so choosing fewer kinds (--kind) does not
    change the cases of the others.
    """
    cases: list[Case] = []
    key_terms = voc.terms
    rngs = {kind: random.Random(f"{seed}:{kind}") for kind in KINDS}

    def pick(kind: str, i: int) -> str:
        # Cycle through the strategies from a random start, so each is used about equally.
        options = STRATEGIES[kind]
        return options[(offsets.setdefault(kind, rngs[kind].randrange(len(options))) + i) % len(options)]

    offsets: dict[str, int] = {}
    counter: dict[str, int] = {}
    gens: dict[str, Callable[[Original, str], str | None]] = {
        "shuffled": lambda o, s: shuffled(o.text, rngs["shuffled"], strategy=s),
        "shuffled_within": lambda o, s: shuffled_within(o.text, rngs["shuffled_within"], strategy=s),
        "truncated": lambda o, s: truncated(o.text, rngs["truncated"], strategy=s),
        "repeated": lambda o, s: repeated(o.text, rngs["repeated"], strategy=s),
        "padding": lambda o, s: padding(o.text, rngs["padding"], strategy=s),
        "wrong_dates": lambda o, s: wrong_dates(o.text, rngs["wrong_dates"], voc.events, strategy=s),
        "misspelt": lambda o, s: misspelt(o.text, rngs["misspelt"], key_terms=key_terms.get(o.question, []),
                                          strategy=s),
        "surface": lambda o, s: surface(o.text, rngs["surface"], strategy=s),
        "layout": lambda o, s: layout(o.text, rngs["layout"], strategy=s),
        "tagged": lambda o, s: tagged(o.text, rngs["tagged"], o.question, strategy=s),
    }
    if "keyword_salad" in kinds:
        for q in ("q1", "q2"):
            for i in range(salads):
                s = pick("keyword_salad", counter.setdefault("keyword_salad", 0))
                counter["keyword_salad"] += 1
                cases.append(Case("keyword_salad", f"generated/{q}-{i + 1:02d}", q, s,
                                  keyword_salad(voc, q, rngs["keyword_salad"], strategy=s)))
        for path in sorted(FIXTURES.glob("keyword_salad_q[12].txt")):
            cases.append(Case("keyword_salad", f"fixtures/{path.name}", path.stem[-2:], "fixture",
                              path.read_text(encoding="utf-8")))
    for o in originals:
        rep = o.report
        if rep is None or rep.status != "scored":
            continue
        if "keyword_salad" in kinds and rep.level >= 3 and (o.label_level is None or o.label_level >= 3):
            # Salad made from the essay itself: its words shuffled within each sentence.
            cases.append(Case("keyword_salad", o.source, o.question, "scrambled",
                              scrambled(o.text, rngs["keyword_salad"]), o))
        if "other_question" in kinds and o.answers != OTHER[o.question]:
            cases.append(Case("other_question", o.source, OTHER[o.question], f"scored as {OTHER[o.question]}",
                              o.text, o))
        for kind, gen in gens.items():
            if kind not in kinds:
                continue
            if kind in ("shuffled", "shuffled_within") and not (
                    rep.level >= 3 and (o.label_level is None or o.label_level >= 3)):
                continue
            if kind == "truncated" and not (rep.mark >= 5 and (o.label_mark is None or o.label_mark >= 5)):
                continue
            for _v in range(variants):
                s = pick(kind, counter.setdefault(kind, 0))
                counter[kind] += 1
                text = gen(o, s)
                if text is not None:
                    cases.append(Case(kind, o.source, o.question, s, text, o))
    return cases


def score_all(triples: list[tuple[str, str, str]], jobs: int | None) -> list:
    """Reports for (source, question, text) triples, in order, on `jobs` processes (the batch runner's)."""
    from khrushchev_essays.batch import score_items
    from khrushchev_essays.inputs import Item

    return list(score_items([Item(src, q, text) for src, q, text in triples], jobs=jobs))


def run(args: argparse.Namespace) -> Results:
    """Load, perturb, score and judge; the figures are in the returned Results."""
    res = Results()
    shared = Path(args.shared)
    originals = interleave(load_originals(res.notes, shared), args.limit)
    res.originals = len(originals)
    keywords = shared / "reference" / "keywords.json"
    if not keywords.is_file():
        res.notes.append(f"{keywords} not found: vocabulary from the rubrics only")
    voc = perturb.load_vocabulary(None, keywords, [o.text for o in originals])
    for o, rep in zip(originals, score_all([(o.source, o.question, o.text) for o in originals], 1), strict=True):
        o.report = rep
        if rep.status != "scored":
            res.notes.append(f"{o.source}: not scored ({rep.error}); left out")
    salads = args.salads if args.salads is not None else (min(12, max(2, args.limit // 2)) if args.limit else 12)
    kinds = tuple(args.kind) if args.kind else KINDS
    cases = build_cases(originals, voc, args.seed, args.variants, salads, kinds)
    for case, rep in zip(cases, score_all([(c.source, c.question, c.text) for c in cases], args.jobs), strict=True):
        case.report = rep
        case.passed, why = judge(case)
        case.reason = "" if case.passed else why
    res.cases = cases
    return res


# --- output --------------------------------------------------------------------------------------


def summarise(res: Results) -> dict:
    """Per kind: passed, total, pct and the failing cases; plus the minimum pass rate."""
    kinds: dict[str, dict] = {}
    for c in res.cases:
        k = kinds.setdefault(c.kind, {"passed": 0, "total": 0, "pct": None, "failures": []})
        k["total"] += 1
        k["passed"] += c.passed
        lv = c.report.level if c.report.status == "scored" else "error"
        k.setdefault("levels_after", {}).setdefault(str(lv), 0)
        k["levels_after"][str(lv)] += 1
        if not c.passed:
            before = c.original.report if c.original else None
            k["failures"].append({
                "source": c.source, "question": c.question, "strategy": c.strategy,
                "level_before": before.level if before else None, "mark_before": before.mark if before else None,
                "level_after": c.report.level, "mark_after": c.report.mark,
                "flags_after": list(c.report.flags), "reason": c.reason})
    for k in kinds.values():
        k["levels_after"] = dict(sorted(k["levels_after"].items()))
        k["pct"] = round(100.0 * k["passed"] / k["total"], 1) if k["total"] else None
    rated = {name: k["pct"] for name, k in kinds.items() if k["pct"] is not None}
    worst = min(rated, key=rated.get) if rated else None
    return {"kinds": {name: kinds[name] for name in KINDS if name in kinds},
            "min_pct": rated[worst] if worst else None, "min_kind": worst}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1956, help="random seed for every generator (default 1956)")
    ap.add_argument("--shared", default=str(SHARED),
                    help="the shared folder with calibration/, calibration2/ and reference/ (default ../shared, "
                         "or $KHRUSHCHEV_SHARED_DIR)")
    ap.add_argument("--limit", type=int, default=None, help="use at most N originals (taken from every set)")
    ap.add_argument("--variants", type=int, default=3, help="perturbations of each kind per original (default 3)")
    ap.add_argument("--salads", type=int, default=None, help="generated keyword salads per question (default 12)")
    ap.add_argument("--jobs", type=int, default=None,
                    help="scoring processes (default: two when a second core is idle, as `grade` does)")
    ap.add_argument("--kind", action="append", choices=KINDS, help="only this kind (repeatable)")
    ap.add_argument("--verbose", "-v", action="store_true", help="list every failing case")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--fail-under", type=float, default=None, metavar="PCT",
                    help="exit 1 when any kind passes less than PCT per cent")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    res = run(args)
    seconds = time.perf_counter() - t0
    summary = summarise(res)
    summary.update(seed=args.seed, originals=res.originals, cases=len(res.cases),
                   seconds=round(seconds, 1), notes=res.notes)
    if args.json:
        if not args.verbose:
            for k in summary["kinds"].values():
                k["failures"] = k["failures"][:20]
        print(json.dumps(summary, indent=2))
    else:
        for note in res.notes:
            print(f"note: {note}")
        print(f"{res.originals} originals, {len(res.cases)} perturbed essays, seed {args.seed}, {seconds:.1f} s")
        width = max(len(k) for k in KINDS)
        for name, k in summary["kinds"].items():
            pct = f"{k['pct']:.1f}%" if k["pct"] is not None else "-"
            print(f"{name:<{width}}  {k['passed']:>4}/{k['total']:<4}  {pct:>6}")
            if args.verbose:
                print("    levels after: " + ", ".join(f"L{lv} {n}" for lv, n in k["levels_after"].items()))
                for f in k["failures"]:
                    lb = "-" if f["level_before"] is None else f["level_before"]
                    mb = "-" if f["mark_before"] is None else f["mark_before"]
                    print(f"    {f['source']} [{f['strategy']}] level {lb} -> {f['level_after']}, "
                          f"mark {mb} -> {f['mark_after']}: {f['reason']}"
                          + (f" (flags: {', '.join(f['flags_after'])})" if f["flags_after"] else ""))
        if summary["min_kind"]:
            print(f"minimum pass rate: {summary['min_pct']:.1f}% ({summary['min_kind']})")
    if args.fail_under is not None and summary["min_pct"] is not None and summary["min_pct"] < args.fail_under:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
