#!/usr/bin/env python3
"""Benchmark mllint against checkov and cfn-lint on the synthetic corpus.

Generates the corpus if missing (benchmarks/corpus/scale-K, see generate_corpus.py),
then measures, on the same files, wall time and peak memory of:

  mllint scan CORPUS --format json      at 1x and 10x (100x with --full), --jobs N and --jobs 1
  mllint scan ONE_FILE                  start-up, median of 5 runs
  checkov -d CORPUS (1x)                its built-in Terraform and CloudFormation checks
  checkov -d CORPUS (1x) --external-checks-dir "$(mllint checkov-dir)" --check 'CKV_MLLINT_*'
                                        mllint's own policies inside checkov (the goal's test),
                                        and whether it fails exactly what mllint finds
  cfn-lint TEMPLATES (1x)               against mllint on the templates alone

checkov and cfn-lint are not mllint dependencies: unless given with --checkov /
--cfn-lint, or found in benchmarks/.venv-tools/ or on PATH, they are installed into
benchmarks/.venv-tools/ with pip. For the bridge, this checkout of mllint is installed
there too (`pip install -e`), so checkov runs the same policies and code as `mllint scan`;
another checkov's environment must already import this checkout.
A tool that cannot be had is reported "not available".
It is a report, not a test: the exit status is 0 even when a goal is missed.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import generate_corpus  # noqa: E402

REPO = HERE.parent
CORPUS = HERE / "corpus"
TOOLS_VENV = HERE / ".venv-tools"
GNU_TIME = Path("/usr/bin/time")
GOAL_SPEEDUP = 20.0  # mllint at least 20x faster than checkov running the same policies
GOAL_STARTUP_S = 0.3  # one-file run
GOAL_TEXT = f"<= {1 / GOAL_SPEEDUP:.2f} ({GOAL_SPEEDUP:.0f}x faster)"
STARTUP_RUNS = 5
SAMPLE_EVERY_S = 0.05  # process-tree memory sampling (about 1 ms of CPU per sample)


# --------------------------------------------------------------------------- measuring


@dataclass
class Run:
    wall: float  # seconds
    cpu: float  # user + system seconds of the whole process tree (steadier than wall time on a busy machine)
    rss_kb: int | None  # peak RSS of the largest process in the tree (GNU time / getrusage)
    tree_kb: int | None  # peak of the summed RSS of the whole process tree, sampled
    code: int
    stderr: str = ""
    stdout: str = ""  # the tail of standard output, when it was not sent to a file


def _tree_rss_kb(root: int, skip_root: bool) -> int:
    """Summed RSS of `root` and its descendants, from /proc (`skip_root`: descendants only)."""
    parents, rss = {}, {}
    page_kb = os.sysconf("SC_PAGE_SIZE") // 1024
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        rss[int(entry)] = int(fields[21]) * page_kb
    children: dict[int, list[int]] = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    total, pending = 0, list(children.get(root, [])) if skip_root else [root]
    while pending:
        pid = pending.pop()
        total += rss.get(pid, 0)
        pending.extend(children.get(pid, []))
    return total


def measure(cmd: list[str], stdout_path: Path | None = None, env: dict | None = None) -> Run:
    """Run `cmd` once; wall time, peak RSS (largest process and whole tree) and exit code."""
    import resource

    with tempfile.TemporaryDirectory(prefix="mllint-bench-") as tmp:
        time_file = Path(tmp) / "time.txt"
        full = [str(GNU_TIME), "-v", "-o", str(time_file), *cmd] if GNU_TIME.exists() else cmd
        stdout = open(stdout_path or Path(tmp) / "stdout.txt", "w+b")
        stderr = open(Path(tmp) / "stderr.txt", "w+b")
        peak = [0]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.Popen(full, stdout=stdout, stderr=stderr, env=env)
        sampling = os.path.isdir("/proc")

        def sample() -> None:
            while proc.poll() is None:
                peak[0] = max(peak[0], _tree_rss_kb(proc.pid, skip_root=GNU_TIME.exists()))  # not GNU time itself
                time.sleep(SAMPLE_EVERY_S)

        sampler = threading.Thread(target=sample, daemon=True)
        if sampling:
            sampler.start()
        code = proc.wait()
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        if sampling:
            sampler.join()
        out = ""
        if stdout_path is None:
            stdout.seek(0)
            out = stdout.read()[-4000:].decode("utf-8", errors="replace")
        stdout.close()
        stderr.seek(0)
        err = stderr.read()[-4000:].decode("utf-8", errors="replace")
        stderr.close()
        rss_kb = None
        if GNU_TIME.exists() and time_file.exists():
            for line in time_file.read_text().splitlines():
                if "Maximum resident set size" in line:
                    rss_kb = int(line.rsplit(":", 1)[1])
                elif "Exit status" in line:
                    code = int(line.rsplit(":", 1)[1])
                elif "Command terminated by signal" in line:
                    code = -int(line.rsplit(" ", 1)[1])
        else:
            rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # max over every child so far
        return Run(wall, cpu, rss_kb, (peak[0] or None) if sampling else None, code, err, out)


# --------------------------------------------------------------------------- the table


@dataclass
class Row:
    name: str
    value: str
    unit: str = ""
    goal: str = ""
    result: str = ""


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *args, **kwargs) -> None:
        self.rows.append(Row(*args, **kwargs))
        row = self.rows[-1]
        print(f"  {row.name}: {row.value} {row.unit}", file=sys.stderr, flush=True)

    def missing(self, name: str, why: str = "not available", goal: str = "") -> None:
        self.add(name, "-", "", goal, why)

    def add_run(self, label: str, run: Run) -> None:
        self.add(f"{label}: wall time", f"{run.wall:.2f}", "s")
        self.add(f"{label}: CPU time (user + system)", f"{run.cpu:.2f}", "s")
        if run.rss_kb is not None:
            self.add(f"{label}: peak RSS, largest process", f"{run.rss_kb / 1024:.0f}", "MiB")
        if run.tree_kb is not None:
            self.add(f"{label}: peak RSS, process tree", f"{run.tree_kb / 1024:.0f}", "MiB")

    def render(self) -> str:
        header = Row("measurement", "value", "unit", "goal", "result")
        rows = [header, *self.rows]
        widths = [max(len(getattr(r, f)) for r in rows) for f in ("name", "value", "unit", "goal", "result")]
        lines = []
        for i, r in enumerate(rows):
            cells = [r.name.ljust(widths[0]), r.value.rjust(widths[1]), r.unit.ljust(widths[2]), r.goal.ljust(widths[3]), r.result]
            lines.append("  ".join(cells).rstrip())
            if i == 0:
                lines.append("  ".join("-" * w for w in widths))
        return "\n".join(lines)


def goal_result(value: float, limit: float) -> str:
    """'met' or 'missed (Nx the goal)' for a figure that should stay at or below `limit`."""
    return "met" if value <= limit else f"missed ({value / limit:.1f}x the goal)"


# --------------------------------------------------------------------------- tools and corpus


def corpus(scale: int, modules: int, templates: int) -> Path:
    """The corpus at `scale`, generated when missing or made with other settings."""
    out = CORPUS / f"scale-{scale}"
    want = {"generator": generate_corpus.GENERATOR_VERSION, "seed": 1, "modules": modules * scale, "templates": templates * scale}
    have = generate_corpus.read_manifest(out) or {}
    if any(have.get(k) != v for k, v in want.items()):
        print(f"generating corpus {out} ...", file=sys.stderr, flush=True)
        generate_corpus.generate(out, want["modules"], want["templates"], seed=1)
    return out


def version_of(tool: str) -> str:
    try:
        out = subprocess.run([tool, "--version"], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[-1] if text else "?"


def named(version: str, name: str) -> str:
    """`checkov 3.3.30` whether the tool prints its name or not."""
    return version if version.startswith(name) else f"{name} {version}"


def git_revision() -> str:
    """The checked-out commit, `+changes` when the work tree differs from it."""
    try:
        head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown commit"
    return f"commit {head}{'+changes' if dirty else ''}"


def find_tool(name: str, given: str | None, install: bool) -> str | None:
    """`given`, else benchmarks/.venv-tools/bin/NAME, else NAME on PATH, else install it there."""
    if given:
        return given if shutil.which(given) else None
    in_venv = TOOLS_VENV / "bin" / name
    if in_venv.exists():
        return str(in_venv)
    on_path = shutil.which(name)
    if on_path:
        return on_path
    if install and install_tools():
        return str(in_venv) if in_venv.exists() else None
    return None


_install_tried = False


def install_tools() -> bool:
    """`python -m venv benchmarks/.venv-tools && pip install checkov cfn-lint` (once per run)."""
    global _install_tried
    if _install_tried:
        return False
    _install_tried = True
    print(f"installing checkov and cfn-lint into {TOOLS_VENV} (a few minutes) ...", file=sys.stderr, flush=True)
    try:
        if not (TOOLS_VENV / "bin" / "python").exists():
            subprocess.run([sys.executable, "-m", "venv", str(TOOLS_VENV)], check=True)
        pip = [str(TOOLS_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, "checkov", "cfn-lint"], check=True, timeout=1800)
        return True
    except (OSError, subprocess.SubprocessError) as exc:
        print(f"could not install checkov / cfn-lint: {exc}", file=sys.stderr)
        return False


def tool_env() -> dict[str, str]:
    """This environment less what would make a tool's Python import other code than its own."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}


