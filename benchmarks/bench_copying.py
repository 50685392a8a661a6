"""How fast the copy detector is: essays against registered sources, and similar pairs in a class.

Prints measured figures only (no thresholds). The texts are generated from a fixed vocabulary with
a fixed seed, so runs are comparable: 50 sources of 3,000 words, 800-word essays of which a
quarter copy two passages of 40 words from the sources, and a class of 30 such essays for the
similar-pairs search (every fifth essay of it copies 60 words from the one before). The
baseline in the same run is splitting the texts into normalised words alone, the least any
word-based comparison must do.

    .venv/bin/python benchmarks/bench_copying.py [--sources 50] [--source-words 3000] [--essays 200]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from khrushchev_essays.scoring.copying import SourceIndex, similar_pairs
from khrushchev_essays.scoring.copying import words as normalised_words

VOCAB = (
    "khrushchev stalin party presidium reform virgin lands maize harvest grain soil erosion kazakhstan "
    "secret speech 1956 hungary poland gulag release thaw housing apartment sovnarkhoz regional councils "
    "industry planning consumer goods space sputnik gagarin cuba missile crisis berlin wall china split "
    "brezhnev suslov mikoyan ignatov plenum october 1964 removal colleagues nomenklatura bifurcation "
    "the a of and in to was were his he it that this which but because so however although therefore "
    "while after before during by with from for on as not only also more less most least than"
).split()


def text(rng: random.Random, n: int) -> str:
    words = [rng.choice(VOCAB) for _ in range(n)]
    for i in range(0, n, 17):  # sentences, so the tokeniser sees punctuation and capitals
        words[i] = words[i].capitalize()
        if i:
            words[i - 1] += "."
    return " ".join(words)


def best_of(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=50)
    parser.add_argument("--source-words", type=int, default=3000)
    parser.add_argument("--essays", type=int, default=200)
    parser.add_argument("--essay-words", type=int, default=800)
    parser.add_argument("--class-size", type=int, default=30)
    args = parser.parse_args()
    rng = random.Random(1964)

    sources = {f"source {i}": text(rng, args.source_words) for i in range(args.sources)}
    t0 = time.perf_counter()
    index = SourceIndex(sources)
    build = time.perf_counter() - t0
    essays = []
    for i in range(args.essays):
        words = text(rng, args.essay_words).split()
        if i % 4 == 0:  # copy two 40-word passages
            for at in (100, 500):
                src = rng.choice(list(sources.values())).split()
                s = rng.randrange(len(src) - 40)
                words[at : at + 40] = src[s : s + 40]
        essays.append(" ".join(words))
    n_words = sum(len(e.split()) for e in essays)

    found = sum(len(index.overlaps(e)) for e in essays)
    scan = best_of(lambda: [index.overlaps(e) for e in essays])
    tok = best_of(lambda: [normalised_words(e) for e in essays])
    class_essays = essays[: args.class_size]
    for i in range(5, len(class_essays), 5):
        before, words_i = class_essays[i - 1].split(), class_essays[i].split()
        words_i[300:360] = before[200:260]
        class_essays[i] = " ".join(words_i)
    class_docs = list(enumerate(class_essays))
    pairs = best_of(lambda: similar_pairs(class_docs))

    print(f"index: {args.sources} sources x {args.source_words} words built in {build * 1000:.1f} ms "
          f"({index!r})")
    print(f"overlaps: {args.essays} essays of {args.essay_words} words, {found} copied passages found")
    print(f"  {scan / args.essays * 1000:.3f} ms an essay, {scan / n_words * 1e6:.3f} ms per 1000 words")
    print(f"  normalising the words alone: {tok / n_words * 1e6:.3f} ms per 1000 words "
          f"(detection costs {scan / tok:.2f}x that)")
    print(f"similar_pairs: a class of {len(class_docs)} essays in {pairs * 1000:.1f} ms "
          f"({len(similar_pairs(class_docs))} pairs)")
    per_essay = [best_of(lambda e=e: index.overlaps(e), 3) * 1000 for e in essays[:40]]
    print(f"  per-essay overlaps, median {statistics.median(per_essay):.3f} ms, max {max(per_essay):.3f} ms")


if __name__ == "__main__":
    main()
