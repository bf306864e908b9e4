#!/usr/bin/env python3
"""Benchmark mllint against checkov and cfn-lint on the synthetic corpus.

Generates the corpus if missing (benchmarks/corpus/scale-K, see generate_corpus.py),
then measures, on the same files, wall time, CPU time and peak memory (per process and
for the process tree, see measure.py) of:

  mllint scan CORPUS --format json      at each --scales (1x, 10x, 100x): time per file
                                        (linearity), memory, findings
  parse_floor.py CORPUS                 discover + load the same files in the same worker
                                        set-up and nothing else; scan / floor
  mllint scan CORPUS --jobs 1           against --jobs N (1x, 10x), and the default --jobs:
                                        how many worker processes it really runs
  mllint scan ONE_FILE                  start-up, median of 5 runs; heavy imports (-X importtime)
  checkov -d CORPUS (1x)                its built-in Terraform and CloudFormation checks
  checkov -d CORPUS (1x) --external-checks-dir "$(mllint checkov-dir)" --check 'CKV_MLLINT_*'
                                        mllint's own policies inside checkov (the goal's test),
                                        and whether it fails exactly what mllint finds
  checkov -d CORPUS (1x) --check 'CKV_MLLINT_*'
                                        no check at all: checkov's own start-up, parsing, graph
  cfn-lint TEMPLATES (1x)               against mllint on the templates alone

checkov runs with its update check and guideline download off (CHECKOV_ENV), so that
it is timed on the files alone. checkov and cfn-lint are not mllint dependencies: unless given with --checkov /
--cfn-lint, or found in benchmarks/.venv-tools/ or on PATH, they are installed into
benchmarks/.venv-tools/ with pip. For the bridge, this checkout of mllint is installed
there too (`pip install -e`), so checkov runs the same policies and code as `mllint scan`;
another checkov's environment must already import this checkout.
A tool that cannot be had is reported "not available".
--write-doc puts the figures into docs/performance.md (between its markers).
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
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import generate_corpus  # noqa: E402
from measure import GNU_TIME, SAMPLE_EVERY_S, Run, measure, measure_best  # noqa: E402

REPO = HERE.parent
CORPUS = HERE / "corpus"
TOOLS_VENV = HERE / ".venv-tools"
DOC = REPO / "docs" / "performance.md"
DOC_BEGIN, DOC_END = "<!-- figures: begin (benchmarks/run.py --write-doc) -->", "<!-- figures: end -->"
GOAL_SPEEDUP = 20.0  # mllint at least 20x faster than checkov running the same policies
GOAL_STARTUP_S = 0.3  # one-file run
GOAL_FLOOR_RATIO = 1.5  # a scan at most 1.5x the time of discovering and loading the same files
GOAL_MEMORY_MIB = 150  # peak memory on a few thousand files (the 10x corpus)
GOAL_TEXT = f"<= {1 / GOAL_SPEEDUP:.2f} ({GOAL_SPEEDUP:.0f}x faster)"
STARTUP_RUNS = 5
# Modules a one-file run should not import when it does not need them (python -X importtime).
HEAVY_MODULES = ("tfparse", "checkov", "jsonschema", "yaml", "mllint.report.json_report", "mllint.report.sarif",
                 "mllint.report.junit", "mllint.report.github", "mllint.loaders.terraform", "multiprocessing")
# checkov's own network use and banner, off so that it is timed on the files alone.
CHECKOV_ENV = {"CKV_SKIP_PACKAGE_UPDATE_CHECK": "true", "BC_SKIP_MAPPING": "TRUE", "LOG_LEVEL": "WARNING"}


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

    def add_run(self, label: str, run: Run, memory_goal: bool = False) -> None:
        self.add(f"{label}: wall time", f"{run.wall:.2f}", "s")
        self.add(f"{label}: CPU time (user + system, all processes)", f"{run.cpu:.2f}", "s")
        goal = f"< {GOAL_MEMORY_MIB} MiB" if memory_goal else ""
        for name, kb, with_goal in (("main process", run.main_kb, True), ("largest process", run.largest_kb, True),
                                    ("process tree, RSS summed", run.tree_kb, False),
                                    ("process tree, PSS summed", run.tree_pss_kb, True)):
            if kb is not None:
                mib = kb / 1024
                self.add(f"{label}: peak memory, {name}", f"{mib:.0f}", "MiB", goal if with_goal else "",
                         goal_result(mib, GOAL_MEMORY_MIB) if goal and with_goal else "")
        if run.distinct:
            self.add(f"{label}: processes at once (most) / over the run", f"{run.processes} / {run.distinct}", "count")

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

    def markdown(self) -> str:
        def cell(text: str) -> str:
            return text.replace("|", "\\|")

        lines = ["| measurement | value | unit | goal | result |", "| --- | ---: | --- | --- | --- |"]
        lines += [f"| {cell(r.name)} | {cell(r.value)} | {r.unit} | {cell(r.goal)} | {cell(r.result)} |" for r in self.rows]
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


def python_of(mllint: str) -> str:
    """The Python that runs `mllint` (for the parse floor and -X importtime)."""
    return tool_python(mllint) or sys.executable


def bench_mllint(report: Report, mllint: str, path: Path, label: str, jobs: int | None, repeat: int,
                 counts: bool = False, memory_goal: bool = False) -> tuple[Run, dict | None]:
    """The fastest run and mllint's JSON report (of the last run: the findings do not vary).
    `jobs` None: mllint's default."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        cmd = [mllint, "scan", str(path), "--format", "json"] + (["--jobs", str(jobs)] if jobs else [])
        run = measure_best(cmd, repeat, out)
        report.add_run(label, run, memory_goal=memory_goal)
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


