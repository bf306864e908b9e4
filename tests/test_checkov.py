"""mllint's policies inside real checkov: the same verdicts as `mllint scan` on the fixtures.

checkov pins many packages, so it lives in its own virtualenv, made by .ci/run:
`python3 -m venv .venv-checkov && .venv-checkov/bin/pip install -e '.[checkov]'`
(or point MLLINT_CHECKOV_VENV at one). These tests run that virtualenv's `checkov`
and `mllint checkov-dir` as subprocesses, so this environment needs no checkov.
Without the virtualenv they are skipped, except in CI (CI=true), where they fail.
"""
from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from conftest import FIXTURES, REPO, run_scan
from mllint.checkov_bridge import EXTERNAL_CHECKS_DIR
from mllint.checkov_bridge.verdicts import SEVERITIES, checkov_id
from mllint.loaders.tf_registry import module_address
from mllint.loaders.cfn_intrinsics import Resolver
from mllint.loaders.cfn_nested import template_address
from mllint.loaders.cfn_yaml import TemplateError, parse_template
from mllint.policy import load_policies
from mllint.scan import ScanOptions, ScanReport, scan

CHECKOV_VENV = Path(os.environ.get("MLLINT_CHECKOV_VENV", REPO / ".venv-checkov"))
POLICIES = {p.id: p for p in load_policies()}
CHECKOV_IDS = {checkov_id(i): p for i, p in POLICIES.items()}
CFN_SUFFIXES = (".yaml", ".yml", ".json", ".template")


@dataclass(frozen=True)
class Result:
    check_id: str
    result: str  # PASSED | FAILED | SKIPPED
    file: str  # relative to the scanned directory
    address: str  # Terraform address or CloudFormation logical id
    severity: str
    guideline: str
    comment: str  # checkov's suppress comment, for SKIPPED


def _bin(name: str) -> Path:
    path = CHECKOV_VENV / "bin" / name
    if not path.is_file():
        message = (f"no checkov virtualenv at {CHECKOV_VENV} (python3 -m venv .venv-checkov && "
                   ".venv-checkov/bin/pip install -e '.[checkov]')")
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


@pytest.fixture(scope="module")
def checks_dir() -> str:
    run = subprocess.run([str(_bin("mllint")), "checkov-dir"], capture_output=True, text=True, env=_env(), check=True)
    assert run.stderr == ""  # checkov is installed there: no note
    directory = run.stdout.strip()
    assert Path(directory) == EXTERNAL_CHECKS_DIR, "the checkov virtualenv must run this checkout's mllint (pip install -e)"
    return directory


def checkov(checks_dir: str, *args: str, root: Path = REPO) -> tuple[int, list[Result]]:
    """Run real checkov (in REPO) with mllint's checks only: its exit status and every result,
    with file names relative to `root` (checkov gives CloudFormation's relative to REPO, its cwd)."""
    run = subprocess.run(
        [str(_bin("checkov")), *args, "--framework", "terraform", "cloudformation", "--skip-download",
         "--external-checks-dir", checks_dir, "--check", "CKV_MLLINT_*", "--output", "json"],
        cwd=REPO, capture_output=True, text=True, env=_env(), check=False, timeout=600,
    )
    assert run.returncode in (0, 1), run.stderr[-3000:]
    reports = json.loads(run.stdout)
    results = []
    for report in reports if isinstance(reports, list) else [reports]:
        for status in ("passed_checks", "failed_checks", "skipped_checks"):
            for record in report.get("results", {}).get(status, []):
                resource = record["resource"]
                address = resource if report["check_type"] == "terraform" else resource.split(".", 1)[1]
                results.append(Result(
                    check_id=record["check_id"],
                    result=record["check_result"]["result"],
                    file=(REPO / record["file_abs_path"]).resolve().relative_to(root.resolve()).as_posix(),
                    address=address,
                    severity=record["severity"],
                    guideline=record["guideline"],
                    comment=record["check_result"].get("suppress_comment", ""),
                ))
    return run.returncode, results


def keys(results: list[Result], result: str) -> set[tuple[str, str, str]]:
    return {(r.check_id, r.file, r.address) for r in results if r.result == result}


def terraform_json(file: str) -> bool:
    """checkov reads `.tf.json` with its own `terraform_json` framework, which names resources
    `resource.<name>`: compared by file and line in test_terraform_json_framework_gives_mllint_verdicts."""
    return file.endswith(".tf.json")