def tool_python(tool: str) -> str | None:
    """The Python that runs the console script `tool`: its virtualenv's, else its `#!` line's."""
    exe = Path(shutil.which(tool) or tool)
    beside = exe.parent / "python"
    if beside.exists():
        return str(beside)
    try:
        with exe.open("rb") as handle:
            first = handle.readline().decode("utf-8", errors="replace")
    except OSError:
        return None
    words = first[2:].split() if first.startswith("#!") else []
    if words and Path(words[0]).name == "env":
        words = words[1:]
    return words[0] if words else None


BRIDGE_DIR = REPO / "linter" / "checkov_bridge" / "external"  # what this checkout's `mllint checkov-dir` prints


def bridge_checks_dir(checkov: str, install: bool) -> tuple[str | None, str]:
    """`mllint checkov-dir` in checkov's own environment, when that environment imports this
    checkout of mllint; installed there (`pip install -e REPO`) when it is benchmarks/.venv-tools.
    Else None and why."""
    python = tool_python(checkov)
    if python is None:
        return None, "cannot tell which Python runs checkov"

    def checks_dir() -> Path | None:
        try:
            out = subprocess.run([python, "-m", "mllint", "checkov-dir"], capture_output=True, text=True,
                                 timeout=120, env=tool_env())
        except (OSError, subprocess.SubprocessError):
            return None
        return Path(out.stdout.strip()) if out.returncode == 0 and out.stdout.strip() else None

    found = checks_dir()
    if found is not None and found.resolve() == BRIDGE_DIR.resolve():
        return str(found), ""
    ours = Path(python).parent.parent.resolve() == TOOLS_VENV.resolve()
    if not (install and ours):
        why = f"checkov's environment imports another mllint ({found})" if found else "no mllint in checkov's environment"
        return None, f"{why}: pip install -e {REPO} there"
    print(f"installing this checkout of mllint into {TOOLS_VENV} (pip install -e) ...", file=sys.stderr, flush=True)
    try:
        subprocess.run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-e", str(REPO)],
                       check=True, timeout=1800, env=tool_env())
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"could not install mllint next to checkov: {exc}"
    found = checks_dir()
    if found is not None and found.resolve() == BRIDGE_DIR.resolve():
        return str(found), ""
    return None, f"after pip install -e, checkov's environment still gives {found} for mllint checkov-dir"


