"""The checkov bridge's parts that need no checkov: ids, severities, resource types, verdicts, and
`mllint checkov-dir`. Real checkov runs in tests/test_checkov.py."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

import pytest
from click.testing import CliRunner

import mllint.scan
from conftest import FIXTURES, REPO
from mllint.checkov_bridge import EXTERNAL_CHECKS_DIR
from mllint.checkov_bridge.verdicts import SEVERITIES, Target, Verdicts, checkov_id, resource_types
from mllint.cli import main
from mllint.policy import load_policies


def test_ids_keep_the_policy_number():
    assert checkov_id("ML101") == "CKV_MLLINT_101"
    assert checkov_id("ML205") == "CKV_MLLINT_205"
    assert checkov_id("ML307") == "CKV_MLLINT_307"
    assert checkov_id("ACME12") == "CKV_MLLINT_ACME12"  # a custom pack's prefix is kept
    ids = [checkov_id(p.id) for p in load_policies()]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"CKV_MLLINT_\d{3}", i) for i in ids)


def test_every_severity_maps_to_a_checkov_severity():
    assert SEVERITIES == {"error": "HIGH", "warning": "MEDIUM", "info": "LOW"}
    assert {p.severity for p in load_policies()} <= set(SEVERITIES)


def test_every_policy_judges_types_of_both_frameworks():
    for policy in load_policies():
        terraform, cloudformation = resource_types(policy)
        assert terraform and all(t.startswith("aws_") for t in terraform), policy.id
        assert cloudformation and all(t.startswith("AWS::") for t in cloudformation), policy.id
    ml101 = next(p for p in load_policies() if p.id == "ML101")
    assert resource_types(ml101) == (
        ["aws_batch_job_definition", "aws_ecs_task_definition"],
        ["AWS::Batch::JobDefinition", "AWS::ECS::TaskDefinition"],
    )


def test_external_checks_dir_holds_only_the_checks_module():
    """checkov executes every .py file of the directory, and needs its __init__.py."""
    assert sorted(p.name for p in EXTERNAL_CHECKS_DIR.glob("*.py")) == ["__init__.py", "mllint_policies.py"]


def test_checkov_dir_prints_the_directory():
    result = CliRunner().invoke(main, ["checkov-dir"])
    assert result.exit_code == 0
    assert result.stdout.strip() == str(EXTERNAL_CHECKS_DIR)
    if find_spec("checkov") is None:
        assert "pip install 'mllint[checkov]'" in result.stderr


def test_checkov_dir_does_not_import_checkov():
    code = "import sys; from mllint.cli import main; sys.argv = ['mllint', 'checkov-dir']\n" \
           "try:\n    main()\nexcept SystemExit:\n    pass\nassert 'checkov' not in sys.modules, 'imported checkov'"
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


@pytest.fixture
def scans(monkeypatch):
    """Count mllint scans made by the bridge."""
    made = []
    real = mllint.scan.scan

    def counting(options):
        made.append(options)
        return real(options)

    monkeypatch.setattr(mllint.scan, "scan", counting)
    return made


def test_verdicts_come_from_one_mllint_scan_of_the_target(scans):
    root = FIXTURES / "ML101"
    target = Target((root,), root)
    case = root / "terraform" / "fargate_training_task" / "main.tf"
    verdicts = Verdicts()

    failed = verdicts.answer(target, case, "aws_ecs_task_definition.train", "ML101")
    assert failed.result == "FAILED"
    assert failed.details[0] == "aws_ecs_task_definition.train requests 1 GPU(s) but runs on Fargate, which has no GPUs"
    assert "evidence: requires_compatibilities includes FARGATE" in failed.details
    assert failed.details[-1].startswith("fix: ")

    assert verdicts.answer(target, case, "aws_ecs_task_definition.metrics_exporter", "ML101").result == "PASSED"
    module = root / "terraform" / "fargate_gpu_in_local_module" / "modules" / "train" / "main.tf"
    assert verdicts.answer(target, module, "module.train.aws_ecs_task_definition.this", "ML101").result == "FAILED"
    template = root / "cloudformation" / "fargate_gpu_task.yaml"
    assert verdicts.answer(target, template, "TrainTaskDefinition", "ML101").result == "FAILED"
    assert verdicts.answer(target, template, "MetricsExporterTaskDefinition", "ML101").result == "PASSED"
    assert len(scans) == 1


def test_unmodelled_resources_and_unselected_policies_are_unknown(tmp_path: Path, scans):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".mllint.yaml").write_text("ignore: [ML101]\n")
    stack = tmp_path / "main.tf"
    stack.write_text((FIXTURES / "ML101" / "terraform" / "fargate_training_task" / "main.tf").read_text())
    target = Target((tmp_path,), tmp_path)
    verdicts = Verdicts()
    ignored = verdicts.answer(target, stack, "aws_ecs_task_definition.train", "ML101")
    assert ignored.result == "UNKNOWN"
    assert ignored.details == ("ML101 is not selected by mllint's configuration",)
    assert verdicts.answer(target, stack, "aws_ecs_task_definition.nowhere", "ML204").result == "UNKNOWN"
    assert verdicts.answer(target, tmp_path / "other.tf", "aws_ecs_task_definition.train", "ML204").result == "UNKNOWN"
    assert [p.id for p in verdicts.policies([target])][:3] == ["ML102", "ML103", "ML104"]
    assert len(scans) == 1


def test_mllint_suppressions_become_skips_with_their_reason(tmp_path: Path):
    stack = tmp_path / "stack"
    shutil.copytree(FIXTURES / "ML101" / "terraform" / "fargate_training_task", stack)
    line = 'resource "aws_ecs_task_definition" "train" {\n'
    main_tf = stack / "main.tf"
    main_tf.write_text(main_tf.read_text().replace(line, line + "  # mllint: ignore[ML101] -- EC2 pool not ready\n"))
    answer = Verdicts().answer(Target((tmp_path,), tmp_path), main_tf, "aws_ecs_task_definition.train", "ML101")
    assert answer.result == "SKIPPED"
    assert answer.reason == "mllint comment at stack/main.tf:63: EC2 pool not ready"


def test_the_wheel_ships_the_bridge_packages():
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    packages = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    assert {"mllint.checkov_bridge", "mllint.checkov_bridge.external"} <= set(packages)