def bench_floor(report: Report, mllint: str, path: Path, label: str, jobs: int, repeat: int) -> Run:
    """benchmarks/parse_floor.py: discover and load, in the scan's worker set-up, nothing else."""
    run = measure_best([python_of(mllint), str(HERE / "parse_floor.py"), str(path), "--jobs", str(jobs)], repeat)
    report.add_run(label, run)
    if run.code != 0:
        report.notes.append(f"{label}: exit {run.code}: {run.stderr.strip()[-300:]}")
    return run


def floor_row(report: Report, label: str, scan: Run, floor: Run) -> None:
    ratio = scan.wall / floor.wall if floor.wall > 0 else float("inf")
    report.add(f"{label}: scan / parse floor, wall time", f"{ratio:.2f}", "ratio", f"<= {GOAL_FLOOR_RATIO}",
               goal_result(ratio, GOAL_FLOOR_RATIO))
    if floor.cpu > 0:
        report.add(f"{label}: scan / parse floor, CPU time", f"{scan.cpu / floor.cpu:.2f}", "ratio")


def linearity_rows(report: Report, runs: dict[int, Run], files: dict[int, int]) -> None:
    """Time per file at each scale, and the largest scale's per-file time over the 1x one."""
    for k, run in runs.items():
        report.add(f"mllint {k}x: wall / CPU time per file", f"{run.wall / files[k] * 1000:.2f} / {run.cpu / files[k] * 1000:.2f}", "ms")
    top = max(runs)
    if top != 1 and 1 in runs:
        wall = (runs[top].wall / files[top]) / (runs[1].wall / files[1])
        cpu = (runs[top].cpu / files[top]) / (runs[1].cpu / files[1])
        report.add(f"linearity: time per file {top}x / 1x, wall / CPU", f"{wall:.2f} / {cpu:.2f}", "ratio", "~1 (linear)")