def find_mllint(given: str | None) -> str:
    if given:
        return given
    in_repo = REPO / ".venv" / "bin" / "mllint"
    return str(in_repo) if in_repo.exists() else (shutil.which("mllint") or "mllint")


# --------------------------------------------------------------------------- the benchmarks


def measure_best(cmd: list[str], repeat: int, stdout_path: Path | None = None, env: dict | None = None) -> Run:
    """The fastest of `repeat` runs: other work on the machine only ever adds time."""
    return min((measure(cmd, stdout_path, env) for _ in range(max(1, repeat))), key=lambda r: r.wall)


def bench_mllint(report: Report, mllint: str, path: Path, label: str, jobs: int, repeat: int,
                 counts: bool = False) -> tuple[Run, dict | None]:
    """The fastest run and mllint's JSON report (of the last run: the findings do not vary)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        run = measure_best([mllint, "scan", str(path), "--format", "json", "--jobs", str(jobs)], repeat, out)
        report.add_run(label, run)
        try:
            summary = json.loads(out.read_text())
        except (OSError, ValueError):
            report.notes.append(f"{label}: no JSON report (exit {run.code}); stderr: {run.stderr.strip()[-300:]}")
            return run, None
    if run.code not in (0, 1):
        errors = summary.get("errors", [])
        first = f"; first: {errors[0]['file']}: {errors[0]['message']}" if errors else ""
        report.notes.append(f"{label}: exit {run.code}, {len(errors)} load error(s){first}")
    if counts:
        s = summary["summary"]
        report.add(f"{label}: findings", str(s["error"] + s["warning"] + s["info"]), "count")
        report.add(f"{label}: load errors", str(s["errors"]), "count")
    return run, summary


def bench_startup(report: Report, mllint: str, path: Path, label: str, goal: bool) -> None:
    cmd = [mllint, "scan", str(path)]
    # Warm-up: the page cache, and byte-compiled modules as `pip install` leaves them
    # (an editable install under PYTHONDONTWRITEBYTECODE=1 would recompile on every run).
    measure(cmd, env={k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"})
    runs = [measure(cmd) for _ in range(STARTUP_RUNS)]
    median = statistics.median(r.wall for r in runs)
    name = f"{label}: wall time (median of {STARTUP_RUNS})"
    if goal:
        report.add(name, f"{median:.3f}", "s", f"< {GOAL_STARTUP_S} s", goal_result(median, GOAL_STARTUP_S))
    else:
        report.add(name, f"{median:.3f}", "s")
    report.add(f"{label}: CPU time (median of {STARTUP_RUNS})", f"{statistics.median(r.cpu for r in runs):.3f}", "s")
    if runs[0].code not in (0, 1):
        said = (runs[0].stderr.strip() or runs[0].stdout.strip()).splitlines()
        report.notes.append(f"{label}: exit {runs[0].code}: {said[-1][-300:] if said else ''}")


def bench_checkov(report: Report, checkov: str | None, path: Path, repeat: int) -> Run | None:
    label = "checkov 1x (its built-in checks)"
    if checkov is None:
        report.missing(label)
        return None
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "checkov.json"
        cmd = [checkov, "-d", str(path), "--quiet", "--compact", "-o", "json",
               "--framework", "terraform", "cloudformation", "--skip-download"]
        run = measure_best(cmd, repeat, out)
        report.add_run(label, run)
        try:
            results = json.loads(out.read_text())
        except (OSError, ValueError):
            results = []
    if run.code not in (0, 1):
        report.notes.append(f"checkov: exit {run.code}: {run.stderr.strip()[-300:]}")
    results = results if isinstance(results, list) else [results]
    summaries = [r.get("summary", {}) for r in results if isinstance(r, dict)]
    if summaries:
        report.add(f"{label}: resources", str(sum(s.get("resource_count", 0) for s in summaries)), "count")
        report.add(f"{label}: parsing errors", str(sum(s.get("parsing_errors", 0) for s in summaries)), "count")
    return run


def checkov_id(policy_id: str) -> str:
    """ML101 -> CKV_MLLINT_101, a custom pack's ACME7 -> CKV_MLLINT_ACME7 (as mllint.checkov_bridge.verdicts)."""
    match = re.fullmatch(r"ML(\d+)", policy_id)
    return f"CKV_MLLINT_{match.group(1) if match else policy_id}"


