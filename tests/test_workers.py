"""mllint.workers: crashes, hangs and bugs inside a task cost one unit, never the scan."""
from __future__ import annotations

import multiprocessing
import os
import time
from collections import Counter

from mllint.records import UNKNOWN, LoadResult, Resource
from mllint.workers import GO_GC_PERCENT, WorkerPool

LOAD_MODULE = "mllint.loaders.terraform:load_module"


def ok(unit: str) -> LoadResult:
    return LoadResult(unit, resources=[Resource("terraform", "t", unit, "f", 1, unit, {"pid": os.getpid()})])


def abort(unit: str) -> LoadResult:
    os.abort()


def sleep(unit: str, seconds: float) -> LoadResult:
    time.sleep(seconds)
    return ok(unit)


def fail(unit: str) -> LoadResult:
    raise KeyError("oops")


def messages(result: LoadResult) -> list[str]:
    return [error.message for error in result.errors]


def test_crash_is_reported_and_the_next_task_still_runs():
    with WorkerPool(jobs=1, timeout=10) as pool:
        crashed, after = pool.map([(abort, ("a",), "a"), (ok, ("b",), "b")])
    (message,) = messages(crashed)
    assert crashed.unit == "a" and crashed.errors[0].file == "a"
    assert "evaluator crashed (signal SIGABRT)" in message
    assert after.errors == [] and after.resources[0].address == "b"


def test_timeout_kills_the_task_and_the_pool_carries_on():
    started = time.monotonic()
    with WorkerPool(jobs=2, timeout=1) as pool:
        slow, quick = pool.map([(sleep, ("slow", 30), "slow"), (sleep, ("quick", 0), "quick")])
    assert time.monotonic() - started < 10
    assert messages(slow) == [
        "evaluation timed out after 1 s; the module was skipped, other modules were scanned"
    ]
    assert quick.errors == []


def test_exception_in_the_task_is_an_internal_error():
    with WorkerPool(jobs=1, timeout=10) as pool:
        (result,) = pool.map([(fail, ("x",), "x")])
    assert messages(result) == ["internal error while loading: KeyError: 'oops'"]


def test_results_come_back_in_task_order_and_workers_are_reused():
    tasks = [(sleep, (f"u{i}", 0.3 if i % 2 == 0 else 0), f"u{i}") for i in range(6)]
    with WorkerPool(jobs=3, timeout=10) as pool:
        results = list(pool.map(tasks))
    assert [r.unit for r in results] == [f"u{i}" for i in range(6)]
    assert len({r.resources[0].props["pid"] for r in results}) <= 3


def test_workers_start_lazily_and_never_outnumber_the_tasks():
    with WorkerPool(jobs=4, timeout=10) as pool:
        assert multiprocessing.active_children() == []
        assert list(pool.map([])) == []
        assert multiprocessing.active_children() == []
        list(pool.map([(ok, ("a",), "a")]))
        assert len(multiprocessing.active_children()) == 1
    assert multiprocessing.active_children() == []


def test_no_process_outlives_the_pool_even_when_abandoned():
    tasks = [(ok, ("a",), "a"), (sleep, ("b", 30), "b"), (sleep, ("c", 30), "c")]
    with WorkerPool(jobs=2, timeout=30) as pool:
        results = pool.map(tasks)
        next(results)
        results.close()  # the consumer gives up mid-way: the busy worker is killed
        assert len(multiprocessing.active_children()) == 1  # the idle one that served "a"
        interrupted = pool.map(tasks)
        next(interrupted)  # ... or the with block is left while a map is suspended (Ctrl-C)
    assert multiprocessing.active_children() == []
    interrupted.close()


def test_task_can_be_named_by_its_import_path(tmp_path):
    (tmp_path / "main.tf").write_text('resource "aws_iam_role" "r" { name = "x" }\n')
    with WorkerPool(jobs=1, timeout=30) as pool:
        (result,) = pool.map([(LOAD_MODULE, (tmp_path, tmp_path), ".")])
    assert result.errors == []
    assert [(r.address, dict(r.props)) for r in result.resources] == [("aws_iam_role.r", {"name": "x"})]


