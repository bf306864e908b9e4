"""Every policy against its fixtures: exactly the listed addresses fail, the passing ones exist and pass.

fixtures/<ID>/expected.yaml maps each case (a Terraform directory or a
CloudFormation file, relative to fixtures/<ID>/) to `fail` and `pass` lists of
resource addresses. The list of failures is closed: nothing else may fail.
"""
from __future__ import annotations

import pytest
import yaml

from conftest import FIXTURES, run_scan

CASES = []
for expected_file in sorted(FIXTURES.glob("*/expected.yaml")):
    policy_id = expected_file.parent.name
    if policy_id == "exam":
        continue  # whole-stack exam cases, judged by tests/test_exam.py
    for case, expectation in yaml.safe_load(expected_file.read_text()).items():
        CASES.append(pytest.param(policy_id, case, expectation, id=f"{policy_id}/{case}"))


def test_every_policy_has_fixtures_in_both_frameworks():
    from mllint.policy import load_policies

    for policy in load_policies():
        expected = FIXTURES / policy.id / "expected.yaml"
        assert expected.is_file(), f"{policy.id} has no fixtures"
        cases = yaml.safe_load(expected.read_text())
        for framework in ("terraform", "cloudformation"):
            fails = [c for c, e in cases.items() if c.startswith(framework + "/") and e.get("fail")]
            passes = [c for c, e in cases.items() if c.startswith(framework + "/") and e.get("pass")]
            assert fails, f"{policy.id} has no failing {framework} case"
            assert passes, f"{policy.id} has no passing {framework} case"


@pytest.mark.parametrize("policy_id, case, expectation", CASES)
def test_fixture(policy_id, case, expectation):
    path = FIXTURES / policy_id / case
    assert path.exists(), f"missing fixture {path}"
    report = run_scan(path, root=FIXTURES / policy_id, select=[policy_id])
    assert report.errors == [], [str(e) for e in report.errors]
    failed = sorted(f.address for f in report.findings if f.policy_id == policy_id)
    assert failed == sorted(expectation.get("fail", [])), "\n".join(
        f"{f.address}: {f.message} | {f.evidence}" for f in report.findings
    )
    modelled = {address for _, address, _ in report.modelled}
    for address in expectation.get("pass", []):
        assert address in modelled, f"{address} is not a modelled resource of {case}"
        assert address not in failed
