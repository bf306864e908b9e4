"""GitHub Actions workflow commands: one annotation per finding and per load error."""
from __future__ import annotations

from mllint.scan import ScanReport

COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def render(report: ScanReport) -> str:
    lines = []
    for f in report.findings:
        if f.suppressed:
            continue
        title = _property(f"{f.policy_id} {f.policy_name}")
        body = _data("\n".join([f.message, *(f"evidence: {e}" for e in f.evidence), f"fix: {f.fix}", f"docs: {f.help_uri}"]))
        lines.append(f"::{COMMANDS[f.severity]} file={_property(f.file)},line={max(f.line, 1)},title={title}::{body}")
    for e in report.errors:
        location = f"file={_property(e.file)}" + (f",line={e.line}" if e.line else "")
        lines.append(f"::error {location},title=mllint load error::{_data(e.message)}")
    return "".join(line + "\n" for line in lines)
