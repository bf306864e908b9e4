"""Text for people: findings grouped by file, then errors, then a summary line."""
from __future__ import annotations

from itertools import groupby

import click

from mllint.records import Finding
from mllint.report import SEVERITIES, baselined, counts
from mllint.scan import ScanReport

COLOURS = {"error": "red", "warning": "yellow", "info": "blue"}


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _finding(finding: Finding, colour: bool) -> list[str]:
    severity = finding.severity.ljust(7)
    if colour:
        severity = click.style(severity, fg=COLOURS[finding.severity], bold=True)
    code = f"{finding.policy_id} {finding.policy_name}"
    if colour:
        code = click.style(code, bold=True)
    lines = [f"  {severity}  {code}  {finding.address}  {finding.file}:{finding.line}"]
    if finding.suppressed:
        lines[0] += "  (suppressed)"
    lines.append(f"           {finding.message}")
    for item in finding.evidence:
        lines.append(f"           evidence: {item}")
    lines.append(f"           fix: {finding.fix}")
    lines.append(f"           docs: {finding.help_uri}")
    if finding.suppression is not None:
        by = finding.suppression
        lines.append(f"           suppressed by {by.source} at {by.file}:{by.line}: {by.reason}")
    return lines


def summary_line(report: ScanReport) -> str:
    tally = counts(report.findings)
    total = sum(tally[s] for s in SEVERITIES)
    files = sum(unit.files for unit in report.units)
    parts = [f"{_plural(tally[s], s)}" for s in SEVERITIES if tally[s]]
    text = f"Found {_plural(total, 'finding')}"
    if parts:
        text += f" ({', '.join(parts)})"
    text += f" in {_plural(files, 'file')}"
    if tally["suppressed"]:
        text += f"; {tally['suppressed']} suppressed"
    if tally["baselined"]:
        text += f" ({tally['baselined']} by the baseline, not listed)"
    if report.errors:
        text += f"; {_plural(len(report.errors), 'error')} while loading"
    return text + "."


def render(report: ScanReport, colour: bool = False, verbose: bool = False) -> str:
    lines: list[str] = []
    listed = (f for f in report.findings if not baselined(f) and (verbose or not f.suppressed))  # --verbose: inline-suppressed too
    for file, group in groupby(listed, key=lambda f: f.file):
        lines.append(click.style(file, underline=True) if colour else file)
        for finding in group:
            lines.extend(_finding(finding, colour))
        lines.append("")
    if report.errors:
        lines.append("Errors (these files were not fully scanned):")
        lines.extend(f"  {error}" for error in report.errors)
        lines.append("")
    if verbose and report.skipped:
        lines.append("Skipped (not Terraform or CloudFormation):")
        lines.extend(f"  {path}" for path in report.skipped)
        lines.append("")
    lines.append(summary_line(report))
    return "\n".join(lines) + "\n"