def bridged_policies(mllint: str) -> set[str] | None:
    """The policies that become checkov checks: those that judge resources (`mllint policies`; not
    the suppression diagnostics ML001 / ML002)."""
    try:
        out = subprocess.run([mllint, "policies", "--format", "json"], capture_output=True, text=True, timeout=120, check=True)
        return {p["id"] for p in json.loads(out.stdout) if p.get("kinds")}
    except (OSError, subprocess.SubprocessError, ValueError, KeyError, TypeError):
        return None


def scan_root(path: Path) -> Path:
    """What `mllint scan PATH` makes file names relative to (mllint.cli._scan_root, one path)."""
    cwd, path = Path.cwd().resolve(), path.resolve()
    return cwd if path == cwd or cwd in path.parents else path


def mllint_failed(summary: dict, path: Path, policies: set[str]) -> set[tuple[str, str, str]]:
    """(checkov id, absolute file, address) of every unsuppressed finding of a bridged policy."""
    root = scan_root(path)
    return {(checkov_id(f["policy"]["id"]), str((root / f["file"]).resolve()), f["address"])
            for f in summary.get("findings", []) if f["policy"]["id"] in policies and not f.get("suppressed")}


def checkov_failed(results: list) -> set[tuple[str, str, str]]:
    """(check id, absolute file, address) of every FAILED check in checkov's JSON output; a
    CloudFormation resource is `AWS::Type.LogicalId` there, the logical id in mllint."""
    failed = set()
    for result in results:
        if not isinstance(result, dict):
            continue
        terraform = result.get("check_type") == "terraform"
        for record in result.get("results", {}).get("failed_checks", []):
            resource = record["resource"]
            address = resource if terraform else resource.split(".", 1)[-1]
            failed.add((record["check_id"], str(Path(record["file_abs_path"]).resolve()), address))
    return failed


