#!/usr/bin/env python3
"""Fuzz mllint's loaders, intrinsic resolver, model and engine with generated hostile inputs.

    python benchmarks/fuzz.py                       # the default run (see TARGETS), all cores
    python benchmarks/fuzz.py --scale 0.01 --jobs 2 # a quick one
    python benchmarks/fuzz.py --only cfn-random --seed 7

Targets (inputs from tests/fuzz_inputs.py, input i of a target seeded with "<seed>:<target>:<i>"):

  cfn-mutated  fixture templates with byte flips, truncations, line shuffles, inserted
               brackets/quotes/tags/anchors -> load_template -> model -> every policy
  cfn-random   random templates (fixture resources with mutated subtrees, random resources,
               parameters, conditions, mappings, Fn::ForEach, intrinsics with odd arguments)
               as JSON / YAML / short-form YAML -> load_template -> model -> every policy
  resolver     random values with intrinsics against random templates -> Resolver
  engine       random facts of the declared types -> every policy
  tf-props     Terraform resources of the fixtures with mutated properties (UNKNOWN, Link,
               JSON strings, blocks) -> model -> every policy
  tf-modules   fixture modules with mutated .tf text (valid-syntax expression swaps, byte
               mutations) -> the Terraform loader in a worker process -> model -> every policy

A crash is an exception from mllint's code, an input that takes longer than --input-timeout,
or a LoadError that is not one line or says "internal error". tfparse's own crashes and hangs
are contained by the worker pool and reported as one error: they are counted ("contained"),
not crashes. Each crash's input is shrunk (bytes: chunks removed; structures: subtrees
removed) and saved to benchmarks/fuzz-crashes/ (gitignored) with its traceback.
It is a report: the exit status is 1 when a crash was found, else 0.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "tests"))
import fuzz_inputs as F  # noqa: E402

from mllint.engine import evaluate  # noqa: E402
from mllint.loaders.cfn_foreach import LoopError  # noqa: E402
from mllint.loaders.cfn_intrinsics import Resolver  # noqa: E402
from mllint.loaders.cloudformation import load_template  # noqa: E402
from mllint.model import Subject, model_unit  # noqa: E402
from mllint.policy import load_policies  # noqa: E402
from mllint.records import LoadResult, Resource  # noqa: E402
from mllint.suppress import with_diagnostics  # noqa: E402

CRASH_DIR = HERE / "fuzz-crashes"
# Inputs per target at --scale 1: 500,000 in all, 3 to 10 minutes on 2 cores (busy or not).
TARGETS = {
    "cfn-mutated": 150_000,
    "cfn-random": 150_000,
    "resolver": 60_000,
    "engine": 60_000,
    "tf-props": 70_000,
    "tf-modules": 10_000,
}
CHUNK = 250  # inputs per task handed to a process
LOAD_MODULE = "mllint.loaders.terraform:load_module"
CONTAINED = ("evaluator crashed", "evaluation timed out")
SHRINK_TRIES = 300
TFPARSE_TIMEOUT = 8.0  # seconds; under --input-timeout, so a tfparse hang is contained, not a crash


class Hang(Exception):
    """The input ran past --input-timeout."""


class BadError(Exception):
    """A LoadError that breaks the contract (several lines, an internal error)."""


# --------------------------------------------------------------------------- one process's state


@dataclass
class State:
    workdir: Path
    policies: list = field(default_factory=list)
    tf_resources: list = field(default_factory=list)
    contained: Counter = field(default_factory=Counter)  # tfparse crashes and hangs, by message
    pool: Any = None

    def load_module(self, module: Path) -> LoadResult:
        if self.pool is None:
            from mllint.workers import WorkerPool

            self.pool = WorkerPool(jobs=1, timeout=TFPARSE_TIMEOUT)
        (result,) = self.pool.map([(LOAD_MODULE, (module, self.workdir), module.name)])
        return result


STATE: State | None = None


def _init(workdir: str) -> None:
    global STATE
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    STATE = State(Path(tempfile.mkdtemp(prefix=f"p{os.getpid()}-", dir=workdir)))
    STATE.policies = with_diagnostics(load_policies(installed=False))


def _tf_resources() -> list[list[Resource]]:
    """The Terraform fixtures' resources, loaded once per process (fixtures don't crash tfparse)."""
    if not STATE.tf_resources:
        modules = [m for m in F.tf_modules() if not any(p.name == "modules" for p in m.parents)]
        for module in modules[:: max(1, len(modules) // 40)]:
            result = STATE.load_module(module)
            if result.resources:
                STATE.tf_resources.append(result.resources)
    return STATE.tf_resources


# --------------------------------------------------------------------------- targets
# Each target has `make(rng) -> input` and `run(input) -> outcome` ("ok", "error", "contained").


def _check(result: LoadResult) -> str:
    for error in result.errors:
        if "\n" in error.message or error.message.startswith("internal error") or not error.file:
            raise BadError(str(error))
    contained = [e.message for e in result.errors if e.message.startswith(CONTAINED)]
    STATE.contained.update(m.split(" while evaluating")[0] for m in contained)
    subjects = model_unit(result.resources)
    evaluate(subjects, STATE.policies)
    return "contained" if contained else "error" if result.errors else "ok"


def _load_bytes(data: bytes, suffix: str) -> str:
    path = STATE.workdir / f"template{suffix}"
    path.write_bytes(data)
    return _check(load_template(path, STATE.workdir))


def make_cfn_mutated(rng: random.Random) -> tuple[bytes, str]:
    source = rng.choice(F.cfn_files())
    return F.mutate_bytes(source.read_bytes(), rng), source.suffix


def make_cfn_random(rng: random.Random) -> tuple[bytes, str]:
    data = F.render_template(F.random_template(rng), rng)
    return (F.mutate_bytes(data, rng) if rng.random() < 0.2 else data), ".yaml"


def run_cfn(case: tuple[bytes, str]) -> str:
    return _load_bytes(*case)


def make_resolver(rng: random.Random) -> tuple[dict, list]:
    return F.random_template(rng), [F.random_value(rng) for _ in range(3)]


def run_resolver(case: tuple[dict, list]) -> str:
    template, values = case
    resolver = Resolver(template)
    for value in values:
        try:
            resolver.resolve_properties(value, "C0")
        except LoopError as exc:
            if "\n" in str(exc):
                raise BadError(str(exc)) from None
    return "ok"


def make_engine(rng: random.Random) -> dict:
    return F.random_facts(rng)


def run_engine(facts: dict) -> str:
    resource = Resource("terraform", "aws_x", "aws_x.y", "main.tf", 1, ".", {})
    evaluate([Subject(resource, facts)], STATE.policies)
    return "ok"


def make_tf_props(rng: random.Random) -> list[Resource]:
    return F.mutate_resources(rng.choice(_tf_resources()), rng)


def run_tf_props(resources: list[Resource]) -> str:
    return _check(LoadResult("unit", resources=resources))


def make_tf_module(rng: random.Random) -> tuple[str, dict[str, bytes]]:
    """(fixture module, {relative path: content}) with one .tf file mutated."""
    source = rng.choice(_small_modules())
    files = {p.relative_to(source).as_posix(): p.read_bytes() for p in sorted(source.rglob("*")) if p.is_file()}
    victim = rng.choice(sorted(name for name in files if name.endswith(".tf")))
    mutate = F.mutate_hcl if rng.random() < 0.6 else F.mutate_bytes
    files[victim] = mutate(files[victim], rng)
    return source.relative_to(F.FIXTURES).as_posix(), files


def run_tf_module(case: tuple[str, dict[str, bytes]]) -> str:
    module = STATE.workdir / "module"
    shutil.rmtree(module, ignore_errors=True)
    for name, content in case[1].items():
        (module / name).parent.mkdir(parents=True, exist_ok=True)
        (module / name).write_bytes(content)
    return _check(STATE.load_module(module))


_SMALL: list[Path] = []


def _small_modules() -> list[Path]:
    if not _SMALL:
        _SMALL.extend(m for m in F.tf_modules() if sum(p.stat().st_size for p in m.rglob("*.tf")) < 8000)
    return _SMALL


RUNNERS: dict[str, tuple[Callable, Callable]] = {
    "cfn-mutated": (make_cfn_mutated, run_cfn),
    "cfn-random": (make_cfn_random, run_cfn),
    "resolver": (make_resolver, run_resolver),
    "engine": (make_engine, run_engine),
    "tf-props": (make_tf_props, run_tf_props),
    "tf-modules": (make_tf_module, run_tf_module),
}


# --------------------------------------------------------------------------- running and shrinking


def _on_alarm(signum, frame):
    raise Hang("input took longer than the time limit")


def _attempt(run: Callable, case: Any, timeout: float) -> tuple[str, BaseException | None]:
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        return run(case), None
    except Exception as exc:  # a crash: recorded, never fatal to the run
        return "crash", exc
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _signature(exc: BaseException) -> str:
    """Exception type and the innermost mllint frame: one bug, one signature."""
    if isinstance(exc, (Hang, BadError)):
        return f"{type(exc).__name__}: {str(exc).split(': ', 1)[-1][:60]}"
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "/linter/" in f.filename or "/mllint/" in f.filename]
    where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
    return f"{type(exc).__name__} at {where}"


def run_chunk(task: tuple[str, int, int, int, float]) -> dict:
    target, seed, start, count, timeout = task
    make, run = RUNNERS[target]
    outcomes: Counter = Counter()
    crashes: dict[str, dict] = {}
    for index in range(start, start + count):
        rng = random.Random(f"{seed}:{target}:{index}")
        case = make(rng)
        outcome, exc = _attempt(run, case, timeout)
        outcomes[outcome] += 1
        if exc is not None:
            signature = _signature(exc)
            if signature not in crashes:
                crashes[signature] = _report(target, seed, index, case, exc, run, timeout)
    contained, STATE.contained = STATE.contained, Counter()
    return {"target": target, "outcomes": outcomes, "crashes": crashes, "contained": contained}


def _report(target: str, seed: int, index: int, case: Any, exc: BaseException, run: Callable, timeout: float) -> dict:
    signature = _signature(exc)
    small = _shrink(case, lambda c: _same_crash(run, c, signature, timeout))
    name = f"{target}-{seed}-{index}"
    CRASH_DIR.mkdir(exist_ok=True)
    saved = CRASH_DIR / (name + _extension(small))
    saved.write_bytes(_serialise(small))
    (CRASH_DIR / f"{name}.txt").write_text(
        f"{signature}\n{type(exc).__name__}: {exc}\n\n" + "".join(traceback.format_exception(exc)), encoding="utf-8"
    )
    return {"signature": signature, "message": f"{type(exc).__name__}: {str(exc)[:300]}", "input": saved.name,
            "seed": f"{seed}:{target}:{index}", "count": 1}


def _same_crash(run: Callable, case: Any, signature: str, timeout: float) -> bool:
    _, exc = _attempt(run, case, timeout)
    return exc is not None and _signature(exc) == signature


def _shrink(case: Any, crashes: Callable[[Any], bool]) -> Any:
    """A smaller input that still crashes the same way (bounded effort)."""
    budget = [SHRINK_TRIES]

    def still(candidate: Any) -> bool:
        if budget[0] <= 0:
            return False
        budget[0] -= 1
        return crashes(candidate)

    if isinstance(case, tuple) and len(case) == 2 and isinstance(case[0], bytes):
        return _shrink_bytes(case[0], lambda data: still((data, case[1]))), case[1]
    if isinstance(case, tuple) and len(case) == 2 and isinstance(case[1], dict) and isinstance(case[0], str):
        files = dict(case[1])
        for name in sorted(files):  # whole files first
            if len(files) > 1 and still((case[0], {k: v for k, v in files.items() if k != name})):
                del files[name]
        for name in sorted(files):
            files[name] = _shrink_bytes(files[name], lambda data, n=name: still((case[0], {**files, n: data})))
        return case[0], files
    return _shrink_tree(case, still)


def _shrink_bytes(data: bytes, crashes: Callable[[bytes], bool]) -> bytes:
    chunk = max(1, len(data) // 2)
    while chunk >= 1:
        position, shrunk = 0, False
        while position < len(data):
            candidate = data[:position] + data[position + chunk:]
            if crashes(candidate):
                data, shrunk = candidate, True
            else:
                position += chunk
        if not shrunk:
            chunk //= 2
    return data


def _shrink_tree(case: Any, crashes: Callable[[Any], bool]) -> Any:
    """Remove dict keys and list items while the crash stays."""
    def walk(value: Any, rebuild: Callable[[Any], Any]) -> Any:
        if isinstance(value, dict):
            for key in list(value):
                smaller = {k: v for k, v in value.items() if k != key}
                if crashes(rebuild(smaller)):
                    value = smaller
            for key in list(value):
                value[key] = walk(value[key], lambda v, k=key, cur=value: rebuild({**cur, k: v}))
        elif isinstance(value, list):
            index = 0
            while index < len(value):
                smaller = value[:index] + value[index + 1:]
                if crashes(rebuild(smaller)):
                    value = smaller
                else:
                    index += 1
            for index in range(len(value)):
                value[index] = walk(value[index], lambda v, i=index, cur=value: rebuild(cur[:i] + [v] + cur[i + 1:]))
        return value

    if isinstance(case, tuple):
        items = list(case)
        for index in range(len(items)):
            items[index] = walk(items[index], lambda v, i=index: tuple(items[:i] + [v] + items[i + 1:]))
        return tuple(items)
    return walk(case, lambda v: v)


def _extension(case: Any) -> str:
    if isinstance(case, tuple) and len(case) == 2 and isinstance(case[0], bytes):
        return case[1]
    return ".json"


def _serialise(case: Any) -> bytes:
    if isinstance(case, tuple) and len(case) == 2 and isinstance(case[0], bytes):
        return case[0]
    if isinstance(case, tuple) and len(case) == 2 and isinstance(case[1], dict) and isinstance(case[0], str):
        return json.dumps({"module": case[0], "files": {k: v.decode("utf-8", "replace") for k, v in case[1].items()}},
                          indent=2).encode()
    return json.dumps(case, indent=2, default=repr).encode()


# --------------------------------------------------------------------------- main


def _commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO, capture_output=True, text=True)
        return head.stdout.strip() + (" (with uncommitted changes)" if dirty.stdout.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every target's input count")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--only", action="append", choices=sorted(TARGETS), help="run only these targets")
    parser.add_argument("--input-timeout", type=float, default=10.0, help="seconds one input may take")
    parser.add_argument("--json", type=Path, help="also write the results to FILE")
    args = parser.parse_args(argv)

    counts = {t: max(1, round(n * args.scale)) for t, n in TARGETS.items() if not args.only or t in args.only}
    tasks = [(t, args.seed, start, min(CHUNK, n - start), args.input_timeout) for t, n in counts.items() for start in range(0, n, CHUNK)]
    tasks.sort(key=lambda task: task[0] != "tf-modules")  # the slow ones first, for an even finish
    shutil.rmtree(CRASH_DIR, ignore_errors=True)
    outcomes = {t: Counter() for t in counts}
    crashes: dict[tuple[str, str], dict] = {}
    contained: Counter = Counter()
    started = time.monotonic()
    print(f"fuzzing {sum(counts.values()):,} inputs on {args.jobs} processes (seed {args.seed})", flush=True)
    with tempfile.TemporaryDirectory(prefix="mllint-fuzz-") as workdir:
        # Not multiprocessing.Pool: its daemonic processes may not start the Terraform worker processes.
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(args.jobs, mp_context=context, initializer=_init, initargs=(workdir,)) as pool:
            for done in map(Future.result, as_completed(pool.submit(run_chunk, task) for task in tasks)):
                outcomes[done["target"]].update(done["outcomes"])
                contained.update(done["contained"])
                for signature, crash in done["crashes"].items():
                    known = crashes.setdefault((done["target"], signature), crash)
                    if known is not crash:
                        known["count"] += 1
    elapsed = time.monotonic() - started
    total = sum(sum(c.values()) for c in outcomes.values())
    print(f"\n{total:,} inputs in {elapsed:.0f} s ({total / elapsed:,.0f}/s), {date.today()}, commit {_commit()}\n")
    print(f"{'target':12} {'inputs':>8} {'loaded':>8} {'errors':>8} {'contained':>9} {'crashes':>8}")
    for target, tally in outcomes.items():
        print(f"{target:12} {sum(tally.values()):>8,} {tally['ok']:>8,} {tally['error']:>8,} {tally['contained']:>9,} {tally['crash']:>8,}")
    for message, count in sorted(contained.items()):
        print(f"contained {count:>5}: {message}")
    for (target, signature), crash in sorted(crashes.items()):
        print(f"\nCRASH {target}: {signature} (in {crash['count']} chunk(s)); first: seed {crash['seed']}\n"
              f"  {crash['message']}\n  input: {CRASH_DIR.relative_to(REPO) / crash['input']}")
    if args.json:
        args.json.write_text(json.dumps({
            "date": str(date.today()), "commit": _commit(), "seed": args.seed, "jobs": args.jobs,
            "seconds": round(elapsed, 1), "targets": {t: dict(c) for t, c in outcomes.items()},
            "crashes": [{"target": t, **c} for (t, _), c in sorted(crashes.items())],
            "contained": dict(sorted(contained.items())),
        }, indent=2) + "\n", encoding="utf-8")
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
