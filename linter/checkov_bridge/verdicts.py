"""Answer checkov's per-resource checks from mllint's own scan.

checkov asks a check about one resource at a time, but mllint judges a resource
with the resources linked to it and the module that calls it. So the bridge
scans what checkov scans with mllint's own pipeline - once per target and
process - and answers each check from the findings on that file and address:
the verdicts are mllint's by construction. Nothing here imports checkov.
checkov judges a nested stack's template on its own, by logical id: its
resource fails when mllint fails it in any stack that nests it.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from mllint.loaders.cfn_nested import template_address
from mllint.policy import Policy
from mllint.records import Finding
from mllint.scan import ScanOptions, ScanReport

# checkov's CheckResult and Severities names.
FAILED, PASSED, SKIPPED, UNKNOWN = "FAILED", "PASSED", "SKIPPED", "UNKNOWN"
SEVERITIES = {"error": "HIGH", "warning": "MEDIUM", "info": "LOW"}

log = logging.getLogger("mllint")


def checkov_id(policy_id: str) -> str:
    """ML101 -> CKV_MLLINT_101, ML205 -> CKV_MLLINT_205 (the number is kept, series and all);
    a custom pack's ACME7 -> CKV_MLLINT_ACME7."""
    match = re.fullmatch(r"ML(\d+)", policy_id)
    return f"CKV_MLLINT_{match.group(1) if match else policy_id}"


def resource_types(policy: Policy) -> tuple[list[str], list[str]]:
    """The Terraform and the CloudFormation resource types the policy judges."""
    from mllint.model import KINDS

    types = sorted(native for native, (kind, _) in KINDS.items() if kind in policy.kinds)
    return [t for t in types if not t.startswith("AWS::")], [t for t in types if t.startswith("AWS::")]


@dataclass(frozen=True)
class Target:
    """What a checkov run scans: a `-d` directory, or its `-f` files; and its `--var-file`s."""

    paths: tuple[Path, ...]  # absolute
    root: Path
    var_files: tuple[Path, ...] = ()

    def holds(self, path: Path) -> bool:
        return any(path == p or p in path.parents for p in self.paths)


@dataclass(frozen=True)
class Answer:
    result: str  # FAILED | PASSED | SKIPPED | UNKNOWN
    details: tuple[str, ...] = ()  # shown under the check in checkov's output
    reason: str = ""  # why it was skipped


def options_for(target: Target) -> ScanOptions:
    """The options of `mllint scan PATHS`, with the configuration file that scan would find."""
    from mllint.config import resolve

    settings = resolve(list(target.paths))
    return ScanOptions(
        paths=list(target.paths),
        root=target.root,
        var_files=list(target.var_files),
        policy_dirs=list(settings.policy_dirs),
        select=list(settings.select),
        ignore=list(settings.ignore),
        rules=settings.rules,
    )


def _details(finding: Finding) -> tuple[str, ...]:
    return (finding.message, *(f"evidence: {item}" for item in finding.evidence), f"fix: {finding.fix}")


def _suppressed_because(finding: Finding) -> str:
    suppression = finding.suppression
    if suppression is None:
        return "suppressed by mllint"
    where = f"{suppression.file}:{suppression.line}" if suppression.line else suppression.file
    return f"mllint {suppression.source} at {where}: {suppression.reason}" if suppression.reason else f"mllint {suppression.source} at {where}"


class _Scanned:
    """One mllint scan, indexed by absolute file and address."""

    def __init__(self, report: ScanReport, root: Path):
        self.policies = {p.id for p in report.policies}
        self.modelled = {(str((root / file).resolve()), template_address(address)) for file, address, _ in report.modelled}
        self.findings: dict[tuple[str, str, str], list[Finding]] = {}
        for finding in report.findings:
            key = (str((root / finding.file).resolve()), template_address(finding.address), finding.policy_id)
            self.findings.setdefault(key, []).append(finding)
        self.errors = [str(error) for error in report.errors]


class Verdicts:
    """mllint's scan of each target, made once, and the answers read from it."""

    def __init__(self) -> None:
        self._scans: dict[Target, _Scanned] = {}

    def policies(self, targets: list[Target]) -> list[Policy]:
        """The policies `mllint scan` would run on these targets (all, when none is known) that judge
        resources (not the suppression diagnostics, which judge mllint's own comments)."""
        from mllint.policy import load_policies
        from mllint.scan import selected_policies

        if targets:
            found = {p.id: p for target in targets for p in selected_policies(options_for(target))}
        else:
            found = {p.id: p for p in load_policies()}
        return [found[key] for key in sorted(found) if found[key].kinds]

    def answer(self, target: Target, file: Path, address: str, policy_id: str) -> Answer:
        """mllint's verdict on `policy_id` for the resource at `address` in `file` (absolute)."""
        scanned = self._scan(target)
        if policy_id not in scanned.policies:
            return Answer(UNKNOWN, (f"{policy_id} is not selected by mllint's configuration",))
        if (str(file), address) not in scanned.modelled:  # a skipped or excluded directory, or a load error
            return Answer(UNKNOWN, (f"mllint did not judge {address} in {file}",))
        findings = scanned.findings.get((str(file), address, policy_id), [])
        live = [f for f in findings if not f.suppressed]
        if live:
            return Answer(FAILED, _details(live[0]))
        if findings:
            return Answer(SKIPPED, _details(findings[0]), reason=_suppressed_because(findings[0]))
        return Answer(PASSED)

    def _scan(self, target: Target) -> _Scanned:
        if target not in self._scans:
            from mllint.scan import scan

            scanned = _Scanned(scan(options_for(target)), target.root)
            for error in scanned.errors:
                log.error("mllint: error: %s", error)
            self._scans[target] = scanned
        return self._scans[target]
