"""available_cpus: the CPU affinity capped by the cgroup CPU quota, read from cgroup trees laid out as
the kernel lays them out (v2 in a container and nested under a pod, v1 with cpu,cpuacct)."""

from __future__ import annotations

import os
from pathlib import Path

from sidecar.cpus import available_cpus, cgroup_cpu_quota

AFFINITY = len(os.sched_getaffinity(0))


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_a_container_limit_on_cgroup_v2_caps_the_cpus(tmp_path: Path) -> None:
    proc, root = tmp_path / "cgroup", tmp_path / "fs"
    _write(proc, "0::/\n")
    _write(root / "cgroup.controllers", "cpu memory\n")
    _write(root / "cpu.max", "150000 100000\n")
    assert cgroup_cpu_quota(proc, root) == 1.5
    assert available_cpus(proc, root) == min(AFFINITY, 2)  # rounded up
    _write(root / "cpu.max", "100000 100000\n")
    assert available_cpus(proc, root) == 1
    _write(root / "cpu.max", "max 100000\n")
    assert cgroup_cpu_quota(proc, root) is None and available_cpus(proc, root) == AFFINITY


def test_the_tightest_limit_on_the_path_counts(tmp_path: Path) -> None:
    proc, root = tmp_path / "cgroup", tmp_path / "fs"
    _write(proc, "0::/kubepods/pod1/c1\n")
    _write(root / "cgroup.controllers", "cpu\n")
    _write(root / "kubepods" / "cpu.max", "max 100000\n")
    _write(root / "kubepods" / "pod1" / "cpu.max", "50000 100000\n")
    _write(root / "kubepods" / "pod1" / "c1" / "cpu.max", "max 100000\n")
    assert cgroup_cpu_quota(proc, root) == 0.5
    assert available_cpus(proc, root) == 1


def test_cgroup_v1_quota_and_unlimited(tmp_path: Path) -> None:
    proc, root = tmp_path / "cgroup", tmp_path / "fs"
    _write(proc, "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n0::/\n")
    group = root / "cpu,cpuacct" / "docker" / "abc"
    _write(group / "cpu.cfs_quota_us", "100000\n")
    _write(group / "cpu.cfs_period_us", "100000\n")
    assert cgroup_cpu_quota(proc, root) == 1.0
    assert available_cpus(proc, root) == 1
    _write(group / "cpu.cfs_quota_us", "-1\n")
    assert cgroup_cpu_quota(proc, root) is None


def test_no_cgroup_information_leaves_the_affinity(tmp_path: Path) -> None:
    assert cgroup_cpu_quota(tmp_path / "missing", tmp_path) is None
    assert available_cpus(tmp_path / "missing", tmp_path) == AFFINITY
    # This machine, as it is: never more than its affinity, never less than one.
    assert 1 <= available_cpus() <= AFFINITY
