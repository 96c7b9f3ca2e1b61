"""Whose CPU a timed case had: the machine's busy time against the benchmark's own processes'.

The cores are shared (another user's tests, the hypervisor); a case timed while something else used them
is slower than the machine is, and the load average cannot tell: the benchmark's own client and server
raise it too. So each case is bracketed by two readings, and what the machine spent beyond the benchmark's
processes (this one and everything it started, the stack's PostgreSQL and everything that forked) is
someone else's, reported as a share of the machine.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from pathlib import Path

import psutil


@dataclass(frozen=True)
class Reading:
    at: float  # time.perf_counter()
    busy: float  # CPU-seconds the machine spent busy since boot (user, nice, system, and steal)
    ours: float  # CPU-seconds of the benchmark's processes, their reaped children included


def read(pgdata: Path | None = None) -> Reading:
    """The machine's and the benchmark's CPU now; `pgdata`: the stack's data folder, for its postmaster."""
    machine = psutil.cpu_times()
    roots = [psutil.Process()]
    # no stack yet, or it is stopping: this process's tree is all there is
    with contextlib.suppress(AttributeError, OSError, ValueError, IndexError, psutil.Error):
        roots.append(psutil.Process(int((pgdata / "postmaster.pid").read_text().split()[0])))
    found: dict[int, psutil.Process] = {}
    for root in roots:
        for proc in [root, *_children(root)]:
            found[proc.pid] = proc  # by pid: the postmaster may or may not be this process's descendant
    ours = 0.0
    for proc in found.values():
        try:
            times = proc.cpu_times()
        except psutil.Error:
            continue  # ended between the listing and the reading: a few ticks at most
        # a process's reaped children are in its children_* times and no longer listed: nothing counts twice
        ours += times.user + times.system + times.children_user + times.children_system
    busy = machine.user + machine.nice + machine.system + getattr(machine, "steal", 0.0)
    return Reading(time.perf_counter(), busy, ours)


def _children(proc: psutil.Process) -> list[psutil.Process]:
    try:
        return proc.children(recursive=True)
    except psutil.Error:
        return []


def others_share(before: Reading, after: Reading, cores: int) -> float:
    """The share of the machine (0 to 1) that others used between two readings."""
    wall = after.at - before.at
    if wall <= 0 or cores < 1:
        raise ValueError(f"no time between the readings ({wall} s) or no cores ({cores})")
    others = (after.busy - before.busy) - (after.ours - before.ours)
    return min(1.0, max(0.0, others / (wall * cores)))
