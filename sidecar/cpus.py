"""How many CPUs this process may use: what the worker pools and admission size themselves by.

`os.cpu_count()` is the host's: in a container limited to 2 CPUs on a 64-core node it says 64, and
64 worker threads then fight over 2 CPUs. The answer here is the CPU affinity (cpusets), capped by
the CPU quota of the process's cgroup and of every cgroup above it (cgroup v2 `cpu.max`, v1
`cpu.cfs_quota_us` / `cpu.cfs_period_us`: a Kubernetes CPU limit, `docker run --cpus`), rounded up.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path

PROC_CGROUP = Path("/proc/self/cgroup")
CGROUP_ROOT = Path("/sys/fs/cgroup")


def available_cpus(proc_cgroup: Path = PROC_CGROUP, cgroup_root: Path = CGROUP_ROOT) -> int:
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    quota = cgroup_cpu_quota(proc_cgroup, cgroup_root)
    return max(1, min(affinity, math.ceil(quota)) if quota is not None else affinity)


def cgroup_cpu_quota(proc_cgroup: Path = PROC_CGROUP, cgroup_root: Path = CGROUP_ROOT) -> float | None:
    """The tightest CPU quota (in CPUs) on this process's cgroup path, v2 or v1; None when unlimited."""
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        return None
    limits: list[float] = []
    for line in lines:
        _, controllers, path = [*line.split(":", 2), "", ""][:3]
        if controllers == "":  # v2: one unified hierarchy
            base = cgroup_root if (cgroup_root / "cgroup.controllers").exists() else cgroup_root / "unified"
            limits += _walk(base, path, _v2_limit)
        elif "cpu" in controllers.split(","):  # v1: the cpu controller's own hierarchy
            mounts = [cgroup_root / n for n in ("cpu", "cpu,cpuacct", "cpuacct,cpu") if (cgroup_root / n).is_dir()]
            if mounts:
                limits += _walk(mounts[0], path, _v1_limit)
    return min(limits) if limits else None


def _walk(base: Path, path: str, read: Callable[[Path], float | None]) -> list[float]:
    """The limit of the cgroup at `path` below `base` and of each of its parents up to `base`."""
    found = []
    directory = base / path.lstrip("/")
    while True:
        limit = read(directory)
        if limit is not None:
            found.append(limit)
        if directory == base or base not in directory.parents:
            break
        directory = directory.parent
    return found


def _v2_limit(directory: Path) -> float | None:
    try:
        quota, period = (directory / "cpu.max").read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        return None


def _v1_limit(directory: Path) -> float | None:
    try:
        quota = int((directory / "cpu.cfs_quota_us").read_text())
        period = int((directory / "cpu.cfs_period_us").read_text())
        return None if quota <= 0 or period <= 0 else quota / period
    except (OSError, ValueError):
        return None
