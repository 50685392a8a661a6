"""Fit the paragraph order model (scoring/paragraph_order.py): a writer's order of the sentences
inside a paragraph against the other orders the same sentences could have had.

Originals are the marked practice essays (../shared/calibration and ../shared/calibration2, when
present) and the project's own fixtures. For every paragraph of three or more sentences, the
features of the order as written minus those of PERMUTATIONS random reorderings are the rows of
a logistic regression without intercept (each row also the other way round, labelled 0): a
ranking model, whose score is higher for the order a writer would give. Each essay's sentences
as one run (role "essay") are fitted the same way, and reported: the share of its orders each
held-out essay beats, as written and shuffled.

Cross-validated with each essay's paragraphs in one fold: the evidence of every held-out essay as
written, and of SHUFFLES shuffles of its sentences inside each paragraph, both judged by a model
fitted without that essay, and of each held-out essay with its paragraphs of four or more
sentences cut in two (the writer's order, paragraphed more often). The report shows how many
genuine essays (Level 3 and above) fall under the rubric's lines and how many shuffles do; the weights are written as plain JSON to
khrushchev_essays/models/paragraph_order.json (package data).

    .venv/bin/python scripts/train_paragraph_order.py            # fit, report, write
    .venv/bin/python scripts/train_paragraph_order.py --dry-run  # fit and report only
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from marked_essays import levels, originals, write_model  # noqa: E402

UNFINISHED = (0.4, 0.6, 0.8)  # the shares of an essay's sentences its unfinished runs keep
PERMUTATIONS = 100  # reorderings each paragraph's written order is compared with, for fitting
SHUFFLES = 4  # shuffled versions of each held-out essay, for the report
C = 0.3  # the regression's inverse regularisation (on standardised differences)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dry-run", action="store_true")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--show", action="store_true", help="print every genuine essay's cross-validated evidence")
    args = ap.parse_args()

    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    from khrushchev_essays.scoring import load_rubric
    from khrushchev_essays.scoring.claims import (_openings, _shared_words, by_position, flat_layout, paragraph_roles,
                                                   paragraph_sentences, paragraph_units)
    from khrushchev_essays.scoring.engine import default_engine
    from khrushchev_essays.scoring.paragraph_order import FEATURES, MODEL_FILE, ParagraphOrderModel, sequence_features
    from khrushchev_essays.scoring.rubric import ArgumentRules

    rng = np.random.default_rng(args.seed)
    engine = default_engine()
    essays = originals()
    marked = levels()
    if len(essays) < 20:
        print("too few essays to fit the paragraph order model", file=sys.stderr)
        return 1
    real_of = {}  # id of an essay's paragraph groups -> its sentences (for paragraph_units)
    data = []  # per essay: (name, level or None, Sentences, paragraphs, flat)
    for name, q, text in essays:
        a, arg, _f = engine.analyse_text(text, load_rubric(q))
        # The sentences the order stage reads (before an other-question essay's paragraphs off the
        # question are set aside).
        real = [s for s in a.sentences if s.real and arg.excluded.get(s.index, "other_question") == "other_question"]
        if len(real) < 8:
            continue
        sents = paragraph_sentences(real, _shared_words(a), _openings(a, real, arg.focus))
        paras = [u for u in paragraph_roles(real) if len(u[1]) >= 3]
        groups = list(by_position(real).values())
        real_of[id(groups)] = real
        data.append((name, marked.get(name), sents, paras, flat_layout(a, real), groups))

    def split(groups):
        """The paragraphs of four or more sentences cut in two at a random sentence (a writer who
        paragraphs more often): the order is the writer's, the paragraphs are not."""
        cut = []
        for members in groups:
            if len(members) >= 4:
                k = int(rng.integers(2, len(members) - 1))
                cut += [members[:k], members[k:]]
            else:
                cut.append(members)
        return [u for u in paragraph_units(real_of[id(groups)], cut) if len(u[1]) >= 3]

    def whole(groups):
        """The essay's sentences as one run (role "essay"): how an essay without paragraphs is read."""
        return [(0, [k for g in groups for k in g], "essay")]

    def unfinished(groups):
        """The essay's first 40%, 60% and 80% of sentences as runs: a writer who ran out of time is
        still writing in order, but without the conclusion the model's shape leads to, so some
        read as shuffled (reported, not learnt from: learning them cost a fifth of the shuffles
        caught; claims.py judges the run only of an essay that has an ending)."""
        members = [k for g in groups for k in g]
        return [(0, members[:max(3, round(len(members) * f))], "essay") for f in UNFINISHED]

    def rows(items) -> np.ndarray:
        out = []
        for _name, _level, sents, paras, _flat, groups in items:
            for _p, members, role in paras + whole(groups):
                n = len(members)
                written = sequence_features(sents, members, list(range(n)), role)
                for _ in range(PERMUTATIONS):
                    order = list(rng.permutation(n))
                    if order != list(range(n)):
                        out.append(written - sequence_features(sents, members, order, role))
        return np.array(out)

    def fit(items) -> ParagraphOrderModel:
        x = rows(items)
        sd = x.std(axis=0) + 1e-6
        lr = LogisticRegression(C=C, fit_intercept=False, max_iter=5000)
        lr.fit(np.vstack([x / sd, -x / sd]), np.r_[np.ones(len(x)), np.zeros(len(x))])
        return ParagraphOrderModel(dict(zip(FEATURES, (lr.coef_[0] / sd).round(6).tolist())))

    def shuffled(paras):
        out = []
        for p, members, role in paras:
            order = list(rng.permutation(len(members)))
            out.append((p, [members[k] for k in order], role))
        return out

    rules = ArgumentRules()
    genuine, shuffles, splits = [], [], []  # (name, level, evidence, paragraphs judged)
    runs, run_shuffles, cut_runs = [], [], []  # (name, level, share): the whole essay as one run


    folds = GroupKFold(n_splits=6)
    index = np.arange(len(data))
    for train, test in folds.split(index, groups=index):
        model = fit([data[k] for k in train])
        for k in test:
            name, level, sents, paras, flat, groups = data[k]
            j = model.judge(sents, whole(groups))
            runs.append((name, level, j.shares[0][1]))
            for cut in unfinished(groups)[:2]:
                j = model.judge(sents, [cut])
                cut_runs.append((name, level, j.shares[0][1]))
            for _ in range(SHUFFLES):
                members = whole(groups)[0][1]
                j = model.judge(sents, [(0, [members[i] for i in rng.permutation(len(members))], "essay")])
                run_shuffles.append((name, level, j.shares[0][1]))
            if flat:
                continue
            for _ in range(2):
                j = model.judge(sents, split(groups))
                if j is not None:
                    splits.append((name, level, j.evidence, len(j.shares)))
            j = model.judge(sents, paras)
            if j is not None:
                genuine.append((name, level, j.evidence, len(j.shares)))
            for _ in range(SHUFFLES):
                j = model.judge(sents, shuffled(paras))
                if j is not None:
                    shuffles.append((name, level, j.evidence, len(j.shares)))

    def judged(items, line):
        seen = [e for _n, level, e, k in items if k >= rules.paragraph_order_min and (level or 3) >= 3]
        return sum(1 for e in seen if e < line), len(seen)

    report = {}
    for line in (rules.paragraph_order_line, rules.paragraph_order_line + rules.paragraph_order_band):
        g, gn = judged(genuine, line)
        s, sn = judged(shuffles, line)
        c, cn = judged(splits, line)
        report[f"{line:.2f}"] = {"genuine_under": f"{g}/{gn}", "shuffles_under": f"{s}/{sn}", "split_under": f"{c}/{cn}"}
        print(f"evidence < {line:.2f}: genuine Level 3+ essays {g}/{gn}; their shuffles inside paragraphs {s}/{sn} "
              f"({s / max(1, sn):.0%}); genuine with their paragraphs split {c}/{cn} ({c / max(1, cn):.0%})")
    hi = np.array([r[2] for r in runs if (r[1] or 3) >= 3])
    sh = np.array([r[2] for r in run_shuffles if (r[1] or 3) >= 3])
    for t in (0.3, 0.5, 0.6, 0.65, 0.7):
        print(f"run together, share < {t}: genuine Level 3+ {np.mean(hi < t):.0%} ({int(np.sum(hi < t))}/{len(hi)}), "
              f"shuffled {np.mean(sh < t):.0%}")
    cut = np.array([r[2] for r in cut_runs])
    print(f"unfinished (first 40% / 60% of the sentences, not judged without an ending): under {rules.run_order_line}: {int(np.sum(cut < rules.run_order_line))}/{len(cut)}, "
          f"lowest {cut.min():.3f}, 5th percentile {np.percentile(cut, 5):.3f}")
    print("lowest genuine runs:", sorted((round(r[2], 3), r[0], r[1]) for r in runs)[:8])
    low = sorted((g for g in genuine if g[3] >= rules.paragraph_order_min), key=lambda g: g[2])
    print("lowest genuine essays (cross-validated evidence, paragraphs judged):")
    for name, level, e, k in (low if args.show else low[:6]):
        print(f"  {name:40s} L{level if level is not None else '?'} {e:+.2f} ({k})")
    model = fit(data)
    model.meta = {"trained_on": len(data), "seed": args.seed, "permutations": PERMUTATIONS, "C": C,
                  "cross_validated": report}
    if not args.dry_run:
        write_model(MODEL_FILE.name, model.to_json(), indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