_MODULE_CALL = re.compile(r'module\s+"([^"]+)"\s*\{[^{}]*?\bsource\s*=\s*"([^"]+)"')


def _registry_module_calls() -> set[tuple[str, str]]:
    """(file, module name) of the fixtures' calls of registry modules mllint knows: checkov with
    --skip-download expands none of them (neither from .terraform/modules nor from inputs)."""
    calls = set()
    for path in FIXTURES.rglob("*.tf"):
        if ".terraform" not in path.parts:
            for name, source in _MODULE_CALL.findall(path.read_text()):
                if module_address(source):
                    calls.add((path.relative_to(FIXTURES).as_posix(), name))
    return calls


REGISTRY_CALLS = _registry_module_calls()


def _cloudformation_unseen() -> set[tuple[str, str]]:
    """(file, logical id) of the fixtures' CloudFormation resources checkov drops: those that
    Fn::ForEach generates (checkov does not expand it) and those under a Condition that is false
    with the parameters' defaults (checkov removes them; mllint keeps them, with a note)."""
    unseen = set()
    for path in sorted(FIXTURES.rglob("*")):
        if path.suffix not in CFN_SUFFIXES or "cloudformation" not in path.relative_to(FIXTURES).parts:
            continue
        try:
            template = parse_template(path.read_text())
        except (TemplateError, UnicodeDecodeError):
            continue
        if not isinstance(template, dict) or not isinstance(template.get("Resources"), dict):
            continue
        resolver = Resolver(template)
        for address, body in resolver.bodies.items():
            condition = body.get("Condition") if isinstance(body, dict) else None
            if resolver.origins[address] != address or (
                    isinstance(condition, str) and resolver.condition(condition) is False):
                unseen.add((path.relative_to(FIXTURES).as_posix(), address))
    return unseen


CLOUDFORMATION_UNSEEN = _cloudformation_unseen()


def unseen_by_checkov(file: str, address: str) -> bool:
    """A resource of a registry module call in `file` (or in a case directory), or of a plan JSON
    case (`<ID>/plan/`, read by checkov's `terraform_plan` framework, not run here), or a
    CloudFormation resource checkov drops (CLOUDFORMATION_UNSEEN): mllint judges it, this checkov
    run never sees it (docs/checkov.md)."""
    return "/.terraform/" in file or "/plan/" in file or (file, address) in CLOUDFORMATION_UNSEEN or any(
        (called == file or called.startswith(file + "/")) and address.startswith((f"module.{name}.", f"module.{name}["))
        for called, name in REGISTRY_CALLS
    )


def without_terraform_json(report: ScanReport) -> ScanReport:
    """mllint's report without the `.tf.json` resources, which `--framework terraform` does not read,
    and without the resources of registry module calls, which checkov does not expand."""
    return dataclasses.replace(
        report,
        findings=[f for f in report.findings if not terraform_json(f.file) and not unseen_by_checkov(f.file, f.address)],
        modelled=[m for m in report.modelled if not terraform_json(m[0]) and not unseen_by_checkov(m[0], m[1])],
    )


@pytest.fixture(scope="module")
def fixtures_run(checks_dir):
    """checkov and `mllint scan` over every fixture, once."""
    status, results = checkov(checks_dir, "--directory", "fixtures", root=FIXTURES)
    return status, results, run_scan(FIXTURES, root=FIXTURES)


def test_checkov_fails_exactly_what_mllint_scan_fails(fixtures_run):
    status, results, report = fixtures_run
    report = without_terraform_json(report)
    judged = [f for f in report.findings if f.policy_id in POLICIES]  # not the suppression diagnostics
    expected_failed = {(checkov_id(f.policy_id), f.file, template_address(f.address)) for f in judged if not f.suppressed}
    expected_skipped = {(checkov_id(f.policy_id), f.file, template_address(f.address)) for f in judged if f.suppressed}
    failed = keys(results, "FAILED")
    assert status == 1
    assert sorted(failed - expected_failed) == [] and sorted(expected_failed - failed) == []
    assert keys(results, "SKIPPED") == expected_skipped
    assert any(file.endswith(".tf") for _, file, _ in failed)
    assert any(file.endswith(CFN_SUFFIXES) for _, file, _ in failed)


