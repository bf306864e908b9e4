"""Formatters: each turns a ScanReport into text for one audience."""
from __future__ import annotations

from mllint.baseline import SOURCE as BASELINE
from mllint.records import Finding

SEVERITIES = ("error", "warning", "info")


def baselined(finding: Finding) -> bool:
    """True when the baseline (not an inline suppression) suppressed `finding`."""
    return finding.suppression is not None and finding.suppression.source == BASELINE


def counts(findings: list[Finding]) -> dict[str, int]:
    """Unsuppressed findings per severity, the suppressed total, and how many of those the baseline hid."""
    result = {severity: 0 for severity in SEVERITIES}
    result["suppressed"] = result["baselined"] = 0
    for finding in findings:
        result["suppressed" if finding.suppressed else finding.severity] += 1
        result["baselined"] += baselined(finding)
    return result
