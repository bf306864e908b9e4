"""What makes scans fast and lean behave like the plain pipeline: work done in the workers,
the default number of jobs, the JSON report written piece by piece."""
from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import pytest
from click.testing import CliRunner

import mllint.scan
from conftest import FIXTURES, run_scan
from mllint.cli import main
from mllint.policy import load_policies
from mllint.report.json_report import chunks, render
from mllint.workers import default_jobs

GPU_JOB = '''resource "aws_batch_job_definition" "train" {
  name                  = "train"
  type                  = "container"
  platform_capabilities = ["FARGATE"]
  container_properties  = jsonencode({ image = "x", resourceRequirements = [{ type = "GPU", value = "1" }] })
}
'''


def test_default_jobs_are_the_cpus_this_process_may_use():
    assert default_jobs() == len(os.sched_getaffinity(0))
    assert mllint.scan.ScanOptions(paths=[], root=Path(".")).jobs == default_jobs()


def test_the_command_line_defaults_to_default_jobs(monkeypatch, tmp_path: Path):
    seen = []

    def fake_scan(options):
        seen.append(options.jobs)
        raise SystemExit(0)

    monkeypatch.setattr("mllint.workers.default_jobs", lambda: 7)
    monkeypatch.setattr(mllint.scan, "scan", fake_scan)
    CliRunner().invoke(main, ["scan", str(tmp_path)])
    CliRunner().invoke(main, ["scan", "--jobs", "3", str(tmp_path)])
    assert seen == [7, 3]


@pytest.mark.parametrize("jobs", [1, 2])
def test_scanning_in_workers_gives_the_findings_of_scanning_here(jobs: int):
    """Terraform always goes through workers (model and policies run there too); templates are
    scanned in this process with one job: the reports must not differ."""
    path = FIXTURES / "ML302"
    here = run_scan(path, jobs=jobs)
    assert here.findings and here.modelled
    assert render(here) == render(run_scan(path, jobs=3 - jobs))


def test_a_module_shared_by_two_roots_reports_its_suppression_diagnostic_once(tmp_path: Path):
    """Both root modules load the shared module (in different workers): its invalid suppression is
    one ML002, not one per root, while each root keeps its own finding."""
    shared = tmp_path / "modules" / "jobs"
    shared.mkdir(parents=True)
    (shared / "main.tf").write_text("# mllint: ignore-file[ML999] -- reviewed by the platform team\n" + GPU_JOB)
    for root in ("a", "b"):
        (tmp_path / root).mkdir()
        (tmp_path / root / "main.tf").write_text('module "jobs" {\n  source = "../modules/jobs"\n}\n')
    report = run_scan(tmp_path, jobs=2)
    invalid = [(f.policy_id, f.file, f.line) for f in report.findings if f.policy_id == "ML002"]
    assert invalid == [("ML002", "modules/jobs/main.tf", 1)]
    assert [f.address for f in report.findings if f.policy_id == "ML101"] == ["module.jobs.aws_batch_job_definition.train"] * 2


def test_findings_share_their_policys_strings():
    report = run_scan(FIXTURES / "ML302", jobs=2)
    policies = {p.id: p for p in report.policies}
    finding = next(f for f in report.findings if f.policy_id in policies)
    assert finding.fix is policies[finding.policy_id].fix
    assert finding.help_uri is policies[finding.policy_id].help_uri


def test_policies_pickle_without_their_compiled_validators():
    policy = next(p for p in load_policies() if "role" in json.dumps(p.when))
    assert policy.validator is policy.validator  # compiled once
    policy.role_decided({"role": "training"})
    copy = pickle.loads(pickle.dumps(policy))
    assert copy == policy and "validator" not in copy.__dict__
    assert copy.validator.is_valid({}) == policy.validator.is_valid({})


def test_json_report_in_pieces_is_json_dumps_with_indent_2(tmp_path: Path):
    (tmp_path / "main.tf").write_text(GPU_JOB.replace('"train" {', '"train" {\n  # mllint: ignore[ML101] -- measured\n', 1))
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "main.tf").write_text('resource "aws_s3_bucket" "b" {\n')
    (tmp_path / "stack.yaml").write_text("AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Fn:\n    Type: AWS::Lambda::Function\n    Properties:\n      Timeout: 900\n      Handler: train.handler\n      Description: \"caf\\u00e9 model training\"\n")
    report = run_scan(tmp_path, jobs=2)
    assert report.errors and any(f.suppressed for f in report.findings)
    text = render(report)
    assert text == json.dumps(json.loads(text), indent=2) + "\n"
    (tmp_path / "empty").mkdir()
    empty = "".join(chunks(run_scan(tmp_path / "empty")))
    assert empty == json.dumps(json.loads(empty), indent=2) + "\n" and '"findings": []' in empty


def test_json_to_a_file_and_to_standard_output_are_the_same_bytes(tmp_path: Path):
    out = tmp_path / "report.json"
    target = str(FIXTURES / "ML302")
    to_file = CliRunner().invoke(main, ["scan", "--format", "json", "--output", str(out), target])
    to_stdout = CliRunner().invoke(main, ["scan", "--format", "json", target])
    assert to_file.exit_code == to_stdout.exit_code == 1
    assert out.read_text(encoding="utf-8") == to_stdout.output
    assert json.loads(to_stdout.output)["findings"]
