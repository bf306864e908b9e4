"""Formatters: each turns a ScanReport into text for one audience."""
from __future__ import annotations

from mllint.records import Finding

SEVERITIES = ("error", "warning", "info")


def counts(findings: list[Finding]) -> dict[str, int]:
    """Unsuppressed findings per severity, plus the suppressed total."""
    result = {severity: 0 for severity in SEVERITIES}
    result["suppressed"] = 0
    for finding in findings:
        result["suppressed" if finding.suppressed else finding.severity] += 1
    return result