def test_checkov_judges_every_resource_mllint_judges(fixtures_run):
    """Every (policy, resource) that mllint models is answered PASSED/FAILED/SKIPPED in checkov: none
    is left UNKNOWN (checkov would drop it from the report) and checkov judges nothing mllint doesn't."""
    _, results, report = fixtures_run
    report = without_terraform_json(report)
    modelled = {
        (checkov_id(policy.id), file, template_address(address))
        for file, address, kind in report.modelled
        for policy in POLICIES.values()
        if kind in policy.kinds
    }
    judged = {(r.check_id, r.file, r.address) for r in results}
    assert sorted(modelled - judged) == [] and sorted(judged - modelled) == []


def test_checkov_reports_severity_name_and_guide(fixtures_run):
    _, results, _ = fixtures_run
    seen = set()
    for result in results:
        policy = CHECKOV_IDS[result.check_id]
        assert result.severity == SEVERITIES[policy.severity]
        assert result.guideline == policy.help_uri
        seen.add(result.severity)
    assert seen == {"HIGH", "MEDIUM", "LOW"}


EXPECTED = sorted(FIXTURES.glob("ML*/expected.yaml"))


@pytest.mark.parametrize("expected_file", EXPECTED, ids=[e.parent.name for e in EXPECTED])
def test_fixture_expectations_hold_in_checkov(fixtures_run, expected_file: Path):
    """Each policy's closed fail list, case by case, as checkov reports it; and the listed passing
    resources that the policy judges (pass lists also name resources of other kinds) pass."""
    _, results, report = fixtures_run
    policy = POLICIES[expected_file.parent.name]
    check = checkov_id(policy.id)
    for case, expectation in yaml.safe_load(expected_file.read_text()).items():
        where = f"{policy.id}/{case}"

        def inside(file: str) -> bool:
            return file == where or file.startswith(where + "/")

        mine = [r for r in results if r.check_id == check and inside(r.file)]
        in_json = {address for file, address, _ in report.modelled if inside(file) and terraform_json(file)}
        in_json |= {a for a in expectation.get("fail", []) + expectation.get("pass", [])
                    if unseen_by_checkov(where, a)}  # registry modules, Fn::ForEach, false Conditions
        failed = {template_address(address) for address in set(expectation.get("fail", [])) - in_json}  # checkov: nested stacks on their own
        assert sorted(r.address for r in mine if r.result == "FAILED") == sorted(failed), where
        judged = {address for file, address, kind in report.modelled if inside(file) and kind in policy.kinds}
        passes = {template_address(address) for address in set(expectation.get("pass", [])) & (judged - in_json)}
        assert passes <= {r.address for r in mine if r.result == "PASSED"}, where


def test_terraform_json_framework_gives_mllint_verdicts(checks_dir, fixtures_run):
    """`.tf.json` (and CDK for Terraform's cdk.tf.json) through checkov's `terraform_json` framework:
    the same failures as `mllint scan`, matched by file and first line (checkov names the resource
    `resource.<name>`, without its type)."""
    run = subprocess.run(
        [str(_bin("checkov")), "--directory", "fixtures", "--framework", "terraform_json", "--skip-download",
         "--external-checks-dir", checks_dir, "--check", "CKV_MLLINT_*", "--output", "json"],
        cwd=REPO, capture_output=True, text=True, env=_env(), check=False, timeout=600,
    )
    assert run.returncode == 1, run.stderr[-3000:]
    report = json.loads(run.stdout)
    failed = {
        (record["check_id"], Path(record["file_abs_path"]).resolve().relative_to(FIXTURES).as_posix(),
         record["file_line_range"][0])
        for record in report["results"]["failed_checks"]
    }
    expected = {(checkov_id(f.policy_id), f.file, f.line) for f in fixtures_run[2].findings
                if f.policy_id in POLICIES and terraform_json(f.file) and not f.suppressed}
    assert ("CKV_MLLINT_201", "ML201/terraform/cdktf_nightly_retrain/cdktf.out/stacks/ml-training/cdk.tf.json", 87) in failed
    assert failed == expected


def _copy_case(case: str, to: Path) -> Path:
    shutil.copytree(FIXTURES / case, to)
    return to