def bench_checkov_with_mllint_policies(report: Report, checkov: str | None, install: bool, mllint: str, path: Path,
                                       mllint_run: Run, mllint_summary: dict | None, repeat: int) -> str:
    """checkov running only mllint's policies (the bridge) on `path`: the test of the speed goal, and
    whether checkov fails exactly the (check, file, resource) that `mllint scan` finds.
    Returns how checkov got mllint, for the header."""
    label = "checkov 1x (mllint policies)"
    ratio = "mllint / checkov (mllint policies) 1x, wall time"
    checks_dir, why = bridge_checks_dir(checkov, install) if checkov else (None, "not available")
    if checks_dir is None:
        report.missing(label, why)
        report.missing(ratio, why, goal=GOAL_TEXT)
        return f"mllint in checkov: {why}"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "checkov.json"
        cmd = [checkov, "-d", str(path), "--quiet", "--compact", "-o", "json",
               "--framework", "terraform", "cloudformation", "--skip-download",
               "--external-checks-dir", checks_dir, "--check", "CKV_MLLINT_*"]
        run = measure_best(cmd, repeat, out, env=tool_env())
        report.add_run(label, run)
        try:
            results = json.loads(out.read_text())
        except (OSError, ValueError):
            results = None
    if run.code not in (0, 1):
        report.notes.append(f"{label}: exit {run.code}: {run.stderr.strip()[-300:]}")
    bridge_errors = [line for line in run.stderr.splitlines() if "mllint: error:" in line]
    if bridge_errors:
        report.notes.append(f"{label}: the bridge logged {len(bridge_errors)} error(s); last: {bridge_errors[-1][-300:]}")
    ratio_row(report, ratio, mllint_run, run, GOAL_TEXT, 1 / GOAL_SPEEDUP, indicative=False)

    policies = bridged_policies(mllint)
    if results is None or mllint_summary is None or policies is None:
        report.missing("verdicts: checkov (mllint policies) vs mllint scan, 1x", "not compared (no JSON output)")
        return f"mllint in checkov: {checks_dir}"
    theirs = checkov_failed(results if isinstance(results, list) else [results])
    ours = mllint_failed(mllint_summary, path, policies)
    report.add(f"{label}: FAILED (check, file, resource)", str(len(theirs)), "count")
    report.add("mllint 1x: findings of the same policies, unsuppressed", str(len(ours)), "count")
    only_checkov, only_mllint = sorted(theirs - ours), sorted(ours - theirs)
    same = "identical" if not only_checkov and not only_mllint else \
        f"differ: {len(only_checkov)} only in checkov, {len(only_mllint)} only in mllint"
    report.add("verdicts: checkov (mllint policies) vs mllint scan, 1x", same, "", "identical sets",
               "met" if same == "identical" else "missed")
    for side, keys in (("only in checkov", only_checkov), ("only in mllint", only_mllint)):
        for check, file, address in keys[:10]:
            report.notes.append(f"verdicts {side}: {check} {os.path.relpath(file)} {address}")
        if len(keys) > 10:
            report.notes.append(f"verdicts {side}: ... and {len(keys) - 10} more")
    return f"mllint in checkov: this checkout, {checks_dir}"


