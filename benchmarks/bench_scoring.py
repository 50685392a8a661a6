"""Scoring throughput against the bare spaCy pipeline, measured in the same run.

    make bench                 # 3000 essays of about 800 words
    make bench ARGS="--n 500"  # quicker

Prints essays/s, words/s, p50/p95 milliseconds per essay, peak memory, and the ratio of the
engine's time to the bare pipeline's time on the same texts (the machine is noisy, so the two are
interleaved and each is the best of --repeat rounds). The texts are made from the project's own
fixture essays (and the marked essays in ../shared/calibration when they are there), recombined
paragraph by paragraph so that no two are the same.
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def source_paragraphs() -> dict[str, list[str]]:
    """Paragraphs of real essays per question, from the fixtures and, if present, ../shared."""
    out: dict[str, list[str]] = {"q1": [], "q2": []}
    folders = [ROOT / "tests" / "fixtures"]
    shared = ROOT.parent / "shared" / "calibration"
    if shared.is_dir():
        folders += [shared / "q1", shared / "q2"]
    for folder in folders:
        for path in sorted(folder.glob("*.txt")):
            q = "q2" if ("q2" in path.name or path.parent.name == "q2") else "q1"
            if folder.name == "fixtures" and not path.name.startswith(("q1_", "q2_")):
                continue  # junk fixtures (keyword lists, off-topic...) are not essays
            text = path.read_text(encoding="utf-8")
            out[q] += [p.strip() for p in text.split("\n\n") if len(p.split()) >= 25]
    return out


def make_essays(n: int, words: int, seed: int) -> list[tuple[str, str]]:
    """n (question, text) pairs of about `words` words, each a fresh mix of real paragraphs."""
    rng = random.Random(seed)
    paras = source_paragraphs()
    if not any(paras.values()):
        sys.exit("no essay paragraphs found (tests/fixtures/q*_*.txt): nothing to benchmark")
    essays = []
    for i in range(n):
        q = "q1" if i % 2 == 0 or not paras["q2"] else "q2"
        pool = paras[q] or paras["q1"]
        chosen, count = [], 0
        while count < words:
            p = rng.choice(pool)
            chosen.append(p)
            count += len(p.split())
        essays.append((q, "\n\n".join(chosen)))
    return essays


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=3000, help="essays to score (default 3000)")
    ap.add_argument("--words", type=int, default=800, help="words per essay (default 800)")
    ap.add_argument("--repeat", type=int, default=2, help="interleaved rounds; the best is kept (default 2)")
    ap.add_argument("--latency-sample", type=int, default=300, help="essays timed one by one for p50/p95")
    ap.add_argument("--seed", type=int, default=1964)
    args = ap.parse_args(argv)

    from khrushchev_essays.scoring import get_nlp, load_all_rubrics, score, score_many
    from khrushchev_essays.scoring.matching import normalise

    nlp = get_nlp()
    rubrics = load_all_rubrics()
    essays = make_essays(args.n, args.words, args.seed)
    total_words = sum(len(t.split()) for _q, t in essays)
    # Warm up: build the matchers and topic models, touch the lemma table.
    for q, t in essays[:4]:
        score(t, rubrics[q])

    texts = [normalise(t) for _q, t in essays]
    items = [(f"essay-{i}", rubrics[q], t) for i, (q, t) in enumerate(essays)]
    bare_times, score_times = [], []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        for _doc in nlp.pipe(texts, batch_size=64):
            pass
        bare_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        reports = list(score_many(items, batch_size=64))
        score_times.append(time.perf_counter() - t0)
    bare, scored = min(bare_times), min(score_times)
    assert all(r.status == "scored" for r in reports), "every benchmark essay should score"

    latencies = []
    for _q, t in essays[: args.latency_sample]:
        t0 = time.perf_counter()
        score(t, rubrics[_q])
        latencies.append((time.perf_counter() - t0) * 1000)
    latencies.sort()
    p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"essays: {args.n} x ~{args.words} words ({total_words:,} words), best of {args.repeat} interleaved rounds")
    print(f"bare spaCy pipeline : {args.n / bare:8.1f} essays/s  {total_words / bare:10,.0f} words/s")
    print(f"scoring (end to end): {args.n / scored:8.1f} essays/s  {total_words / scored:10,.0f} words/s")
    print(f"ratio scoring/pipeline time: {scored / bare:.2f}  (scoring costs {100 * (scored / bare - 1):.0f}% more than the bare pipeline)")
    print(f"latency per essay, score() one at a time ({len(latencies)} essays): "
          f"p50 {statistics.median(latencies):.2f} ms  p95 {p95:.2f} ms")
    print(f"peak memory (max RSS): {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