def test_skip_comments_of_checkov_and_of_mllint(checks_dir, tmp_path: Path):
    source = "ML101/terraform/fargate_training_task"
    line = 'resource "aws_ecs_task_definition" "train" {\n'
    comments = {
        "checkov_skip": "  #checkov:skip=CKV_MLLINT_101:GPU placeholder until the EC2 pool exists\n",
        "mllint_ignore": "  # mllint: ignore[ML101] -- GPU placeholder until the EC2 pool exists\n",
    }
    for name, comment in comments.items():
        main = _copy_case(source, tmp_path / name) / "main.tf"
        text = main.read_text()
        assert text.count(line) == 1
        main.write_text(text.replace(line, line + comment))
    _, results = checkov(checks_dir, "--directory", str(tmp_path), root=tmp_path)
    train = {r.file.split("/")[0]: r for r in results
             if r.check_id == "CKV_MLLINT_101" and r.address == "aws_ecs_task_definition.train"}
    assert train["checkov_skip"].result == "SKIPPED"
    assert train["checkov_skip"].comment == "GPU placeholder until the EC2 pool exists"
    assert train["mllint_ignore"].result == "SKIPPED"
    assert train["mllint_ignore"].comment == "mllint comment at mllint_ignore/main.tf:63: GPU placeholder until the EC2 pool exists"
    assert not keys(results, "FAILED") & {("CKV_MLLINT_101", f"{d}/main.tf", "aws_ecs_task_definition.train") for d in comments}


def test_files_mode_matches_mllint_scan_of_the_same_files(checks_dir):
    """`checkov -f`: the files named, each judged as `mllint scan FILE...` judges it (a .tf file with
    the rest of its module directory)."""
    files = ["fixtures/ML101/terraform/compatibility_from_tfvars/main.tf",
             "fixtures/ML101/cloudformation/gpu_count_parameter_default.yaml"]
    args = [arg for file in files for arg in ("--file", file)]
    status, results = checkov(checks_dir, *args)
    report = scan(ScanOptions(paths=[REPO / f for f in files], root=REPO, jobs=1))
    expected = {(checkov_id(f.policy_id), f.file, f.address) for f in report.findings if f.policy_id in POLICIES}
    failed = keys(results, "FAILED")
    assert status == 1
    assert failed == expected
    assert ("CKV_MLLINT_101", files[0], "aws_ecs_task_definition.forecast_train") in failed
    assert ("CKV_MLLINT_101", files[1], "FinetuneTaskDefinition") in failed


def test_var_files_and_skipped_directories(checks_dir, tmp_path: Path):
    """checkov's `--var-file` reaches mllint's evaluation; a directory `mllint scan` skips (venv/)
    leaves its resources unjudged, which checkov leaves out of its report."""
    _copy_case("ML101/terraform/compatibility_from_variable_default", tmp_path / "stack")
    (tmp_path / "ec2.tfvars").write_text('launch_compatibility = "EC2"\n')
    _copy_case("ML101/terraform/fargate_training_task", tmp_path / "venv" / "stack")
    address = ("CKV_MLLINT_101", "stack/main.tf", "aws_ecs_task_definition.embedding_backfill")
    _, results = checkov(checks_dir, "--directory", str(tmp_path), root=tmp_path)
    assert address in keys(results, "FAILED")  # the variable's default is FARGATE
    _, results = checkov(checks_dir, "--directory", str(tmp_path), "--var-file", str(tmp_path / "ec2.tfvars"), root=tmp_path)
    assert address in keys(results, "PASSED")
    assert address not in keys(results, "FAILED")
    assert {r.file for r in results} == {"stack/main.tf"}


def test_a_broken_config_fails_the_checkov_run(checks_dir, tmp_path: Path):
    (tmp_path / ".git").mkdir()  # the repository root, where the config search stops
    (tmp_path / ".mllint.yaml").write_text("fail_onn: error\n")
    _copy_case("ML101/terraform/fargate_training_task", tmp_path / "stack")
    status, results = checkov(checks_dir, "--directory", str(tmp_path), root=tmp_path)
    assert status == 1
    assert {(r.check_id, r.result) for r in results} == {("CKV_MLLINT_ERROR", "FAILED")}
    assert {r.address for r in results} == {"aws_ecs_task_definition.train", "aws_ecs_task_definition.metrics_exporter"}
