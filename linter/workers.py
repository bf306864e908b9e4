"""Run loaders in isolated worker processes.

tfparse is native Go code: on real repositories it can panic (aborting the whole
process) or never return. Each task therefore runs in a worker process; a worker
that dies or overruns its time limit costs one unit an error, never the scan.

A task is `(func, args, unit)`: `func` is a top-level function or its
`"package.module:function"` name, `args` its picklable arguments, `unit` the
unit's path relative to the scan root (used for errors). `func(*args)` returns
a `LoadResult` (or, in a pool with its own `failure`, that pool's result type).

A pool may give its workers an `initializer(*initargs)`, run once in each new
worker before its first task (the scan uses it to hand over the policies once, not
with every task); a task's result may then be any picklable object, and `failure`
builds the result of a task that crashed or timed out.

A worker is replaced by a fresh one after `MAX_TASKS_PER_WORKER` tasks: tfparse's
memory grows with the modules one process has evaluated (96 -> 205 MiB over 5,000
modules, faster as it goes), and a new process starts from nothing.

tfparse's Go runtime reads `GOGC` when it starts: workers set it to
`GO_GC_PERCENT` unless the environment already does, trading 5-25 MiB per worker
for 10-20% less CPU in tfparse (docs/performance.md).
"""
from __future__ import annotations

import faulthandler
import importlib
import os
import signal
import sys
import tempfile
import time
from collections import deque
from typing import Any, Callable, Iterable, Iterator

from mllint.records import LoadError, LoadResult

Task = tuple[str | Callable[..., LoadResult], tuple[Any, ...], str]

TERMINATE_GRACE = 0.5  # seconds between SIGTERM and SIGKILL
MAX_TASKS_PER_WORKER = 1000  # then the worker is retired and a new one takes its place (measured on
# 100x: a worker then peaks at ~205 MiB, against ~195 MiB with 200 tasks and 419 MiB with no limit)
GO_GC_PERCENT = "200"  # Go's default is 100 (collect when the heap doubles)


def default_jobs() -> int:
    """The CPUs this process may run on (its affinity mask, which a container or
    `taskset` may narrow), else the machine's CPU count."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _context():
    """`fork` (cheap) where it exists, unless this process already runs tfparse's Go
    runtime, which does not survive a fork; `spawn` otherwise."""
    import multiprocessing  # here: a scan that needs no worker does not pay for importing it

    fork = "fork" in multiprocessing.get_all_start_methods() and "tfparse" not in sys.modules
    return multiprocessing.get_context("fork" if fork else "spawn")


def _failure(unit: str, message: str) -> LoadResult:
    return LoadResult(unit, errors=[LoadError(unit, 0, message)])


def resolve(func: str | Callable[..., LoadResult]) -> Callable[..., LoadResult]:
    if callable(func):
        return func
    module, _, name = func.partition(":")
    return getattr(importlib.import_module(module), name)


def _serve(conn, stderr_path: str, initializer: Callable[..., None] | None = None,
           initargs: tuple[Any, ...] = (), failure: Callable[[str, str], Any] = _failure) -> None:
    """Worker main loop: run tasks received on `conn` until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's business
    os.environ.setdefault("GOGC", GO_GC_PERCENT)  # before tfparse starts the Go runtime
    # Native crashes print pages of stack trace; keep them out of the user's terminal.
    stderr = os.open(stderr_path, os.O_WRONLY | os.O_APPEND)
    os.dup2(stderr, 2)
    faulthandler.disable()  # it would write to the terminal, inherited from the parent
    if initializer is not None:
        initializer(*initargs)
    while True:
        try:
            task = conn.recv()
        except EOFError:
            return
        if task is None:
            return
        func, args, unit = task
        os.ftruncate(2, 0)  # keep only this task's output
        try:
            result = resolve(func)(*args)
        except Exception as exc:
            result = failure(unit, f"internal error while loading: {type(exc).__name__}: {exc}")
        try:
            conn.send(result)
        except Exception as exc:  # an unpicklable result is a bug of ours, too
            conn.send(failure(unit, f"internal error while loading: {type(exc).__name__}: {exc}"))


