"""The scan pipeline: discover -> load -> model -> evaluate -> select, in one direction."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from mllint.baseline import Baseline
from mllint.config import Rules
from mllint.discover import Unit, discover
from mllint.engine import evaluate
from mllint.model import model_unit
from mllint.policy import Policy, load_policies, matches_selector
from mllint.records import Finding, LoadError, LoadResult
from mllint.scope import Scope
from mllint.suppress import Suppressor, with_diagnostics
from mllint.workers import WorkerPool

TERRAFORM_LOADER = "mllint.loaders.terraform:load_module"
CLOUDFORMATION_LOADER = "mllint.loaders.cloudformation:load_template"
DEFAULT_TIMEOUT_S = 30.0


@dataclass
class ScanOptions:
    paths: list[Path]
    root: Path
    jobs: int = os.cpu_count() or 1
    timeout: float = DEFAULT_TIMEOUT_S
    var_files: list[Path] = field(default_factory=list)
    policy_dirs: list[Path] = field(default_factory=list)
    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    installed_packs: bool = True  # also load the packs of the `mllint.policies` entry point group
    rules: Rules = field(default_factory=Rules)  # exclude, severity and per-path overrides of the config file
    baseline: Baseline | None = None


@dataclass
class ScanReport:
    findings: list[Finding]
    errors: list[LoadError]
    units: list[Unit]
    skipped: list[str]
    policies: list[Policy]
    modelled: list[tuple[str, str, str]]  # (file, address, kind) of every resource given facts


def every_policy(options: ScanOptions) -> list[Policy]:
    """Every policy the scan knows, and the suppression diagnostics (ML001, ML002)."""
    return with_diagnostics(load_policies(options.policy_dirs, installed=options.installed_packs))


def selected_policies(options: ScanOptions) -> list[Policy]:
    """The policies `--select` / `--ignore` leave enabled (select empty = all)."""
    policies = every_policy(options)
    options.rules.check(policies)
    if options.select:
        policies = [p for p in policies if any(matches_selector(p, s) for s in options.select)]
    return [p for p in policies if not any(matches_selector(p, s) for s in options.ignore)]


def _tasks(units: list[Unit], options: ScanOptions) -> list:
    var_files = tuple(path.resolve() for path in options.var_files)
    tasks = []
    for unit in units:
        if unit.kind == "terraform":
            tasks.append((TERRAFORM_LOADER, (unit.path, options.root, var_files), unit.rel))
        else:
            tasks.append((CLOUDFORMATION_LOADER, (unit.path, options.root), unit.rel))
    return tasks


def _load(units: list[Unit], options: ScanOptions) -> Iterator[LoadResult]:
    """Load every unit, one result at a time (so only one unit's resources are held):
    Terraform always in isolated workers, CloudFormation in-process unless parallel."""
    if not units:
        return
    if options.jobs <= 1 and all(u.kind == "cloudformation" for u in units):
        from mllint.loaders.cloudformation import load_template

        for unit in units:
            yield load_template(unit.path, options.root)
        return
    with WorkerPool(jobs=max(1, options.jobs), timeout=options.timeout) as pool:
        yield from pool.map(_tasks(units, options))


def scan(options: ScanOptions) -> ScanReport:
    policies = selected_policies(options)
    suppressor = Suppressor(policies, lambda: every_policy(options))
    found = discover(options.paths, options.root, exclude=options.rules.excluded)
    scope = Scope.of(options.paths, options.root)
    errors = list(found.errors)
    findings: list[Finding] = []
    modelled: list[tuple[str, str, str]] = []
    for unit, result in zip(found.units, _load(found.units, options)):
        errors.extend(result.errors)
        subjects = scope.subjects(unit, model_unit(result.resources))
        modelled.extend((s.resource.file, s.resource.address, s.facts["kind"]) for s in subjects)
        narrowed = scope.files if scope.narrows(unit) else None
        findings.extend(suppressor.apply(evaluate(subjects, policies), result, subjects, narrowed))
    findings = options.rules.apply(findings, options.root, policies)
    findings = options.baseline.apply(findings, options.root) if options.baseline else findings
    return ScanReport(
        findings=sorted(findings, key=Finding.sort_key),
        errors=sorted(set(errors)),
        units=found.units,
        skipped=found.skipped,
        policies=policies,
        modelled=sorted(modelled),
    )
