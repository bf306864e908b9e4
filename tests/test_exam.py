"""The exam question of every study note, each option judged as the note judges it.

fixtures/exam/expected.yaml maps each case (a Terraform root module or a
CloudFormation template, relative to fixtures/exam/) to its question, option,
verdict and the findings of a scan with every policy. `fail` is closed across
all policies: the scan finds exactly these (policy, address) pairs. The note's
right answer scans clean; a wrong option is flagged, or is clean with the
reason the code cannot show written down.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import FIXTURES
from mllint.scan import ScanOptions, scan

EXAM = FIXTURES / "exam"
EXPECTED = yaml.safe_load((EXAM / "expected.yaml").read_text())
# The answer each note gives to its exam question ("정답"), by note number.
RIGHT_ANSWERS = {"000": "B", "001": "A+C", "002": "B", "003": "D", "004": "D"}
FRAMEWORKS = ("terraform", "cloudformation")


def framework_of(case: str) -> str:
    return next(part for part in Path(case).parts if part in FRAMEWORKS)


def scan_case(path: Path):
    root = path if path.is_dir() else path.parent
    return scan(ScanOptions(paths=[path], root=root, jobs=1))


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_exam_case(case):
    expectation = EXPECTED[case]
    path = EXAM / case
    assert path.exists(), f"missing exam case {path}"
    report = scan_case(path)
    assert report.errors == [], [str(e) for e in report.errors]
    found: dict[str, list[str]] = {}
    for finding in report.findings:
        found.setdefault(finding.policy_id, []).append(finding.address)
    found = {policy: sorted(addresses) for policy, addresses in found.items()}
    expected = {policy: sorted(addresses) for policy, addresses in (expectation["fail"] or {}).items()}
    assert found == expected, "\n".join(f"{f.policy_id} {f.address}: {f.message} | {f.evidence}" for f in report.findings)


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_exam_verdict(case):
    expectation = EXPECTED[case]
    question, option, verdict = expectation["question"], expectation["option"], expectation["verdict"]
    assert case.startswith(f"{question}-"), f"{case} is not under question {question}"
    assert verdict in ("clean", "flagged")
    assert (verdict == "clean") == (not expectation["fail"]), f"{case}: verdict {verdict} but fail {expectation['fail']}"
    if option == RIGHT_ANSWERS[question]:
        assert verdict == "clean", f"{case} is the note's right answer and must scan clean"
    elif verdict == "clean":
        assert str(expectation.get("reason") or "").strip(), f"{case}: a wrong option judged clean needs its reason"


def test_every_question_covered_in_both_frameworks():
    for question, right in RIGHT_ANSWERS.items():
        for framework in FRAMEWORKS:
            options = {e["option"] for c, e in EXPECTED.items() if e["question"] == question and framework_of(c) == framework}
            assert right in options, f"question {question} has no {framework} case for its right answer {right}"
            assert options - {right}, f"question {question} has no {framework} case for a wrong option"


def test_every_exam_fixture_is_judged():
    cases = {str(p.relative_to(EXAM)) for p in EXAM.glob("*/*/terraform") if p.is_dir()}
    cases |= {str(p.relative_to(EXAM)) for p in EXAM.glob("*/*/cloudformation/*") if p.suffix in (".yaml", ".yml", ".json")}
    assert cases == set(EXPECTED), f"unlisted: {sorted(cases - set(EXPECTED))}; missing: {sorted(set(EXPECTED) - cases)}"
