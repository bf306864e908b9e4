"""The JSON report (schemas/report.schema.json): one documented shape for machines."""
from __future__ import annotations

import json

from mllint import __version__
from mllint.records import Suppression
from mllint.report import counts
from mllint.scan import ScanReport


def _suppression(by: Suppression | None) -> dict | None:
    if by is None:
        return None
    return {"source": by.source, "scope": by.scope, "reason": by.reason, "file": by.file, "line": by.line}


def render(report: ScanReport) -> str:
    summary = counts(report.findings)
    summary["files"] = sum(unit.files for unit in report.units)
    summary["errors"] = len(report.errors)
    document = {
        "version": __version__,
        "summary": summary,
        "findings": [
            {
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
            for f in report.findings
        ],
        "errors": [{"file": e.file, "line": e.line, "message": e.message} for e in report.errors],
    }
    return json.dumps(document, indent=2, sort_keys=False) + "\n"
