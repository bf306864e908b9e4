"""The JSON report (schemas/report.schema.json): one documented shape for machines."""
from __future__ import annotations

import json
from typing import Iterator

from mllint import __version__
from mllint.records import Finding, Suppression
from mllint.report import counts
from mllint.scan import ScanReport


def _suppression(by: Suppression | None) -> dict | None:
    if by is None:
        return None
    return {"source": by.source, "scope": by.scope, "reason": by.reason, "file": by.file, "line": by.line}


def render(report: ScanReport) -> str:
    return "".join(chunks(report))


def chunks(report: ScanReport) -> Iterator[str]:
    """The report as `render` writes it (`json.dumps(document, indent=2)`), one finding at a
    time, so that a large report is never held whole in memory."""
    summary = counts(report.findings)
    summary["files"] = sum(unit.files for unit in report.units)
    summary["errors"] = len(report.errors)
    yield f'{{\n  "version": {json.dumps(__version__)},\n  "summary": {_indented(summary, 1)},\n  "findings": '
    if not report.findings:
        yield "[]"
    else:
        for index, f in enumerate(report.findings):
            yield ("[\n    " if index == 0 else ",\n    ") + _indented(_finding(f), 2)
        yield "\n  ]"
    errors = [{"file": e.file, "line": e.line, "message": e.message} for e in report.errors]
    yield f',\n  "errors": {_indented(errors, 1)}\n}}\n'


def _indented(value: object, level: int) -> str:
    """`value` as json.dumps(indent=2) writes it `level` levels deep (strings hold no raw newline)."""
    return json.dumps(value, indent=2).replace("\n", "\n" + "  " * level)


def _finding(f: Finding) -> dict:
    return {
        "policy": {"id": f.policy_id, "name": f.policy_name},
        "severity": f.severity,
        "title": f.title,
        "file": f.file,
        "line": f.line,
        "address": f.address,
        "message": f.message,
        "evidence": list(f.evidence),
        "fix": f.fix,
        "help_uri": f.help_uri,
        "suppressed": f.suppressed,
        "suppression": _suppression(f.suppression),
    }
