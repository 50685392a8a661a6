"""The web app under a bounded loopback load, one worker against two, beside a trivial route.

    make bench-web                      # 6 s a cell: 1, 8, 32 clients x 3 routes x 1, 2 workers
    make bench-web ARGS="--quick"       # 2 s a cell
    .venv/bin/python benchmarks/bench_web.py --workers 2 --clients 8 --seconds 10
    bash scripts/with-postgres.sh sh -c '.venv/bin/python benchmarks/bench_web.py --database "$KHRUSHCHEV_TEST_DATABASE_URL"'

For each number of workers it starts `khrushchev-essays serve` (waitress for one, gunicorn for
more) on a free 127.0.0.1 port and a throwaway SQLite database (or --database URL, e.g. the
throwaway PostgreSQL cluster of scripts/with-postgres.sh), with rate limits off, then drives three routes in turn at each number of concurrent clients:

- `healthz`: GET /healthz, which does nothing; the floor of server, HTTP and client overhead.
- `api`: POST /api/v1/score with an essay of about 1,160 words (scored, nothing stored).
- `form`: POST /questions/q1 with the same essay, as a browser sends it (session cookie and CSRF
  token): scored, stored, answered with the redirect to the feedback page.

Each client keeps one HTTP/1.1 connection and sends its next request when the last one is
answered. A cell stops after --seconds or --max-requests, whichever comes first; only 127.0.0.1
is contacted. Printed per cell: requests, requests/s, p50/p95/p99 latency and errors; and per
number of workers, each worker process's resident memory (RSS, and PSS, which splits the pages
the workers share after the fork) once the load is over. Before the load, the first request to each
route against the median of the next five, each with an essay of its own: the app is warmed
before it serves (web/server.py). The load generator runs in this
process's threads, on the same two cores as the server, so the trivial route shows its ceiling.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def essay(words: int = 1160) -> str:
    """The strongest q1 fixture, lengthened with paragraphs of another until it has `words` words."""
    text = (FIXTURES / "q1_strong.txt").read_text(encoding="utf-8").strip()
    extra = [p for p in (FIXTURES / "q1_medium.txt").read_text(encoding="utf-8").split("\n\n") if p.strip()]
    i = 0
    while len(text.split()) < words and extra:
        text += "\n\n" + extra[i % len(extra)].strip()
        i += 1
    return text


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the server ---------------------------------------------------------------------------------------

class Server:
    """`khrushchev-essays serve --workers N` in its own process group, stopped on exit."""

    def __init__(self, workers: int, threads: int, tmp: Path, database: str | None):
        self.port = free_port()
        env = {**os.environ, "SECRET_KEY": "bench-web-secret", "KHRUSHCHEV_RATELIMIT_ENABLED": "false",
               "DATABASE_URL": database or f"sqlite:///{tmp / f'bench-{workers}.sqlite'}"}
        self.log = open(tmp / f"serve-{workers}.log", "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "khrushchev_essays.cli", "serve", "--port", str(self.port),
             "--workers", str(workers), *(["--threads", str(threads)] if threads else [])],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.workers = workers
        deadline = time.monotonic() + 120
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    conn.close()
                    break
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                sys.exit(f"the server did not start:\n{Path(self.log.name).read_text()}")
            time.sleep(0.3)
        # gunicorn's workers warm up after the fork (web/server.py, warm_worker) and each logs it:
        # wait for all of them, so that no measurement runs beside a worker still starting.
        while workers > 1 and Path(self.log.name).read_text().count("warmed up in") < workers:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                sys.exit(f"the workers did not start:\n{Path(self.log.name).read_text()}")
            time.sleep(0.1)

    def worker_pids(self) -> list[int]:
        """The processes that answer requests: gunicorn's workers (children of the master), or waitress itself."""
        if self.workers == 1:
            return [self.proc.pid]
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        try:
            return [int(p) for p in children.read_text().split()]
        except OSError:
            return []

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def memory_mb(pid: int) -> tuple[float | None, float | None]:
    """(RSS, PSS) of a process in MB, from /proc (None where unreadable)."""
    def read(path: str, key: str) -> float | None:
        try:
            for line in Path(path).read_text().splitlines():
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return None

    return read(f"/proc/{pid}/status", "VmRSS"), read(f"/proc/{pid}/smaps_rollup", "Pss")


# --- the clients ----------------------------------------------------------------------------------------

@dataclass
class Cell:
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    elapsed: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def error(self, what: str) -> None:
        with self.lock:
            self.errors[what] = self.errors.get(what, 0) + 1


class Client:
    """One browser-like client with one kept-alive connection (and, for the form, a session)."""

    def __init__(self, port: int, route: str, body: bytes):
        self.port, self.route, self.body = port, route, body
        self.conn: http.client.HTTPConnection | None = None
        self.cookie = ""
        if route == "form":
            status, headers, page = self.send("GET", "/questions/q1", None, {})
            self.cookie = "; ".join(v.split(";", 1)[0] for k, v in headers if k.lower() == "set-cookie")
            token = CSRF.search(page.decode())
            if status != 200 or token is None:
                raise RuntimeError(f"the essay form did not load ({status})")
            self.body = urllib.parse.urlencode({"csrf_token": token.group(1), "text": body.decode(),
                                                "student_name": "Bench Mark"}).encode()

    def send(self, method: str, path: str, body: bytes | None, headers: dict) -> tuple[int, list, bytes]:
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            self.conn.request(method, path, body=body, headers=headers)
            resp = self.conn.getresponse()
            data = resp.read()
            if resp.getheader("Connection", "").lower() == "close":
                self.conn.close()
                self.conn = None
            return resp.status, resp.getheaders(), data
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = None
            raise

    def one(self) -> int:
        if self.route == "healthz":
            return self.send("GET", "/healthz", None, {})[0]
        if self.route == "api":
            return self.send("POST", "/api/v1/score", self.body, {"Content-Type": "application/json"})[0]
        return self.send("POST", "/questions/q1", self.body,
                         {"Content-Type": "application/x-www-form-urlencoded", "Cookie": self.cookie})[0]