def ratio_row(report: Report, name: str, mllint: Run, other: Run | None, goal: str = "",
              limit: float | None = None, indicative: bool = False) -> None:
    if other is None or other.wall <= 0:
        report.missing(name, goal=goal)
        return
    ratio = mllint.wall / other.wall
    result = f"mllint {other.wall / mllint.wall:.1f}x faster"
    if limit is not None:
        result = f"{goal_result(ratio, limit)}{' (indicative*)' if indicative else ''}: {result}"
    report.add(name, f"{ratio:.3f}", "ratio", goal, result)
    if mllint.cpu > 0 and other.cpu > 0:
        report.add(name.replace("wall time", "CPU time"), f"{mllint.cpu / other.cpu:.3f}", "ratio", "",
                   f"mllint uses {other.cpu / mllint.cpu:.1f}x less CPU")
    if mllint.tree_kb and other.tree_kb:
        report.add(name.replace("wall time", "peak RSS of the tree"), f"{mllint.tree_kb / other.tree_kb:.3f}", "ratio")


def describe_corpus(path: Path) -> str:
    m = generate_corpus.read_manifest(path)
    return (f"{m['modules']} Terraform modules + {m['templates']} CloudFormation templates "
            f"({m['files']} files, {m['bytes'] / 1e6:.1f} MB)")


