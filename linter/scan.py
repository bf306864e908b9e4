"""The scan pipeline: discover -> load -> model -> evaluate -> select, in one direction."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterator

from mllint.baseline import Baseline
from mllint.config import Rules
from mllint.discover import Unit, discover
from mllint.policy import Policy, matches_selector
from mllint.records import Finding, LoadError, LoadResult
from mllint.scope import Scope
from mllint.suppress import DIAGNOSTIC_IDS
from mllint.unitscan import SCAN_TASK, UnitOutcome, UnitScanner, failed, install
from mllint.unitscan import every_policy as _every_policy
from mllint.workers import WorkerPool, default_jobs

TERRAFORM_LOADER = "mllint.loaders.terraform:load_module"
CLOUDFORMATION_LOADER = "mllint.loaders.cfn_nested:load_stack"  # a template with its nested stacks
PLAN_LOADER = "mllint.loaders.terraform_plan:load_plan"
IN_PROCESS = ("cloudformation", "terraform-plan")  # pure-Python loaders, run in this process unless parallel
DEFAULT_TIMEOUT_S = 30.0


@dataclass
class ScanOptions:
    paths: list[Path]
    root: Path
    jobs: int = field(default_factory=default_jobs)
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
    return _every_policy(tuple(options.policy_dirs), options.installed_packs)


def selected_policies(options: ScanOptions) -> list[Policy]:
    """The policies `--select` / `--ignore` leave enabled (select empty = all)."""
    policies = every_policy(options)
    options.rules.check(policies)
    if options.select:
        policies = [p for p in policies if any(matches_selector(p, s) for s in options.select)]
    return [p for p in policies if not any(matches_selector(p, s) for s in options.ignore)]


def _compact(finding: Finding, policy: Policy | None) -> Finding:
    """`finding` sharing its policy's strings (a finding from a worker arrives with its own
    copies of them: tens of MiB over a large scan)."""
    if policy is None or (finding.title, finding.fix, finding.help_uri) != (policy.title, policy.fix, policy.help_uri):
        return finding
    return replace(finding, title=policy.title, fix=policy.fix, help_uri=policy.help_uri)


def _tasks(units: list[Unit], options: ScanOptions) -> list:
    var_files = tuple(path.resolve() for path in options.var_files)
    tasks = []
    for unit in units:
        if unit.kind == "terraform":
            tasks.append((TERRAFORM_LOADER, (unit.path, options.root, var_files), unit.rel))
        elif unit.kind == "terraform-plan":
            tasks.append((PLAN_LOADER, (unit.path, options.root), unit.rel))
        else:
            tasks.append((CLOUDFORMATION_LOADER, (unit.path, options.root), unit.rel))
    return tasks


def _load_here(unit: Unit, options: ScanOptions) -> LoadResult:
    """Load a CloudFormation template or a Terraform plan in this process."""
    if unit.kind == "terraform-plan":
        from mllint.loaders.terraform_plan import load_plan

        return load_plan(unit.path, options.root)
    from mllint.loaders.cfn_nested import load_stack

    return load_stack(unit.path, options.root)


def _in_process(units: list[Unit], options: ScanOptions) -> bool:
    """CloudFormation and plans alone, with one job or one file: no worker is worth its start-up."""
    return (options.jobs <= 1 or len(units) == 1) and all(u.kind in IN_PROCESS for u in units)


def _load(units: list[Unit], options: ScanOptions) -> Iterator[LoadResult]:
    """Load every unit and do nothing else (the parse floor benchmarks/ measures the scan
    against): Terraform always in isolated workers, CloudFormation in-process unless parallel."""
    if not units:
        return
    if _in_process(units, options):
        for unit in units:
            yield _load_here(unit, options)
        return
    with WorkerPool(jobs=max(1, options.jobs), timeout=options.timeout) as pool:
        yield from pool.map(_tasks(units, options))


def _scan_units(units: list[Unit], options: ScanOptions, scanner: UnitScanner) -> Iterator[UnitOutcome]:
    """Load, model, evaluate and suppress every unit, in unit order: where `_load` would
    load it (a worker process, or this one), so only findings come back."""
    if not units:
        return
    if _in_process(units, options):
        for unit in units:
            yield scanner.scan(unit, _load_here(unit, options))
        return
    tasks = [(SCAN_TASK, (loader, args, unit), rel) for unit, (loader, args, rel) in zip(units, _tasks(units, options))]
    with WorkerPool(jobs=max(1, options.jobs), timeout=options.timeout, initializer=install,
                    initargs=(scanner,), failure=failed) as pool:
        yield from pool.map(tasks)


def scan(options: ScanOptions) -> ScanReport:
    policies = selected_policies(options)
    found = discover(options.paths, options.root, exclude=options.rules.excluded)
    scanner = UnitScanner.of(policies, options.policy_dirs, options.installed_packs, Scope.of(options.paths, options.root))
    errors = list(found.errors)
    findings: list[Finding] = []
    modelled: list[tuple[str, str, str]] = []
    reported: set[Finding] = set()  # a module file shared by two units yields its suppression diagnostics twice
    shared = {p.id: p for p in policies}
    for outcome in _scan_units(found.units, options, scanner):
        errors.extend(outcome.errors)
        modelled.extend(outcome.modelled)
        for finding in outcome.findings:
            if finding.policy_id in DIAGNOSTIC_IDS:
                if finding in reported:
                    continue
                reported.add(finding)
            findings.append(_compact(finding, shared.get(finding.policy_id)))
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