EXPECTED = {"healthz": 200, "api": 200, "form": 303}


def run_cell(port: int, route: str, body: bytes, clients: int, seconds: float, max_requests: int) -> Cell:
    cell = Cell()
    pool = [Client(port, route, body) for _ in range(clients)]
    budget = threading.Semaphore(max_requests)
    start = time.perf_counter()
    stop_at = start + seconds

    def drive(client: Client) -> None:
        while time.perf_counter() < stop_at and budget.acquire(blocking=False):
            t0 = time.perf_counter()
            try:
                status = client.one()
            except (OSError, http.client.HTTPException) as exc:
                cell.error(type(exc).__name__)
                continue
            took = time.perf_counter() - t0
            if status != EXPECTED[route]:
                cell.error(str(status))
            else:
                with cell.lock:
                    cell.latencies.append(took)

    threads = [threading.Thread(target=drive, args=(c,)) for c in pool]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    cell.elapsed = time.perf_counter() - start
    for c in pool:
        if c.conn is not None:
            c.conn.close()
    return cell


def first_requests(port: int, route: str, later: int = 5) -> tuple[float, float]:
    """(the first request's time, the median of the next `later`) on a server no one has used yet.

    Each request comes from a new client on a new connection with an essay of its own (about 1,100
    words, paragraphs of the fixtures recombined), as the first visitors would send; for the form,
    the time is that of posting the essay (its page is fetched first, untimed)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_scoring import make_essays  # the sibling script

    texts = [t for q, t in make_essays(4 * (1 + later), 1100, seed=1957) if q == "q1"][: 1 + later]
    times = []
    for text in texts:
        body = json.dumps({"question": "q1", "text": text}).encode() if route == "api" else text.encode()
        client = Client(port, route, body)
        t0 = time.perf_counter()
        status = client.one()
        times.append(time.perf_counter() - t0)
        if status != EXPECTED[route]:
            raise RuntimeError(f"{route}: status {status}")
        if client.conn is not None:
            client.conn.close()
    rest = sorted(times[1:])
    return times[0], rest[len(rest) // 2]


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32])
    ap.add_argument("--routes", nargs="+", default=["healthz", "api", "form"], choices=["healthz", "api", "form"])
    ap.add_argument("--threads", type=int, default=None,
                    help="threads per worker (serve --threads; default: serve's own, 8 for one process, 2 a worker)")
    ap.add_argument("--seconds", type=float, default=6.0, help="how long each cell runs (at most)")
    ap.add_argument("--max-requests", type=int, default=5000, help="requests per cell (at most)")
    ap.add_argument("--quick", action="store_true", help="2 s a cell")
    ap.add_argument("--database", default=None, help="database URL (default: a throwaway SQLite file per run)")
    args = ap.parse_args(argv)
    if args.quick:
        args.seconds = 2.0

    text = essay()
    bodies = {"healthz": b"", "api": json.dumps({"question": "q1", "text": text}).encode(),
              "form": text.encode()}
    print(f"essay: {len(text.split())} words; {args.seconds:g} s or {args.max_requests} requests a cell; "
          f"{f'{args.threads} threads a worker' if args.threads else 'serve default threads (8 for one process, 2 a worker)'}; "
          f"{os.cpu_count()} CPUs; 127.0.0.1 only; "
          f"{(args.database or 'sqlite').split(':', 1)[0]}", flush=True)
    header = f"{'workers':>7} {'route':<8} {'clients':>7} {'requests':>8} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}  errors"
    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
        for workers in args.workers:
            server = Server(workers, args.threads, Path(tmp), args.database)
            try:
                # Before anything else reaches it (the start-up check asks only /healthz, which marks nothing).
                for route in [r for r in args.routes if r != "healthz"]:
                    first, then = first_requests(server.port, route)
                    print(f"{workers} worker(s), {route}: first request {first * 1000:.0f} ms, the next ones "
                          f"{then * 1000:.0f} ms (median): first/next x{first / then:.2f}", flush=True)
                print(f"\n{header}", flush=True)
                for route in args.routes:
                    run_cell(server.port, route, bodies[route], 1, min(1.0, args.seconds), 20)  # warm-up
                    for clients in args.clients:
                        cell = run_cell(server.port, route, bodies[route], clients, args.seconds, args.max_requests)
                        lat = sorted(cell.latencies)
                        errors = ", ".join(f"{k}: {v}" for k, v in sorted(cell.errors.items())) or "-"
                        print(f"{workers:>7} {route:<8} {clients:>7} {len(lat):>8} {len(lat) / cell.elapsed:>8.1f} "
                              f"{percentile(lat, .50) * 1000:>8.1f} {percentile(lat, .95) * 1000:>8.1f} "
                              f"{percentile(lat, .99) * 1000:>8.1f}  {errors}", flush=True)
                for pid in server.worker_pids():
                    rss, pss = memory_mb(pid)
                    rss_s = f"{rss:.0f} MB" if rss is not None else "?"
                    pss_s = f"{pss:.0f} MB" if pss is not None else "?"
                    print(f"  worker pid {pid}: resident {rss_s} (proportional share {pss_s})")
                if workers > 1:
                    rss, pss = memory_mb(server.proc.pid)
                    print(f"  gunicorn master pid {server.proc.pid}: resident {rss or 0:.0f} MB (proportional share {pss or 0:.0f} MB)")
            finally:
                server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
