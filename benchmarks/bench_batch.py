"""Batch grading throughput, one process against a pool: `khrushchev-essays grade --jobs N`.

    .venv/bin/python benchmarks/bench_batch.py                # 2000 essays, jobs 1 and 2
    .venv/bin/python benchmarks/bench_batch.py --n 500 --jobs 1 2 4

Runs the installed CLI end to end (start-up, reading a JSONL class file, scoring, writing JSONL),
so the pool's cost of starting workers is counted (forked once the engine is loaded on Linux,
spawned and loading spaCy each elsewhere). The machine is noisy:
the settings are interleaved and each is the best of --repeat rounds. The essays are made as in
bench_scoring.py.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_scoring import make_essays  # noqa: E402 - the sibling script, found through sys.path

CLI = Path(sys.executable).parent / "khrushchev-essays"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=2000, help="essays (default 2000)")
    ap.add_argument("--words", type=int, default=600, help="words per essay (default 600)")
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2], help="--jobs settings to compare (default 1 2)")
    ap.add_argument("--repeat", type=int, default=2, help="interleaved rounds; the best is kept (default 2)")
    ap.add_argument("--seed", type=int, default=1964)
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        class_file = Path(tmp) / "class.jsonl"
        with class_file.open("w", encoding="utf-8") as fh:
            for i, (q, text) in enumerate(make_essays(args.n, args.words, args.seed)):
                fh.write(json.dumps({"id": f"s{i}", "question": q, "text": text}) + "\n")
        best: dict[int, float] = {}
        outputs: dict[int, list[str]] = {}
        for _ in range(args.repeat):
            for jobs in args.jobs:
                out = Path(tmp) / f"out{jobs}.jsonl"
                t0 = time.perf_counter()
                subprocess.run([str(CLI), "grade", str(class_file), "--jobs", str(jobs), "-o", str(out)],
                               check=True, stderr=subprocess.DEVNULL)
                best[jobs] = min(best.get(jobs, float("inf")), time.perf_counter() - t0)
                outputs[jobs] = [json.loads(line)["source"] for line in out.read_text(encoding="utf-8").splitlines()]
    assert all(o == outputs[args.jobs[0]] for o in outputs.values()), "every setting must keep the input order"

    base = best[args.jobs[0]]
    print(f"{args.n} essays x ~{args.words} words, {os.cpu_count()} CPUs, best of {args.repeat} interleaved rounds")
    for jobs in args.jobs:
        print(f"--jobs {jobs}: {best[jobs]:6.1f} s  {args.n / best[jobs]:6.1f} essays/s  speed-up x{base / best[jobs]:.2f}")


if __name__ == "__main__":
    main()
