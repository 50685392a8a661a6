"""How much of the machine is free: idle cores from Linux's /proc/stat (or the load average)."""

from __future__ import annotations

import os
import time


def _cpu_ticks() -> tuple[int, int]:
    """(idle, total) CPU time since boot, from Linux's /proc/stat."""
    with open("/proc/stat", encoding="ascii") as fh:
        fields = [int(x) for x in fh.readline().split()[1:]]
    return fields[3] + fields[4], sum(fields[:8])  # idle + iowait; user..steal


def idle_cores(sample: float = 0.3) -> float:
    """How many cores nothing else is using right now: idle CPU over `sample` seconds.

    Where /proc/stat is missing, the 1-minute load average stands in (it lags, and counts a
    run that has just finished); where that is missing too, the machine is taken to be idle.
    """
    cores = os.cpu_count() or 1
    try:
        idle0, total0 = _cpu_ticks()
        time.sleep(sample)
        idle1, total1 = _cpu_ticks()
        return cores * (idle1 - idle0) / max(1, total1 - total0)
    except (OSError, ValueError, IndexError):
        pass
    try:
        return max(0.0, cores - os.getloadavg()[0])
    except (AttributeError, OSError):
        return float(cores)



__all__ = ["idle_cores"]