def bench_jobs(report: Report, mllint: str, path: Path, label: str, jobs: int, repeat: int, one: Run) -> None:
    """--jobs 1 against --jobs N on the same files; and the default, which should be N processes."""
    single, _ = bench_mllint(report, mllint, path, f"{label}, --jobs 1", 1, repeat)
    report.add(f"{label}: speed-up --jobs {jobs} over --jobs 1, wall time", f"{single.wall / one.wall:.2f}", "x",
               f"> 1 (up to {jobs})")
    default, _ = bench_mllint(report, mllint, path, f"{label}, default --jobs", None, 1)
    expected = cpus()
    workers = max(0, default.processes - 1)
    report.add(f"{label}: worker processes at once with the default --jobs", str(workers), "count",
               f"= usable CPUs ({expected})", "met" if workers == expected else "missed")


def cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


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
    report.add(f"{label}: processes", str(max(r.processes for r in runs)), "count")
    if runs[0].code not in (0, 1):
        said = (runs[0].stderr.strip() or runs[0].stdout.strip()).splitlines()
        report.notes.append(f"{label}: exit {runs[0].code}: {said[-1][-300:] if said else ''}")


def bench_imports(report: Report, mllint: str, path: Path, label: str) -> None:
    """Which heavy modules a one-file run imports (`python -X importtime`), and the slowest."""
    cmd = [python_of(mllint), "-X", "importtime", "-m", "mllint", "scan", str(path)]
    try:
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.SubprocessError) as exc:
        report.missing(f"{label}: heavy imports", str(exc))
        return
    cumulative: dict[str, int] = {}
    total = 0  # microseconds, over the imports made at the top level (the others are inside them)
    for line in run.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if match:
            cumulative[match.group(4)] = int(match.group(2))
            total += int(match.group(2)) if len(match.group(3)) == 1 else 0
    heavy = [m for m in HEAVY_MODULES if m in cumulative]
    report.add(f"{label}: heavy modules imported", ", ".join(f"{m} {cumulative[m] / 1000:.0f} ms" for m in heavy) or "none",
               "", "only what one template needs")
    report.add(f"{label}: all imports (under -X importtime, which slows them)", f"{total / 1000:.0f}", "ms")


def bench_checkov(report: Report, checkov: str | None, path: Path, repeat: int, checks: list[str] | None,
                  label: str, env: dict | None = None) -> tuple[Run | None, list]:
    """checkov -d PATH on Terraform and CloudFormation, with `checks` (--check) or its own."""
    if checkov is None:
        report.missing(label)
        return None, []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "checkov.json"
        cmd = [checkov, "-d", str(path), "--quiet", "--compact", "-o", "json",
               "--framework", "terraform", "cloudformation", "--skip-download", *(checks or [])]
        run = measure_best(cmd, repeat, out, env={**(env or os.environ), **CHECKOV_ENV})
        report.add_run(label, run)
        try:
            results = json.loads(out.read_text())
        except (OSError, ValueError):
            results = []
    if run.code not in (0, 1):
        report.notes.append(f"{label}: exit {run.code}: {run.stderr.strip()[-300:]}")
    results = results if isinstance(results, list) else [results]
    if checks is None:
        summaries = [r.get("summary", {}) for r in results if isinstance(r, dict)]
        if summaries:
            report.add(f"{label}: resources", str(sum(s.get("resource_count", 0) for s in summaries)), "count")
            report.add(f"{label}: parsing errors", str(sum(s.get("parsing_errors", 0) for s in summaries)), "count")
    return run, results


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
                                       mllint_run: Run, mllint_summary: dict | None, repeat: int) -> tuple[str, Run | None]:
    """checkov running only mllint's policies (the bridge) on `path`: the test of the speed goal, and
    whether checkov fails exactly the (check, file, resource) that `mllint scan` finds.
    Returns how checkov got mllint, for the header."""
    label = "checkov 1x (mllint policies)"
    ratio = "mllint / checkov (mllint policies) 1x, wall time"
    checks_dir, why = bridge_checks_dir(checkov, install) if checkov else (None, "not available")
    if checks_dir is None:
        report.missing(label, why)
        report.missing(ratio, why, goal=GOAL_TEXT)
        return f"mllint in checkov: {why}", None
    run, results = bench_checkov(report, checkov, path, repeat, ["--external-checks-dir", checks_dir, "--check", "CKV_MLLINT_*"],
                                 label, env=tool_env())
    if not results:
        results = None
    bridge_errors = [line for line in run.stderr.splitlines() if "mllint: error:" in line]
    if bridge_errors:
        report.notes.append(f"{label}: the bridge logged {len(bridge_errors)} error(s); last: {bridge_errors[-1][-300:]}")
    ratio_row(report, ratio, mllint_run, run, GOAL_TEXT, 1 / GOAL_SPEEDUP, indicative=False)

    policies = bridged_policies(mllint)
    if results is None or mllint_summary is None or policies is None:
        report.missing("verdicts: checkov (mllint policies) vs mllint scan, 1x", "not compared (no JSON output)")
        return f"mllint in checkov: {checks_dir}", run
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
    return f"mllint in checkov: this checkout, {checks_dir}", run


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
    if mllint.tree_pss_kb and other.tree_pss_kb:
        report.add(name.replace("wall time", "peak memory of the tree (PSS)"), f"{mllint.tree_pss_kb / other.tree_pss_kb:.3f}", "ratio")


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


