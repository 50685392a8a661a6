"""Fit the phrasing model (scoring/phrasing.py): counts of runs of word kinds in real essays, and
in word chains made from them.

Originals are the marked practice essays (../shared/calibration and ../shared/calibration2, when
present), the project's own fixtures and the seed articles (../shared/seeds). The counts are
plain numbers, no text. The second table counts word chains of order one (each word drawn only
for following the one before it) made, seeded, from the same sentences. The two lines (gain and
ratio) are set by cross-validation, twice over with different folds: the model is fitted on four
fifths of the originals and each essay of the other fifth is judged as written and with 8% of
its words misspelt (three versions); each line is the lowest of those figures less a margin.
Text generated from the held-out essays' own sentences (word chains of order one and two, runs of
three and four words cut from random sentences, sentences cut and joined at random points) is
judged at those lines and reported, as a check, not learnt from.

    .venv/bin/python scripts/train_phrasing_model.py            # fit, report, write
    .venv/bin/python scripts/train_phrasing_model.py --dry-run  # fit and report only
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from marked_essays import originals  # noqa: E402
sys.path.insert(0, str(ROOT / "benchmarks"))

import perturb  # noqa: E402

from khrushchev_essays.scoring.engine import default_engine  # noqa: E402
from khrushchev_essays.scoring.phrasing import Counts, PhrasingModel, kinds, prose, read_phrasing  # noqa: E402

FOLDS = 5
MARGIN = 0.05
REPEATS = 2  # cross-validations, each with its own folds
OUT = ROOT / "khrushchev_essays" / "models" / "phrasing_model.json"


def sentences(engine, text: str, q: str) -> list[tuple[int, str]]:
    """The engine's own sentences that could carry an argument, in lines of prose (index, text)."""
    analysis, _arg, _f = engine.analyse_text(text, q)
    return prose(analysis.text, [(s.index, s.start, s.end) for s in analysis.sentences if s.real])


def chain(pool: list[str], order: int):
    table: dict[tuple, list[str]] = {}
    for t in pool:
        w = ["<s>"] * order + t.split() + ["</s>"]
        for i in range(len(w) - order):
            table.setdefault(tuple(w[i:i + order]), []).append(w[i + order])

    def make(rng: random.Random) -> str:
        out: list[str] = []
        state = ("<s>",) * order
        while len(out) < 40:
            w = rng.choice(table.get(state, ["</s>"]))
            if w == "</s>":
                if len(out) >= 6:
                    break
                out, state = [], ("<s>",) * order
                continue
            out.append(w)
            state = state[1:] + (w,)
        s = " ".join(out)
        return s if s.endswith((".", "!", "?")) else s.rstrip(",;:") + "."
    return make


def runs(pool: list[str], n: int):
    def make(rng: random.Random) -> str:
        out: list[str] = []
        for _ in range(200):
            w = rng.choice(pool).split()
            if len(w) > n:
                i = rng.randrange(0, len(w) - n)
                out += w[i:i + n]
            if len(out) >= rng.randint(12, 30):
                break
        s = " ".join(out).rstrip(".,;:")
        return s[:1].upper() + s[1:] + "."
    return make


def cut_and_join(pool: list[str]):
    def make(rng: random.Random) -> str:
        a, b = (p.split() for p in rng.sample(pool, 2))
        return " ".join(a[:rng.randint(2, max(2, len(a) - 2))] + b[rng.randint(1, max(1, len(b) - 2)):])
    return make


def essay(rng: random.Random, make) -> str:
    return "\n\n".join(" ".join(make(rng) for _ in range(rng.randint(4, 6))) for _ in range(rng.randint(5, 7)))


def pseudo_essays(essays: list[list[str]], rng: random.Random, per: int = 25) -> list[list[list[str]]]:
    """Word chains of order one over all the essays' sentences, as pseudo-essays of `per`
    sentences (twice as many as there are essays, so that the two-essay rule applies alike)."""
    make = chain([t for e in essays for t in e], 1)
    return [[kinds(make(rng)) for _ in range(per)] for _ in range(2 * len(essays))]


def fit(essays: list[list[str]], rng: random.Random, gain_line: float = -math.inf,
        ratio_line: float = -math.inf) -> PhrasingModel:
    return PhrasingModel(Counts.fit([[kinds(t) for t in e] for e in essays]), Counts.fit(pseudo_essays(essays, rng)),
                         gain_line, ratio_line)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--seed", type=int, default=19)
    ap.add_argument("--dry-run", action="store_true")
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    engine = default_engine()
    origs = originals(args.shared)
    seeds = [p.read_text(encoding="utf-8") for p in sorted((args.shared / "seeds").glob("*.txt"))]
    seed_essays = [[t for _i, t in sentences(engine, text, "q1")] for text in seeds]
    sents = {name: [t for _i, t in sentences(engine, text, q)] for name, q, text in origs}
    genuine: list[tuple[float, float, str]] = []
    made: dict[str, list[tuple[float, float]]] = {}
    for _repeat in range(REPEATS):
        order = list(range(len(origs)))
        rng.shuffle(order)
        for f in range(FOLDS):
            held = set(order[f::FOLDS])
            model = fit(seed_essays + [sents[name] for i, (name, _q, _t) in enumerate(origs) if i not in held], rng)
            for i in sorted(held):
                name, q, text = origs[i]
                for version in [text] + [perturb.misspelt(text, rng) for _ in range(3)]:
                    p = read_phrasing(sentences(engine, version, q), model)
                    if p.mean_gain is not None:
                        genuine.append((p.mean_gain, p.mean_ratio, name))
            pool = [t for i in held for t in sents[origs[i][0]]]
            for kind, make in (("chain1", chain(pool, 1)), ("chain2", chain(pool, 2)), ("runs3", runs(pool, 3)),
                               ("runs4", runs(pool, 4)), ("cut_and_join", cut_and_join(pool))):
                for _ in range(8):
                    p = read_phrasing(sentences(engine, essay(rng, make), "q1"), model)
                    if p.mean_gain is not None:
                        made.setdefault(kind, []).append((p.mean_gain, p.mean_ratio))
    by_gain = sorted(genuine)
    by_ratio = sorted(genuine, key=lambda g: g[1])
    gain_line = round(by_gain[0][0] - MARGIN, 4)
    ratio_line = round(by_ratio[0][1] - MARGIN, 4)
    print("lowest held-out originals by gain:", [(round(g, 3), n) for g, _r, n in by_gain[:4]])
    print("lowest held-out originals by ratio:", [(round(r, 3), n) for _g, r, n in by_ratio[:4]])
    print(f"gain line {gain_line}, ratio line {ratio_line}")
    report = {}
    for k, v in sorted(made.items()):
        report[k] = round(sum(1 for g, r in v if g < gain_line or r < ratio_line) / len(v), 3)
        print(f"  {k:13s} caught {report[k]:.2f}  (median gain {sorted(g for g, _r in v)[len(v) // 2]:.3f}, "
              f"ratio {sorted(r for _g, r in v)[len(v) // 2]:.3f})")
    full = fit(seed_essays + [sents[name] for name, _q, _t in origs], random.Random(args.seed), gain_line, ratio_line)
    out = {"trained_on": len(origs), "seed": args.seed, "margin": MARGIN,
           "cross_validated": {"lowest_original_gain": round(by_gain[0][0], 4),
                               "lowest_original_ratio": round(by_ratio[0][1], 4), "caught": report},
           **full.to_json()}
    if not args.dry_run:
        OUT.write_text(json.dumps(out, separators=(",", ":")) + "\n", encoding="utf-8")
        print(f"wrote {OUT} ({OUT.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
