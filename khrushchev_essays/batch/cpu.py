"""How much of the machine is free: idle cores from Linux's /proc/stat (or the load average)."""

from __future__ import annotations

import os
import time


def _cpu_ticks() -> tuple[int, int]:
    """(idle, total) CPU time since boot, from Linux's /proc/stat."""
    with open("/proc/stat", encoding="ascii") as fh:
        fields = [int(x) for x in fh.readline().split()[1:]]
    return fields[3] + fields[4], sum(fields[:8])  # idle + iowait; user..steal


def _own_cpu() -> float:
    """CPU seconds this process has used (all its threads, user + system)."""
    t = os.times()
    return t.user + t.system


class CpuWindow:
    """The cores other processes leave free, measured from when this was made until asked.

    Made when a command starts, it measures across the command's own start-up (importing spaCy,
    reading the inputs), so asking then costs no wait; asked sooner than `least` seconds after,
    it waits out the rest. What this process itself used meanwhile counts as free: it is the
    work that is asking. Where /proc/stat is missing, the 1-minute load average stands in (it
    lags, and counts a run that has just finished); where that is missing too, the machine is
    taken to be idle.
    """

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.own = _own_cpu()
        try:
            self.ticks: tuple[int, int] | None = _cpu_ticks()
        except (OSError, ValueError, IndexError):
            self.ticks = None

    def free_cores(self, least: float = 0.1) -> float:
        """Cores not used by other processes since this window opened (0 to os.cpu_count())."""
        cores = os.cpu_count() or 1
        if self.ticks is not None:
            wait = least - (time.monotonic() - self.started)
            if wait > 0:
                time.sleep(wait)
            try:
                idle1, total1 = _cpu_ticks()
            except (OSError, ValueError, IndexError):
                pass
            else:
                idle0, total0 = self.ticks
                elapsed = max(1e-3, time.monotonic() - self.started)
                idle = cores * (idle1 - idle0) / max(1, total1 - total0)
                mine = (_own_cpu() - self.own) / elapsed
                return max(0.0, min(float(cores), idle + mine))
        try:
            return max(0.0, cores - os.getloadavg()[0])
        except (AttributeError, OSError):
            return float(cores)


def idle_cores(sample: float = 0.1) -> float:
    """How many cores nothing else is using right now: idle CPU over `sample` seconds (see CpuWindow)."""
    return CpuWindow().free_cores(least=sample)


__all__ = ["CpuWindow", "idle_cores"]