def cpu_seconds() -> tuple[float, float, float] | None:
    """(wall clock, CPU seconds the whole machine was busy or stolen, CPU seconds of this process and its children)."""
    import resource

    try:
        with open("/proc/stat") as handle:
            user, nice, system, idle, iowait, irq, softirq, steal = map(int, handle.readline().split()[1:9])
    except (OSError, ValueError):
        return None
    busy = (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
    ours = sum(getattr(resource.getrusage(who), f) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
               for f in ("ru_utime", "ru_stime"))
    return time.monotonic(), busy, ours


def other_work(before, after) -> float | None:
    """The share of the machine's CPU time that other processes (or the hypervisor) took meanwhile."""
    if before is None or after is None or after[0] <= before[0]:
        return None
    capacity = (after[0] - before[0]) * (os.cpu_count() or 1)
    return max(0.0, ((after[1] - before[1]) - (after[2] - before[2])) / capacity)


def machine() -> str:
    try:
        with open("/proc/meminfo") as handle:
            kb = int(handle.readline().split()[1])
        ram = f"{kb / 1024 / 1024:.1f} GiB RAM"
    except (OSError, ValueError, IndexError):
        ram = "RAM unknown"
    return f"{os.cpu_count()} CPUs, {ram}, {platform.system()} {platform.machine()}, Python {platform.python_version()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="also scan the 100x corpus (20,000 + 20,000 files; slow)")
    parser.add_argument("--no-10x", dest="ten", action="store_false", help="skip the 10x corpus")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="mllint --jobs (default: CPU count, %(default)s)")
    parser.add_argument("--modules", type=int, default=200, help="Terraform modules at 1x (default: 200)")
    parser.add_argument("--templates", type=int, default=200, help="CloudFormation templates at 1x (default: 200)")
    parser.add_argument("--mllint", help="mllint executable (default: the repo's .venv, else PATH)")
    parser.add_argument("--checkov", help="checkov executable (default: benchmarks/.venv-tools, PATH, or install)")
    parser.add_argument("--cfn-lint", dest="cfn_lint", help="cfn-lint executable (default: as for checkov)")
    parser.add_argument("--no-install", dest="install", action="store_false",
                        help="never pip-install checkov / cfn-lint, nor this checkout of mllint next to checkov")
    parser.add_argument("--repeat", type=int, default=1, metavar="R",
                        help="runs per corpus scan and tool run; the fastest is reported (default: 1)")
    parser.add_argument("--no-tools", dest="tools", action="store_false", help="measure mllint only")
    args = parser.parse_args(argv)

    mllint = find_mllint(args.mllint)
    scales = [1] + ([10] if args.ten else []) + ([100] if args.full else [])
    corpora = {k: corpus(k, args.modules, args.templates) for k in scales}
    checkov = find_tool("checkov", args.checkov, args.install) if args.tools else None
    cfn_lint = find_tool("cfn-lint", args.cfn_lint, args.install) if args.tools else None

    one_x = corpora[1]
    templates = sorted((one_x / "cloudformation").iterdir())
    small_template = min((p for p in templates if p.suffix == ".yaml"), key=lambda p: (p.stat().st_size, p.name))
    small_module = min((one_x / "terraform").iterdir(), key=lambda p: (sum(f.stat().st_size for f in p.iterdir()), p.name))

    report = Report()
    revision = git_revision()
    cpu_before = cpu_seconds()
    print("measuring ...", file=sys.stderr, flush=True)
    runs, summaries = {}, {}
    for k in scales:
        runs[k], summaries[k] = bench_mllint(report, mllint, corpora[k], f"mllint {k}x, --jobs {args.jobs}", args.jobs, args.repeat, counts=True)
    if args.jobs != 1:
        bench_mllint(report, mllint, one_x, "mllint 1x, --jobs 1", 1, args.repeat)
    bench_startup(report, mllint, small_template, f"mllint one template ({small_template.stat().st_size} B)", goal=True)
    bench_startup(report, mllint, small_module, "mllint one Terraform module", goal=False)

    if args.tools:
        checkov_run = bench_checkov(report, checkov, one_x, args.repeat)
        ratio_row(report, "mllint / checkov (built-in checks) 1x, wall time", runs[1], checkov_run,
                  GOAL_TEXT, 1 / GOAL_SPEEDUP, indicative=True)
        bridge = bench_checkov_with_mllint_policies(report, checkov, args.install, mllint, one_x, runs[1], summaries[1],
                                                    args.repeat)
        cfn_templates, _ = bench_mllint(report, mllint, one_x / "cloudformation", "mllint 1x templates only", args.jobs, args.repeat)
        cfn_run = None
        if cfn_lint is None:
            report.missing("cfn-lint 1x templates")
        else:
            cfn_run = measure_best([cfn_lint, *map(str, templates)], args.repeat)
            if cfn_run.code < 0 or cfn_run.code >= 32:  # cfn-lint's exit code is a bit mask of 2/4/8/16
                report.notes.append(f"cfn-lint: exit {cfn_run.code}: {cfn_run.stderr.strip()[-300:]}")
            report.add_run("cfn-lint 1x templates", cfn_run)
        ratio_row(report, "mllint / cfn-lint 1x templates, wall time", cfn_templates, cfn_run)

    others = other_work(cpu_before, cpu_seconds())
    print(f"mllint benchmark, {date.today().isoformat()}: {machine()}")
    if others is not None:
        print(f"other processes used {others:.0%} of the machine's CPU time while this ran")
        if others > 0.10:
            advice = "rerun on a quiet machine" + (", or with --repeat 3 (the fastest run is kept)" if args.repeat < 3 else "")
            report.notes.append(f"other work used {others:.0%} of the CPU time during the run: times are inflated; {advice}")
    print(f"{named(version_of(mllint), 'mllint')} at {revision} ({mllint}), --jobs {args.jobs}")
    if args.tools:
        for name, tool in (("checkov", checkov), ("cfn-lint", cfn_lint)):
            print(f"{named(version_of(tool), name)} ({tool})" if tool else f"{name}: not available")
        print(bridge)
    for k in scales:
        print(f"corpus {k}x: {describe_corpus(corpora[k])}")
    print(f"peak RSS: largest process from {'GNU time -v' if GNU_TIME.exists() else 'getrusage(RUSAGE_CHILDREN)'}; "
          f"process tree = sum over the tree, sampled every {SAMPLE_EVERY_S * 1000:.0f} ms")
    print()
    print(report.render())
    if args.tools:
        print(f"\n* goal: {GOAL_TEXT} on the same policies. checkov's built-in checks are not mllint's policies, "
              "so that row only indicates the gap; the row with mllint's policies inside checkov tests the goal.")
    if report.notes:
        print()
        print("notes:")
        for note in report.notes:
            print(f"  - {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
