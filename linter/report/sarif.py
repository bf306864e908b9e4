"""SARIF 2.1.0 for code-scanning services: one rule descriptor per policy, results with regions."""
from __future__ import annotations

import hashlib
import json

from mllint import __version__
from mllint.records import Suppression
from mllint.scan import ScanReport

LEVELS = {"error": "error", "warning": "warning", "info": "note"}
SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/mllint/mllint"


def fingerprint(policy_id: str, file: str, address: str) -> str:
    """Stable across edits elsewhere in the file: no line numbers."""
    return hashlib.sha256(f"{policy_id}|{file}|{address}".encode()).hexdigest()[:32]


def _suppression(by: Suppression | None) -> dict:
    """A SARIF suppression: in the source (comment, Metadata, tag) or external (the baseline)."""
    if by is None:
        return {"kind": "inSource"}
    suppression = {"kind": "external" if by.source == "baseline" else "inSource", "justification": by.reason}
    if by.line:
        where = {"artifactLocation": {"uri": by.file, "uriBaseId": "%SRCROOT%"}, "region": {"startLine": by.line}}
        suppression["location"] = {"physicalLocation": where}
    return suppression


def render(report: ScanReport) -> str:
    rules = [
        {
            "id": p.id,
            "name": p.name,
            "shortDescription": {"text": p.title},
            "fullDescription": {"text": p.description or p.title},
            "helpUri": p.help_uri,
            "help": {"text": f"{p.title}. Fix: {p.fix} See {p.help_uri}"},
            "defaultConfiguration": {"level": LEVELS[p.severity]},
            "properties": {"tags": ["ml", "aws", "architecture"]},
        }
        for p in report.policies
    ]
    index = {p.id: i for i, p in enumerate(report.policies)}
    results = []
    for f in report.findings:
        result = {
            "ruleId": f.policy_id,
            "level": LEVELS[f.severity],
            "message": {"text": " ".join([f.message, *(f"Evidence: {e}." for e in f.evidence), f"Fix: {f.fix}"])},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": f.file, "uriBaseId": "%SRCROOT%"},
                        "region": {"startLine": max(f.line, 1)},
                    },
                    "logicalLocations": [{"fullyQualifiedName": f.address, "kind": "resource"}],
                }
            ],
            "partialFingerprints": {"mllint/v1": fingerprint(f.policy_id, f.file, f.address)},
        }
        if f.policy_id in index:
            result["ruleIndex"] = index[f.policy_id]
        if f.suppressed:
            result["suppressions"] = [_suppression(f.suppression)]
        results.append(result)
    notifications = [
        {
            "level": "error",
            "message": {"text": e.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": e.file, "uriBaseId": "%SRCROOT%"},
                        **({"region": {"startLine": e.line}} if e.line else {}),
                    }
                }
            ],
        }
        for e in report.errors
    ]
    document = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "mllint", "version": __version__, "informationUri": INFORMATION_URI, "rules": rules}},
                "invocations": [{"executionSuccessful": not report.errors, "toolExecutionNotifications": notifications}],
                "results": results,
            }
        ],
    }
    return json.dumps(document, indent=2) + "\n"
