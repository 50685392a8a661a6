"""Scoring Items in input order, in this process or in a pool of spawned worker processes.

`score_items` scores the items with the engine's `score_many`, keeping input order; large batches
go to a process pool (each worker loads the spaCy pipeline once). The engine is imported only when
scoring starts, so the CLI's `--help` stays fast.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..inputs import AUTO, Item
from .cpu import CpuWindow

if TYPE_CHECKING:  # the engine pulls in spaCy; only scoring needs it
    from ..scoring import ScoreReport


# From this many essays up, a batch is worth a process pool: a spawned worker spends ~1 CPU-second
# importing spaCy, loading the pipeline and building the rubric matchers, which a small batch
# never earns back. (A forked one, on Linux, starts with this process's engine and costs far less:
# for it the threshold is cautious.)
PARALLEL_MIN_ESSAYS = 200
SERIAL_CHUNK = 64  # score_many's own batch size
PARALLEL_CHUNK = 32  # small enough to keep both workers busy to the end, large enough to batch


def default_jobs(n_items: int, cpu: CpuWindow | None = None) -> int:
    """How many processes a batch of `n_items` gets by default: one, or two when large and a core is idle.

    `cpu`: a CpuWindow opened when the command started, so that the machine's load is read over
    the start-up it spends anyway (without one, a new window waits a tenth of a second).

    Measured on 2 cores, 2000 essays, with spawned workers and an older, slower engine: one
    process 21.5 s (21 CPU-s); two workers 14.9 s on an otherwise idle machine but 26.7 s on a
    busy one (they cost ~7 CPU-s more to start, and got 1.2 cores between them). Two pay off when
    about 1.3 cores are idle; forked workers (Linux) cost less, so this is cautious there.
    """
    if n_items < PARALLEL_MIN_ESSAYS or (os.cpu_count() or 1) < 2:
        return 1
    return 2 if (cpu or CpuWindow()).free_cores() >= 1.3 else 1


# Container objects allocated between young-generation collections while a batch is scored (Python's
# default is 700). Marking an essay makes some twenty thousand short-lived objects (hits, sentences,
# spans, report dicts) and keeps none of them, so at the default the collector runs thirty times an
# essay and finds nothing: measured, a tenth of the marking time. Reference counting still frees
# everything at once; only cycles wait for a collection.
BATCH_GC_THRESHOLD = 20_000


@contextmanager
def quiet_gc() -> Iterator[None]:
    """While a batch is scored: what exists already (the batch's inputs, the engine if loaded) kept
    out of the collector's sight (gc.freeze), and young-generation collections made rarer; both
    restored on exit. The settings are the whole process's: for a process of its own (the CLI),
    not inside a web worker, whose threads share them."""
    old, frozen_before = gc.get_threshold(), gc.get_freeze_count()
    gc.freeze()
    gc.set_threshold(BATCH_GC_THRESHOLD, *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)
        if not frozen_before:  # someone else's frozen objects stay as they were
            gc.unfreeze()


def _failed(item: Item, question: str | None, message: str) -> ScoreReport:
    from ..scoring import ScoreReport

    return ScoreReport.failed(item.source, message, None if question == AUTO else question)


def _named(report: ScoreReport) -> ScoreReport:
    """Say which input an engine error is about, as the readers' messages do."""
    if report.error and not report.error.startswith(report.source):
        report.error = f"{report.source}: {report.error}"
    return report


def score_chunk(items: Sequence[Item], question: str = AUTO, sources=None) -> list[ScoreReport]:
    """Score a run of Items in order; unreadable inputs and texts the engine refuses become error reports.

    `question` ("q1", "q2" or "auto") applies to items whose row names no question; `sources`
    the registered sources' index (scoring.copying.SourceIndex), if any. Runs in the calling
    process or in a pool worker.
    """
    from ..scoring import score, score_many

    load_pipeline()  # outside the per-essay fallback below: a setup problem stops the batch
    reports: list[ScoreReport | None] = [None] * len(items)
    todo: list[tuple[int, tuple[str, str, str]]] = []
    for i, item in enumerate(items):
        q = item.question or question
        if item.error is not None or item.text is None:
            reports[i] = _failed(item, q, item.error or f"{item.source}: no text")
        else:
            todo.append((i, (item.source, q, item.text)))
    try:
        for (i, _), report in zip(todo, score_many([task for _, task in todo], sources=sources), strict=True):
            reports[i] = _named(report)
    except Exception:  # noqa: BLE001 - one essay the engine chokes on must not sink its neighbours
        for i, (source, q, text) in todo:
            try:
                reports[i] = _named(score(text, q, source=source, sources=sources))
            except Exception as exc:  # noqa: BLE001
                reports[i] = _failed(items[i], q, f"{source}: the marker failed on this essay ({type(exc).__name__}: {exc})")
    return [r for r in reports if r is not None]


def load_pipeline() -> None:
    """Load this process's spaCy pipeline, or raise PipelineMissing saying how to build it."""
    from ..scoring import PipelineMissing, get_nlp

    try:
        get_nlp()
    except PipelineMissing:
        raise
    except Exception as exc:  # noqa: BLE001 - spaCy raises OSError, ValueError... for a bad pipeline
        raise PipelineMissing(
            f"the spaCy pipeline cannot be loaded ({type(exc).__name__}: {exc}); "
            "rebuild it with `khrushchev-essays build-pipeline`"
        ) from exc


# A pool worker's registered sources' index, received once when the worker starts (_init_worker)
# rather than pickled again with every chunk.
_worker_sources = None


def start_method() -> str:
    """How the pool's workers are started: "fork" where that is safe, else "spawn".

    A forked worker starts with this process's engine already loaded (spaCy, the rubrics'
    matchers), where a spawned one spends ~0.8 CPU-seconds importing and building it all again.
    Fork is used only on Linux and only while this process runs no other Python thread (a thread
    holding a lock at the fork would leave it held forever in the child). numpy's OpenBLAS keeps
    a thread of its own, which it stops and restarts around a fork itself (pthread_atfork). A
    threaded caller (a web server) and other systems get spawn.
    """
    import multiprocessing
    import threading

    if sys.platform.startswith("linux") and threading.active_count() == 1 \
            and "fork" in multiprocessing.get_all_start_methods():
        return "fork"
    return "spawn"


def _warm_engine() -> None:
    """Load the pipeline and build the default engine with every rubric compiled and what its
    first essays would load warmed up (Engine.warm_up: the phrasing model's tables, the
    calibrators, for both questions), so that forked workers inherit it all rather than each
    loading its own; then freeze everything this process holds (gc.freeze). A worker's
    collector then never reads those objects, so the pages it shares with this process stay
    shared, and nothing inherited (a database connection of `grade --store`, say) can be
    finalised in a worker, where closing it would close this process's too."""
    from ..scoring import default_engine

    load_pipeline()
    default_engine().warm_up()
    gc.freeze()


def _init_worker(sources=None) -> None:
    """Load the pipeline and rubrics once per worker process, not once per chunk (a forked worker
    has them already)."""
    import signal

    from ..scoring import load_all_rubrics

    global _worker_sources
    # Ctrl-C reaches the whole process group: the parent stops the pool, the workers stay quiet.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker_sources = sources
    load_pipeline()
    load_all_rubrics()
    # A worker lives for one batch: its engine stays out of the collector's sight (see quiet_gc).
    gc.collect()
    gc.freeze()
    gc.set_threshold(BATCH_GC_THRESHOLD, *gc.get_threshold()[1:])


@dataclass(frozen=True, slots=True)
class EncodedReport:
    """A score report already written as its JSON line (`ScoreReport.to_json()`), with the fields a
    batch's summary needs: what `score_items(..., encoded=True)` yields, for output that is JSON
    anyway. A pool worker sends it back as it will be written, so the parent neither rebuilds
    the report's objects nor writes them out again."""

    source: str
    status: str
    text: str

    @classmethod
    def of(cls, report: ScoreReport) -> EncodedReport:
        return cls(report.source, report.status, report.to_json())

    def to_json(self) -> str:
        return self.text

    def report(self) -> ScoreReport:
        """The ScoreReport itself, rebuilt from the JSON."""
        import json

        from ..scoring import ScoreReport

        return ScoreReport.from_dict(json.loads(self.text))


def _score_chunk_in_worker(items: Sequence[Item], question: str, encoded: bool = False) -> list:
    """A pool worker's chunk: the reports' JSON lines as (source, status, line) when `encoded`,
    else their JSON form as dicts (`ScoreReport.to_dict`).

    They cross back to the parent pickled: a ScoreReport is some two hundred small objects (its
    spans), and pickling them cost about 1.3 ms an essay, a quarter of marking it; its dict costs
    0.1 ms, and `ScoreReport.from_dict` rebuilds the same report (a test checks), which costs the
    parent 0.4 ms more. A line of JSON (0.2 ms in the worker) costs the parent nothing but the write.
    """
    reports = score_chunk(items, question, _worker_sources)
    if encoded:
        return [(r.source, r.status, r.to_json()) for r in reports]
    return [r.to_dict() for r in reports]


def score_items(items: Iterable[Item], question: str = AUTO, jobs: int | None = None,
                sources=None, *, encoded: bool = False,
                cpu: CpuWindow | None = None) -> Iterator[ScoreReport | EncodedReport]:
    """Score Items in input order; one report per item, errors included. `sources`: the
    registered sources' index (copied passages earn nothing), or None. With `encoded`, each
    report comes as an EncodedReport (its JSON line), for output that is JSON anyway.

    `jobs` is the number of processes (default: `default_jobs`, reading the load over `cpu`, a
    CpuWindow, if given), this one included. With more
    than one, `jobs - 1` workers take chunks from the front of the batch while this process scores
    from the back; the reports come out in input order. The workers are forked from this process
    once its engine is loaded, or, where that is not safe (`start_method`), spawned: then this
    process starts scoring while they load theirs.
    """
    items = list(items)
    jobs = default_jobs(len(items), cpu) if jobs is None else max(1, jobs)
    size = PARALLEL_CHUNK if jobs > 1 else SERIAL_CHUNK
    chunks = [items[i : i + size] for i in range(0, len(items), size)]
    if jobs == 1 or len(chunks) < 2:
        for chunk in chunks:
            reports = score_chunk(chunk, question, sources)
            yield from ([EncodedReport.of(r) for r in reports] if encoded else reports)
        return
    yield from _shared_with_pool(chunks, question, jobs - 1, sources, encoded)


def _shared_with_pool(chunks: list[list[Item]], question: str, workers: int, sources,
                      encoded: bool = False) -> Iterator[ScoreReport | EncodedReport]:
    """Chunks scored by a pool of `workers` processes and by this one, yielded in order.

    The pool is kept two chunks a worker ahead, from the front; whenever the next report due is
    not back yet, this process scores the last chunk nobody has taken. A worker that dies (out of
    memory, killed) only means this process scores what is left.
    """
    import multiprocessing
    from collections import deque
    from concurrent.futures import ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    from ..scoring import ScoreReport

    method = start_method()
    if method == "fork":
        _warm_engine()  # before the fork, so that the workers start with it
        # A forked child flushes its copy of the standard streams when it exits: nothing may be
        # waiting in them, or it would be written twice.
        sys.stdout.flush()
        sys.stderr.flush()
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(method),
                               initializer=_init_worker, initargs=(sources,))
    waiting = deque(range(len(chunks)))  # nobody has taken these yet
    running: dict = {}  # chunk index -> future
    done: dict[int, list] = {}
    broken = False

    def received(rows: list) -> list:
        if encoded:
            return [EncodedReport(*row) for row in rows]
        return [ScoreReport.from_dict(d) for d in rows]

    def top_up() -> None:
        while not broken and waiting and len(running) < 2 * workers:
            i = waiting.popleft()
            running[i] = pool.submit(_score_chunk_in_worker, chunks[i], question, encoded)

    try:
        top_up()
        for i in range(len(chunks)):
            while i not in done:
                future = running.get(i)
                if future is not None and (future.done() or not waiting):
                    del running[i]
                    try:
                        done[i] = received(future.result())
                    except BrokenProcessPool as exc:
                        logging.getLogger(__name__).warning("a scoring process failed (%s); finishing in one process", exc)
                        broken = True
                        waiting.extendleft(sorted([*running, i], reverse=True))  # back in order, in front
                        running.clear()
                    top_up()
                elif waiting:
                    j = waiting.pop() if not broken else waiting.popleft()
                    reports = score_chunk(chunks[j], question, sources)
                    done[j] = [EncodedReport.of(r) for r in reports] if encoded else reports
                    top_up()
                else:  # the chunk due is with a worker and nothing is left to take: wait for it
                    wait([future])
            yield from done.pop(i)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)

__all__ = ["BATCH_GC_THRESHOLD", "PARALLEL_CHUNK", "PARALLEL_MIN_ESSAYS", "SERIAL_CHUNK", "EncodedReport", "default_jobs",
           "load_pipeline", "quiet_gc", "score_chunk", "score_items"]
