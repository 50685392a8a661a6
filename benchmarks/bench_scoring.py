"""Scoring throughput against the bare spaCy pipeline, measured in the same run.

    make bench                 # 3000 essays of about 800 words
    make bench ARGS="--n 500"  # quicker

Prints essays/s, words/s, p50/p95 milliseconds per essay, peak memory, and the ratio of the
engine's time to the bare pipeline's time on the same texts (the machine is noisy, so the two are
interleaved and each is the best of --repeat rounds). The texts are made from the project's own
fixture essays (and the marked essays in ../shared/calibration when they are there), recombined
paragraph by paragraph so that no two are the same.

Then, whole processes as a user runs them, each against its baseline measured in the same run:
- cold start: `khrushchev-essays grade one-essay.txt` against `python -c "import spacy;
  spacy.blank('en')"` (aim: within 1.5x);
- batch: `grade class.jsonl --jobs 2` on --batch-n essays of ~--batch-words words against a
  process that tokenises and sentence-splits the same texts with bare spaCy (blank English and
  a sentencizer, one process); printed as a speed ratio (aim: >= 0.5x), with the largest resident
  memory of any grading process (aim: < 300 MB).
Wall-clock time, best of --rounds interleaved runs; CPU time (user + system) beside it, which a
busy machine disturbs less.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
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


BARE_SPACY = """
import json, sys
import spacy
nlp = spacy.blank("en")
nlp.add_pipe("sentencizer")
texts = [json.loads(line)["text"] for line in open(sys.argv[1], encoding="utf-8")]
sentences = sum(len(list(doc.sents)) for doc in nlp.pipe(texts, batch_size=64))
"""


def _tree(pid: int) -> list[int]:
    """A process and its descendants (Linux /proc; just the process where that is missing)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            todo += [int(c) for c in Path(f"/proc/{p}/task/{p}/children").read_text().split()]
        except (OSError, ValueError):
            pass
    return out


def _peak_rss_mb(pid: int) -> float:
    """VmHWM, the most resident memory a process has had (its own, not its parent's before exec)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def run_process(cmd: list[str]) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak RSS in MB of the largest process) of one command and its children.

    The peak is read from /proc while the command runs (each process of its tree, pool workers
    included), since a forked child's ru_maxrss counts the parent it was forked from.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0.0
    while proc.poll() is None:
        peak = max([peak, *(_peak_rss_mb(p) for p in _tree(proc.pid))])
        time.sleep(0.05)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 1):
        sys.exit(f"failed: {' '.join(cmd)}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, peak


def best_of(rounds: int, commands: dict[str, list[str]]) -> dict[str, tuple[float, float, float]]:
    """Each command run `rounds` times, interleaved; the best wall and CPU time of each, and its largest RSS."""
    runs: dict[str, list[tuple[float, float, float]]] = {name: [] for name in commands}
    for _ in range(rounds):
        for name, cmd in commands.items():
            runs[name].append(run_process(cmd))
    return {name: (min(r[0] for r in rs), min(r[1] for r in rs), max(r[2] for r in rs)) for name, rs in runs.items()}


def whole_process(args) -> None:
    """Cold start and batch grading as a user runs them, against bare spaCy in the same run."""
    python, cli = sys.executable, str(Path(sys.executable).parent / "khrushchev-essays")
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        one = Path(tmp) / "one-essay.txt"
        one.write_text(make_essays(1, 890, args.seed)[0][1], encoding="utf-8")
        cold = best_of(args.rounds, {
            "grade": [cli, "grade", str(one), "-f", "json", "-o", str(Path(tmp) / "one.json")],
            "blank": [python, "-c", "import spacy; spacy.blank('en')"],
        })
        (gw, gc, grss), (bw, bc, _brss) = cold["grade"], cold["blank"]
        cold_cpu = gc
        print(f"cold start, one essay: grade {gw:.2f} s (CPU {gc:.2f} s) against spacy.blank('en') {bw:.2f} s "
              f"(CPU {bc:.2f} s): ratio {gw / bw:.2f} wall, {gc / bc:.2f} CPU (aim <= 1.5); max RSS {grss:.0f} MB")

        table = Path(tmp) / "class.jsonl"
        with table.open("w", encoding="utf-8") as fh:
            for i, (q, text) in enumerate(make_essays(args.batch_n, args.batch_words, args.seed + 1)):
                fh.write(json.dumps({"id": f"s{i}", "question": q, "text": text}) + "\n")
        jobs = min(2, os.cpu_count() or 1)
        batch = best_of(args.rounds, {
            "grade": [cli, "grade", str(table), "--jobs", str(jobs), "-o", str(Path(tmp) / "out.jsonl")],
            "bare": [python, "-c", BARE_SPACY, str(table)],
        })
        (gw, gc, grss), (bw, bc, brss) = batch["grade"], batch["bare"]
        print(f"batch, {args.batch_n} essays x ~{args.batch_words} words: grade --jobs {jobs} {gw:.2f} s (CPU {gc:.2f} s) "
              f"against bare spaCy (tokenise + sentences, one process) {bw:.2f} s (CPU {bc:.2f} s): "
              f"speed {bw / gw:.2f}x bare (aim >= 0.5)")
        # Where the time goes: the CPU beyond a one-essay run is the marking, shared by the processes.
        per_essay = 1000 * max(0.0, gc - cold_cpu) / max(1, args.batch_n - 1)
        print(f"  of which: start-up (one-essay run) CPU {cold_cpu:.2f} s; marking {per_essay:.2f} CPU-ms an essay "
              f"(bare spaCy: {1000 * max(0.0, bc - cold['blank'][1]) / args.batch_n:.2f} ms an essay beyond spacy.blank)")
        print(f"resident memory: largest grading process (parent or pool worker) {grss:.0f} MB (aim < 300 MB); bare spaCy {brss:.0f} MB")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=3000, help="essays to score (default 3000)")
    ap.add_argument("--words", type=int, default=800, help="words per essay (default 800)")
    ap.add_argument("--repeat", type=int, default=2, help="interleaved rounds; the best is kept (default 2)")
    ap.add_argument("--latency-sample", type=int, default=300, help="essays timed one by one for p50/p95")
    ap.add_argument("--seed", type=int, default=1964)
    ap.add_argument("--batch-n", type=int, default=1000, help="essays for the whole-process batch (default 1000)")
    ap.add_argument("--batch-words", type=int, default=890, help="words per batch essay (default 890)")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds of each whole process (default 3)")
    ap.add_argument("--only-whole-process", action="store_true", help="skip the in-process throughput")
    args = ap.parse_args(argv)
    if args.only_whole_process:
        whole_process(args)
        return

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
    whole_process(args)


if __name__ == "__main__":
    main()