def parse_scales(text: str) -> list[int]:
    scales = sorted({int(part) for part in text.split(",") if part.strip()})
    if not scales or scales[0] != 1 or any(k < 1 for k in scales):
        raise argparse.ArgumentTypeError("a comma-separated list of scales that starts with 1, e.g. 1,10,100")
    return scales


def write_doc(header: list[str], report: Report, footnotes: list[str]) -> None:
    """Replace the figures between the markers of docs/performance.md."""
    text = DOC.read_text(encoding="utf-8")
    if DOC_BEGIN not in text or DOC_END not in text:
        print(f"{DOC}: markers not found ({DOC_BEGIN} ... {DOC_END}); not updated", file=sys.stderr)
        return
    block = "\n".join([DOC_BEGIN, "", *(f"- {line}" for line in header), "", report.markdown(), "",
                       *(f"- {line}" for line in footnotes), "", DOC_END])
    before, rest = text.split(DOC_BEGIN, 1)
    after = rest.split(DOC_END, 1)[1]
    DOC.write_text(before + block + after, encoding="utf-8")
    print(f"figures written to {DOC}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", type=parse_scales, default=[1, 10, 100], metavar="1,10,100",
                        help="corpus sizes to scan (default: 1,10,100; 100x is 60,000 files and takes minutes)")
    parser.add_argument("--jobs", type=int, default=cpus(), help="mllint --jobs (default: the usable CPUs, %(default)s)")
    parser.add_argument("--modules", type=int, default=200, help="Terraform modules at 1x (default: 200)")
    parser.add_argument("--templates", type=int, default=200, help="CloudFormation templates at 1x (default: 200)")
    parser.add_argument("--mllint", help="mllint executable (default: the repo's .venv, else PATH)")
    parser.add_argument("--checkov", help="checkov executable (default: benchmarks/.venv-tools, PATH, or install)")
    parser.add_argument("--cfn-lint", dest="cfn_lint", help="cfn-lint executable (default: as for checkov)")
    parser.add_argument("--no-install", dest="install", action="store_false",
                        help="never pip-install checkov / cfn-lint, nor this checkout of mllint next to checkov")
    parser.add_argument("--repeat", type=int, default=1, metavar="R",
                        help="runs per measurement below 100x; the fastest is kept (default: 1; 100x runs once)")
    parser.add_argument("--no-tools", dest="tools", action="store_false", help="measure mllint only")
    parser.add_argument("--write-doc", action="store_true", help=f"also write the figures into {os.path.relpath(DOC, REPO)}")
    args = parser.parse_args(argv)

    mllint = find_mllint(args.mllint)
    scales = args.scales
    corpora = {k: corpus(k, args.modules, args.templates) for k in scales}
    files = {k: generate_corpus.read_manifest(corpora[k])["files"] for k in scales}
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
        repeat = args.repeat if k < 100 else 1
        label = f"mllint {k}x"
        runs[k], summaries[k] = bench_mllint(report, mllint, corpora[k], f"{label}, --jobs {args.jobs}", args.jobs, repeat,
                                             counts=True, memory_goal=(k == 10))
        floor = bench_floor(report, mllint, corpora[k], f"parse floor {k}x, --jobs {args.jobs}", args.jobs, repeat)
        floor_row(report, label, runs[k], floor)
    linearity_rows(report, runs, files)
    if args.jobs != 1:
        for k in [k for k in scales if k <= 10]:
            bench_jobs(report, mllint, corpora[k], f"mllint {k}x", args.jobs, args.repeat, runs[k])
    bench_startup(report, mllint, small_template, f"mllint one template ({small_template.stat().st_size} B)", goal=True)
    bench_startup(report, mllint, small_module, "mllint one Terraform module", goal=False)
    bench_imports(report, mllint, small_template, "mllint one template")

    bridge = ""
    if args.tools:
        checkov_run, _ = bench_checkov(report, checkov, one_x, args.repeat, None, "checkov 1x (its built-in checks)")
        ratio_row(report, "mllint / checkov (built-in checks) 1x, wall time", runs[1], checkov_run,
                  GOAL_TEXT, 1 / GOAL_SPEEDUP, indicative=True)
        bridge, _ = bench_checkov_with_mllint_policies(report, checkov, args.install, mllint, one_x, runs[1], summaries[1],
                                                       args.repeat)
        bare, _ = bench_checkov(report, checkov, one_x, args.repeat, ["--check", "CKV_MLLINT_*"],
                                "checkov 1x (no check: start-up, parsing, graph)")
        ratio_row(report, "mllint / checkov with no check 1x, wall time", runs[1], bare)
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
    command = " ".join(["python3 benchmarks/run.py", *(argv if argv is not None else sys.argv[1:])])
    header = [f"measured {date.today().isoformat()}: `{command}`",
              f"machine: {machine()}"]
    if others is not None:
        header.append(f"other processes used {others:.0%} of the machine's CPU time while this ran")
        if others > 0.10:
            advice = "rerun on a quiet machine" + (", or with --repeat 3 (the fastest run is kept)" if args.repeat < 3 else "")
            report.notes.append(f"other work used {others:.0%} of the CPU time during the run: times are inflated; {advice}")
    header.append(f"{named(version_of(mllint), 'mllint')} at {revision} ({os.path.relpath(mllint, REPO)}), --jobs {args.jobs}")
    if args.tools:
        for name, tool in (("checkov", checkov), ("cfn-lint", cfn_lint)):
            header.append(f"{named(version_of(tool), name)} ({os.path.relpath(tool, REPO)})" if tool else f"{name}: not available")
        header.append(f"{bridge}; checkov runs with {' '.join(f'{k}={v}' for k, v in CHECKOV_ENV.items())}, "
                      "`--framework terraform cloudformation --skip-download`")
    for k in scales:
        header.append(f"corpus {k}x: {describe_corpus(corpora[k])}")
    header.append(f"memory: main = the mllint process, largest = the largest process ({'GNU time -v' if GNU_TIME.exists() else 'VmHWM'}), "
                  f"tree = summed over the process tree (RSS counts pages shared by forked workers once per process, "
                  f"PSS splits them), sampled every {SAMPLE_EVERY_S * 1000:.0f} ms")
    footnotes = []
    if args.tools:
        footnotes.append(f"goal: {GOAL_TEXT} against checkov running mllint's policies. checkov's built-in checks "
                         "are not mllint's policies, so that row only indicates the gap.")
    footnotes += [f"note: {note}" for note in report.notes]
    for line in header:
        print(line)
    print()
    print(report.render())
    if footnotes:
        print()
        for line in footnotes:
            print(f"  - {line}")
    if args.write_doc:
        write_doc(header, report, footnotes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