class _Worker:
    def __init__(self, initializer: Callable[..., None] | None, initargs: tuple[Any, ...],
                 failure: Callable[[str, str], Any]) -> None:
        fd, self.stderr_path = tempfile.mkstemp(prefix="mllint-worker-", suffix=".log")
        os.close(fd)
        context = _context()
        self.conn, child_conn = context.Pipe()
        self.process = context.Process(target=_serve, args=(child_conn, self.stderr_path, initializer, initargs, failure),
                                       daemon=True)
        self.process.start()
        child_conn.close()
        self.index = -1  # the task in flight, if any
        self.unit = ""
        self.deadline = 0.0
        self.served = 0  # tasks sent to this worker

    def send(self, index: int, task: Task, timeout: float) -> None:
        self.index, self.unit, self.deadline = index, task[2], time.monotonic() + timeout
        self.served += 1
        self.conn.send(task)

    def crash_reason(self) -> str:
        """How the worker died, with the native runtime's own first words if it left any."""
        self.process.join(TERMINATE_GRACE)
        code = self.process.exitcode
        if code is not None and code < 0:
            reason = f"signal {signal.Signals(-code).name}"
        else:
            reason = f"exit code {code}"
        try:
            with open(self.stderr_path, encoding="utf-8", errors="replace") as handle:
                lines = [line.strip() for line in handle]
        except OSError:
            lines = []
        detail = next((line for line in lines if line.startswith(("panic:", "fatal error:"))), "")
        return f"{reason}: {detail[:200]}" if detail else reason

    def stop(self, force: bool) -> None:
        """End the process (politely unless `force`) and release its resources."""
        if not force and self.process.is_alive():
            try:
                self.conn.send(None)
            except OSError:
                pass
            self.process.join(TERMINATE_GRACE)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(TERMINATE_GRACE)
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.process.close()
        self.conn.close()
        try:
            os.unlink(self.stderr_path)
        except OSError:
            pass


class WorkerPool:
    """At most `jobs` worker processes, each task limited to `timeout` seconds.

    Workers start lazily, when tasks need them, and are reused across tasks and
    `map` calls, up to `max_tasks` tasks each: then the worker is ended and a new
    one starts when the next task needs it. Leaving the `with` block (or
    `close()`) ends them all.
    """

    def __init__(self, jobs: int, timeout: float, max_tasks: int = MAX_TASKS_PER_WORKER,
                 initializer: Callable[..., None] | None = None, initargs: tuple[Any, ...] = (),
                 failure: Callable[[str, str], Any] | None = None):
        self.jobs = max(1, jobs)
        self.timeout = timeout
        self.max_tasks = max(1, max_tasks)
        self.initializer, self.initargs = initializer, initargs
        self.failure = failure or _failure  # (unit, message) -> the result of a task that did not finish
        self._idle: list[_Worker] = []
        self._live: set[_Worker] = set()

    def __enter__(self) -> "WorkerPool":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        for worker in list(self._live):
            self._retire(worker, force=worker not in self._idle)
        self._idle.clear()

    def map(self, tasks: Iterable[Task]) -> Iterator[Any]:
        """One result per task (a `LoadResult` unless the tasks return something else), in task order."""
        pending = deque(enumerate(tasks))
        wanted = min(self.jobs, len(pending))
        busy: list[_Worker] = []
        done: dict[int, LoadResult] = {}
        next_index = 0
        try:
            while pending or busy:
                while pending and len(busy) < wanted:
                    worker = self._take()
                    index, task = pending.popleft()
                    worker.send(index, task, self.timeout)
                    busy.append(worker)
                self._collect(busy, done)
                while next_index in done:
                    yield done.pop(next_index)
                    next_index += 1
        finally:
            for worker in busy:  # abandoned or interrupted: their results would arrive out of turn
                self._retire(worker, force=True)

    def _take(self) -> _Worker:
        """An idle worker that is still alive, or a new one."""
        while self._idle:
            worker = self._idle.pop()
            if worker.process.is_alive():
                return worker
            self._retire(worker, force=True)
        worker = _Worker(self.initializer, self.initargs, self.failure)
        self._live.add(worker)
        return worker

    def _retire(self, worker: _Worker, force: bool) -> None:
        if worker in self._live:
            self._live.discard(worker)
            worker.stop(force)

    def _collect(self, busy: list[_Worker], done: dict[int, LoadResult]) -> None:
        """Wait for the first result, death or deadline among `busy` workers."""
        from multiprocessing.connection import wait

        remaining = min(w.deadline for w in busy) - time.monotonic()
        ready = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy], max(0.0, remaining)))
        now = time.monotonic()
        for worker in list(busy):
            result = None
            if worker.conn in ready:
                try:
                    result = worker.conn.recv()
                except (EOFError, OSError):
                    pass
            if result is not None:
                if worker.served >= self.max_tasks:
                    self._retire(worker, force=False)  # its memory goes with it; `_take` starts a new one
                else:
                    self._idle.append(worker)
            elif worker.conn in ready or worker.process.sentinel in ready:
                reason = worker.crash_reason()
                self._retire(worker, force=True)
                result = self.failure(
                    worker.unit,
                    f"evaluator crashed ({reason}) while evaluating this module; other modules were scanned",
                )
            elif now >= worker.deadline:
                self._retire(worker, force=True)
                result = self.failure(
                    worker.unit,
                    f"evaluation timed out after {self.timeout:g} s; the module was skipped, "
                    "other modules were scanned",
                )
            else:
                continue
            done[worker.index] = result
            busy.remove(worker)
