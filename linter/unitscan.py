"""One unit's share of a scan, done where the unit is loaded: load -> model -> evaluate -> suppress.

In a worker process (`mllint.workers`) this keeps the parent light: only the
findings, the errors and what was modelled come back, not the unit's resources
(less to pickle, and nothing but findings accumulates in the parent), and
modelling and policy evaluation run in parallel with the loading.

`UnitScanner` holds what every unit needs (policies, suppressor, scope); a worker
receives it once, through the pool's initializer (`install`), not with every task.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Callable

from mllint.discover import Unit
from mllint.engine import evaluate
from mllint.model import model_unit
from mllint.policy import Policy, load_policies
from mllint.records import Finding, LoadError, LoadResult
from mllint.scope import Scope
from mllint.suppress import Suppressor, with_diagnostics

SCAN_TASK = "mllint.unitscan:load_and_scan"


@dataclass
class UnitOutcome:
    """What scanning one unit produced."""

    unit: str
    findings: list[Finding] = field(default_factory=list)  # suppressed ones included, marked
    errors: list[LoadError] = field(default_factory=list)
    modelled: list[tuple[str, str, str]] = field(default_factory=list)  # (file, address, kind) given facts


def failed(unit: str, message: str) -> UnitOutcome:
    """The outcome of a unit whose worker crashed or timed out."""
    return UnitOutcome(unit, errors=[LoadError(unit, 0, message)])


def every_policy(policy_dirs: tuple[Path, ...], installed: bool) -> list[Policy]:
    """Every policy the scan knows, and the suppression diagnostics (ML001, ML002)."""
    return with_diagnostics(load_policies(list(policy_dirs), installed=installed))


class UnitScanner:
    """Models, evaluates and suppresses one loaded unit at a time. Picklable: `every_policy`
    is a partial of a top-level function, so a spawned worker can receive it."""

    def __init__(self, policies: list[Policy], every: Callable[[], list[Policy]], scope: Scope):
        self.policies, self.every, self.scope = policies, every, scope
        self.suppressor = Suppressor(policies, every)

    def __getstate__(self) -> dict[str, Any]:
        return {"policies": self.policies, "every": self.every, "scope": self.scope}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["policies"], state["every"], state["scope"])

    @classmethod
    def of(cls, policies: list[Policy], policy_dirs: list[Path], installed: bool, scope: Scope) -> "UnitScanner":
        return cls(policies, partial(every_policy, tuple(policy_dirs), installed), scope)

    def scan(self, unit: Unit, result: LoadResult) -> UnitOutcome:
        subjects = self.scope.subjects(unit, model_unit(result.resources))
        narrowed = self.scope.files if self.scope.narrows(unit) else None
        findings = self.suppressor.apply(evaluate(subjects, self.policies), result, subjects, narrowed)
        modelled = [(s.resource.file, s.resource.address, s.facts["kind"]) for s in subjects]
        return UnitOutcome(result.unit, findings, list(result.errors), modelled)


_installed: UnitScanner | None = None


def install(scanner: UnitScanner) -> None:
    """The pool's initializer: the scanner this worker's tasks use."""
    global _installed
    _installed = scanner


def load_and_scan(loader: str, args: tuple, unit: Unit) -> UnitOutcome:
    """A worker task: load the unit with `loader(*args)` ("package.module:function"), then scan it."""
    from mllint.workers import resolve

    if _installed is None:
        raise RuntimeError("no UnitScanner installed in this worker")
    return _installed.scan(unit, resolve(loader)(*args))