def test_real_modules_that_break_tfparse(tmp_path):
    """`vpc_id = data.aws_vpc` panicked tfparse's Go code in the wild (tfparse 0.6.22
    returns an unresolved reference); a module calling itself makes tfparse loop forever,
    so the loader refuses module cycles before evaluating."""
    panics, loops, fine = tmp_path / "panics", tmp_path / "loops", tmp_path / "fine"
    for path in (panics, loops, fine):
        path.mkdir()
    (panics / "main.tf").write_text('resource "aws_instance" "x" {\n  vpc_id = data.aws_vpc\n}\n')
    (loops / "main.tf").write_text('module "self" {\n  source = "./"\n}\nresource "aws_iam_role" "r" {}\n')
    (fine / "main.tf").write_text('resource "aws_iam_role" "r" {}\n')
    tasks = [(LOAD_MODULE, (path, tmp_path), path.name) for path in (panics, loops, fine)]
    with WorkerPool(jobs=2, timeout=3) as pool:
        panicked, looped, loaded = pool.map(tasks)
    assert panicked.errors == []
    assert [(r.address, dict(r.props)) for r in panicked.resources] == [("aws_instance.x", {"vpc_id": UNKNOWN})]
    assert messages(looped) == ["local modules call each other in a cycle (loops -> loops); the module was not evaluated"]
    assert loaded.errors == [] and [r.address for r in loaded.resources] == ["aws_iam_role.r"]
    assert multiprocessing.active_children() == []


def test_syntax_error_in_a_called_local_module_is_reported(tmp_path):
    (tmp_path / "modules" / "train").mkdir(parents=True)
    (tmp_path / "main.tf").write_text('module "train" {\n  source = "./modules/train"\n}\nresource "aws_iam_role" "r" {}\n')
    (tmp_path / "modules" / "train" / "main.tf").write_text('resource "aws_s3_bucket" "b" {\n  bucket = \n}\n')
    with WorkerPool(jobs=1, timeout=30) as pool:
        (result,) = pool.map([(LOAD_MODULE, (tmp_path, tmp_path), ".")])
    assert [(e.file, e.line) for e in result.errors] == [("modules/train/main.tf", 2)]
    assert "Invalid expression" in result.errors[0].message
    assert [r.address for r in result.resources] == ["aws_iam_role.r"]


def test_a_worker_is_replaced_after_max_tasks_and_results_stay_in_order():
    """tfparse's memory grows in a long-lived worker: after `max_tasks` tasks the worker is ended
    and a fresh process takes over, without changing the results or their order."""
    tasks = [(sleep, (f"u{i}", 0.05 if i % 3 == 0 else 0), f"u{i}") for i in range(11)]
    with WorkerPool(jobs=1, timeout=10, max_tasks=3) as pool:
        results = list(pool.map(tasks))
        assert len(multiprocessing.active_children()) <= 1  # the retired ones are gone
    assert [r.unit for r in results] == [f"u{i}" for i in range(11)]
    assert all(r.errors == [] for r in results)
    pids = [r.resources[0].props["pid"] for r in results]
    assert pids == [pids[0]] * 3 + [pids[3]] * 3 + [pids[6]] * 3 + [pids[9]] * 2
    assert len(set(pids)) == 4 and os.getpid() not in pids
    assert multiprocessing.active_children() == []


def test_the_task_limit_holds_across_workers_and_map_calls():
    tasks = [(sleep, (f"u{i}", 0.2 if i % 2 == 0 else 0), f"u{i}") for i in range(10)]
    with WorkerPool(jobs=2, timeout=10, max_tasks=2) as pool:
        first = list(pool.map(tasks[:5]))
        second = list(pool.map(tasks[5:]))
        assert len(multiprocessing.active_children()) <= 2
    results = first + second
    assert [r.unit for r in results] == [f"u{i}" for i in range(10)]
    served = Counter(r.resources[0].props["pid"] for r in results)
    assert max(served.values()) == 2 and len(served) >= 5
    assert multiprocessing.active_children() == []


_INITIALISED: list[str] = []


def remember(word: str) -> None:
    _INITIALISED.append(word)


def initialised(unit: str) -> tuple[str, list[str], str | None]:
    return unit, list(_INITIALISED), os.environ.get("GOGC")


def as_tuple(unit: str, message: str) -> tuple[str, list[str], str]:
    return unit, [], message


def test_initializer_runs_once_in_each_worker_and_failures_take_the_pools_shape(monkeypatch):
    """The scan hands its policies to each worker once (initializer) and gets its own result type
    back, a crash included (failure); tfparse's Go runtime gets GOGC unless the user set it."""
    monkeypatch.delenv("GOGC", raising=False)
    tasks = [(initialised, (f"u{i}",), f"u{i}") for i in range(4)] + [(abort, ("bad",), "bad")]
    with WorkerPool(jobs=1, timeout=10, initializer=remember, initargs=("policies",), failure=as_tuple) as pool:
        results = list(pool.map(tasks))
    assert results[:4] == [(f"u{i}", ["policies"], GO_GC_PERCENT) for i in range(4)]
    assert results[4][0] == "bad" and "evaluator crashed (signal SIGABRT)" in results[4][2]
    assert _INITIALISED == []  # in the workers only
    monkeypatch.setenv("GOGC", "50")
    with WorkerPool(jobs=1, timeout=10) as pool:
        ((_, _, gogc),) = pool.map([(initialised, ("u",), "u")])
    assert gogc == "50"
