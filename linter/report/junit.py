"""JUnit XML for CI servers: one test case per resource and applicable policy."""
from __future__ import annotations

from collections import defaultdict
from xml.etree import ElementTree as ET

from mllint.records import Finding
from mllint.scan import ScanReport


def _outcome(case: ET.Element, f: Finding) -> bool:
    """Add the finding to its test case: skipped when suppressed, else a failure (True)."""
    if f.suppressed:
        reason = f" ({f.suppression.reason})" if f.suppression else ""
        ET.SubElement(case, "skipped", message=f"suppressed{reason}: {f.message}")
        return False
    failure = ET.SubElement(case, "failure", message=f.message, type=f.severity)
    failure.text = "\n".join([f"{f.file}:{f.line}", *(f"evidence: {e}" for e in f.evidence), f"fix: {f.fix}", f"docs: {f.help_uri}"])
    return True


def render(report: ScanReport) -> str:
    findings = defaultdict(list)
    for f in report.findings:
        findings[(f.file, f.address, f.policy_id)].append(f)
    suites = ET.Element("testsuites", name="mllint")
    by_file: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for file, address, kind in report.modelled:
        by_file[file].append((address, kind))
    for e in report.errors:
        by_file.setdefault(e.file, [])
    for f in report.findings:
        by_file.setdefault(f.file, [])
    for file in sorted(by_file):
        suite = ET.SubElement(suites, "testsuite", name=file)
        tests = failures = errors = skipped = 0
        for e in (e for e in report.errors if e.file == file):
            case = ET.SubElement(suite, "testcase", classname=file, name="load")
            ET.SubElement(case, "error", message=e.message, type="load-error").text = str(e)
            tests += 1
            errors += 1
        for address, kind in by_file[file]:
            for policy in report.policies:
                if kind not in policy.kinds:
                    continue
                case = ET.SubElement(suite, "testcase", classname=file, name=f"{policy.id} {policy.name} {address}")
                tests += 1
                for f in findings.pop((file, address, policy.id), []):
                    if _outcome(case, f):
                        failures += 1
                    else:
                        skipped += 1
        for key in sorted(k for k in findings if k[0] == file):  # on no modelled resource: suppression diagnostics
            for f in findings[key]:
                case = ET.SubElement(suite, "testcase", classname=file, name=f"{f.policy_id} {f.policy_name} {f.address}")
                tests += 1
                if _outcome(case, f):
                    failures += 1
                else:
                    skipped += 1
        suite.set("tests", str(tests))
        suite.set("failures", str(failures))
        suite.set("errors", str(errors))
        suite.set("skipped", str(skipped))
    suites.set("tests", str(sum(int(s.get("tests")) for s in suites)))
    suites.set("failures", str(sum(int(s.get("failures")) for s in suites)))
    suites.set("errors", str(sum(int(s.get("errors")) for s in suites)))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
