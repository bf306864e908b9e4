"""Run a command once and measure it: wall time, CPU time and memory, per process and for its tree.

Memory is given four ways, because "peak memory" of a program with worker processes
has no single honest meaning:

  main     peak RSS of the command's own process (its VmHWM, read from /proc until it exits)
  largest  peak RSS of the largest single process (GNU `time -v`, which reports the maximum
           over the processes it waited for; else the largest VmHWM seen)
  tree     peak of the summed RSS of the command and all its descendants, sampled: pages that
           forked workers share with their parent are counted once per process
  tree PSS peak of the summed PSS (proportional set size) over the tree, sampled: a shared page
           is split among the processes sharing it, so the sum is what the tree really occupies

Samples are taken every SAMPLE_EVERY_S; a peak shorter than that can be missed by the two
tree figures (never by main and largest, which the kernel keeps as high-water marks).
"""
from __future__ import annotations

import os
import resource
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

GNU_TIME = Path("/usr/bin/time")
SAMPLE_EVERY_S = 0.05


@dataclass
class Run:
    wall: float  # seconds
    cpu: float  # user + system seconds of the whole process tree (steadier than wall time on a busy machine)
    main_kb: int | None  # peak RSS of the command's own process
    largest_kb: int | None  # peak RSS of the largest process in the tree
    tree_kb: int | None  # peak of the summed RSS of the tree, sampled
    tree_pss_kb: int | None  # peak of the summed PSS of the tree, sampled
    processes: int  # most processes of the tree alive at one sample (the command and its workers)
    distinct: int  # processes of the tree seen over the whole run
    code: int
    stderr: str = ""
    stdout: str = ""  # the tail of standard output, when it was not sent to a file


def _status_kb(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of `pid` in KiB, 0 when gone."""
    rss = hwm = 0
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
                elif line.startswith("VmHWM:"):
                    hwm = int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return rss, hwm


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii", errors="replace") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    return children


def _tree(root: int) -> list[int]:
    """`root` and its descendants."""
    children = _children()
    found, pending = [], [root]
    while pending:
        pid = pending.pop()
        found.append(pid)
        pending.extend(children.get(pid, []))
    return found


class _Sampler:
    """Samples the tree under the measured command every SAMPLE_EVERY_S until it exits."""

    def __init__(self, proc: subprocess.Popen, wrapped: bool):
        self.proc, self.wrapped = proc, wrapped
        self.main_pid: int | None = None if wrapped else proc.pid
        self.tree_kb = self.pss_kb = self.processes = 0
        self.hwm: dict[int, int] = {}
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while self.proc.poll() is None:
            self.sample()
            time.sleep(SAMPLE_EVERY_S)

    def sample(self) -> None:
        if self.main_pid is None:  # the command is GNU time's child
            below = [pid for pid in _tree(self.proc.pid) if pid != self.proc.pid]
            if not below:
                return
            self.main_pid = min(below)
        pids = _tree(self.main_pid)
        rss_sum = pss_sum = 0
        for pid in pids:
            rss, hwm = _status_kb(pid)
            rss_sum += rss
            pss_sum += _pss_kb(pid)
            if hwm:
                self.hwm[pid] = max(self.hwm.get(pid, 0), hwm)
        self.tree_kb = max(self.tree_kb, rss_sum)
        self.pss_kb = max(self.pss_kb, pss_sum)
        self.processes = max(self.processes, sum(1 for pid in pids if pid in self.hwm))


def measure(cmd: list[str], stdout_path: Path | None = None, env: dict | None = None) -> Run:
    """Run `cmd` once: wall time, CPU time, memory (see the module docstring) and exit code."""
    sampling = os.path.isdir("/proc")
    wrapped = GNU_TIME.exists()
    with tempfile.TemporaryDirectory(prefix="mllint-bench-") as tmp:
        time_file = Path(tmp) / "time.txt"
        full = [str(GNU_TIME), "-v", "-o", str(time_file), *cmd] if wrapped else cmd
        stdout = open(stdout_path or Path(tmp) / "stdout.txt", "w+b")
        stderr = open(Path(tmp) / "stderr.txt", "w+b")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.Popen(full, stdout=stdout, stderr=stderr, env=env)
        sampler = _Sampler(proc, wrapped)
        if sampling:
            sampler.thread.start()
        code = proc.wait()
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        if sampling:
            sampler.thread.join()
        out = ""
        if stdout_path is None:
            stdout.seek(0)
            out = stdout.read()[-4000:].decode("utf-8", errors="replace")
        stdout.close()
        stderr.seek(0)
        err = stderr.read()[-4000:].decode("utf-8", errors="replace")
        stderr.close()
        largest = max(sampler.hwm.values(), default=0) or None
        if wrapped and time_file.exists():
            for line in time_file.read_text().splitlines():
                if "Maximum resident set size" in line:
                    largest = max(largest or 0, int(line.rsplit(":", 1)[1]))
                elif "Exit status" in line:
                    code = int(line.rsplit(":", 1)[1])
                elif "Command terminated by signal" in line:
                    code = -int(line.rsplit(" ", 1)[1])
        elif not sampling:
            largest = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # max over every child so far
        main = sampler.hwm.get(sampler.main_pid) if sampler.main_pid is not None else None
        return Run(wall, cpu, main, largest, sampler.tree_kb or None, sampler.pss_kb or None,
                   sampler.processes, len(sampler.hwm), code, err, out)


def measure_best(cmd: list[str], repeat: int, stdout_path: Path | None = None, env: dict | None = None) -> Run:
    """The fastest of `repeat` runs: other work on the machine only ever adds time."""
    return min((measure(cmd, stdout_path, env) for _ in range(max(1, repeat))), key=lambda r: r.wall)
