"""The command line contract: exit codes, formats, selection, errors, determinism."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from conftest import REPO
from mllint.cli import main

EXAMPLE = REPO / "examples" / "ml-platform"
REPORT_SCHEMA = json.loads((REPO / "schemas" / "report.schema.json").read_text())

FARGATE_GPU_TF = """
resource "aws_ecs_task_definition" "trainer" {
  family                   = "trainer"
  requires_compatibilities = ["FARGATE"]
  cpu                      = "4096"
  memory                   = "16384"
  container_definitions = jsonencode([{
    name                 = "trainer"
    image                = "123456789012.dkr.ecr.us-east-1.amazonaws.com/trainer:1.0"
    resourceRequirements = [{ type = "GPU", value = "1" }]
  }])
}
"""

NO_RETRY_TF = """
resource "aws_batch_job_definition" "score" {
  name = "nightly-batch-predict"
  type = "container"
  container_properties = jsonencode({
    image   = "123456789012.dkr.ecr.us-east-1.amazonaws.com/batch-predict:1.0"
    command = ["python", "batch_predict.py"]
  })
}
"""


def invoke(*args: str, cwd: Path | None = None):
    runner = CliRunner()
    previous = Path.cwd()
    if cwd:
        os.chdir(cwd)
    try:
        return runner.invoke(main, list(args), catch_exceptions=False)
    finally:
        os.chdir(previous)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "main.tf").write_text(FARGATE_GPU_TF)
    (tmp_path / "score").mkdir()
    (tmp_path / "score" / "main.tf").write_text(NO_RETRY_TF)
    return tmp_path


def test_findings_exit_1_and_json_validates(repo: Path):
    result = invoke("scan", "--format", "json", "--jobs", "1", ".", cwd=repo)
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    jsonschema.validate(report, REPORT_SCHEMA)
    assert [(f["policy"]["id"], f["address"], f["file"], f["line"]) for f in report["findings"]] == [
        ("ML302", "aws_batch_job_definition.score", "score/main.tf", 2),
        ("ML101", "aws_ecs_task_definition.trainer", "train/main.tf", 2),
    ]
    assert report["summary"] == {"error": 1, "warning": 1, "info": 0, "suppressed": 0, "baselined": 0, "files": 2, "errors": 0}


def test_fail_on_error_ignores_warnings(repo: Path):
    assert invoke("scan", "--fail-on", "error", "--jobs", "1", "score", cwd=repo).exit_code == 0
    assert invoke("scan", "--fail-on", "error", "--jobs", "1", "train", cwd=repo).exit_code == 1


def test_select_and_ignore_by_id_prefix_and_name(repo: Path):
    def ids(*args):
        out = invoke("scan", "--format", "json", "--jobs", "1", *args, ".", cwd=repo).stdout
        return sorted({f["policy"]["id"] for f in json.loads(out)["findings"]})

    assert ids("--select", "ML1") == ["ML101"]
    assert ids("--select", "batch-job-without-retry") == ["ML302"]
    assert ids("--ignore", "ML101,ML3") == []
    assert ids("--select", "ml101", "--select", "ML302") == ["ML101", "ML302"]


def test_clean_directory_exits_0(tmp_path: Path):
    (tmp_path / "main.tf").write_text('resource "aws_s3_bucket" "logs" {\n  bucket = "logs"\n}\n')
    result = invoke("scan", "--jobs", "1", str(tmp_path))
    assert result.exit_code == 0
    assert result.output.strip().endswith("Found 0 findings in 1 file.")


def test_syntax_error_is_one_line_exit_2_and_other_modules_still_scanned(repo: Path):
    (repo / "broken").mkdir()
    (repo / "broken" / "main.tf").write_text('resource "aws_s3_bucket" "x" {\n  bucket = \n}\n')
    result = invoke("scan", "--format", "json", "--jobs", "2", ".", cwd=repo)
    assert result.exit_code == 2
    report = json.loads(result.stdout)
    assert {f["policy"]["id"] for f in report["findings"]} == {"ML101", "ML302"}
    assert len(report["errors"]) == 1
    error = report["errors"][0]
    assert error["file"] == "broken/main.tf" and error["line"] >= 2
    assert "\n" not in error["message"]


def test_text_report_shows_finding_parts(repo: Path):
    result = invoke("scan", "--jobs", "1", "train", cwd=repo)
    out = result.output
    assert "train/main.tf\n" in out
    assert "error    ML101 gpu-on-fargate  aws_ecs_task_definition.trainer  train/main.tf:2" in out
    assert "evidence: requires_compatibilities includes FARGATE" in out
    assert "fix: " in out and "docs: https://" in out
    assert out.strip().endswith("Found 1 finding (1 error) in 1 file.")
    assert "\x1b[" not in out  # not a terminal: no colour


def test_colour_forced_and_no_color_env(repo: Path):
    coloured = invoke("scan", "--color", "--jobs", "1", "train", cwd=repo).output
    assert "\x1b[31m" in coloured
    env_result = CliRunner(env={"NO_COLOR": "1"}).invoke(main, ["scan", "--jobs", "1", str(repo / "train")])
    assert "\x1b[" not in env_result.output


def test_output_file(repo: Path, tmp_path: Path):
    target = tmp_path / "out" / "report.json"
    target.parent.mkdir()
    result = invoke("scan", "--format", "json", "--output", str(target), "--jobs", "1", ".", cwd=repo)
    assert result.exit_code == 1
    assert result.output == ""
    jsonschema.validate(json.loads(target.read_text()), REPORT_SCHEMA)


def test_missing_path_is_an_error(tmp_path: Path):
    result = invoke("scan", "--jobs", "1", str(tmp_path / "nope"))
    assert result.exit_code == 2
    assert "no such file or directory" in result.output


def test_missing_var_file_is_a_usage_error(repo: Path):
    result = CliRunner().invoke(main, ["scan", "--var-file", str(repo / "nope.tfvars"), str(repo)])
    assert result.exit_code == 2
    assert "no such file" in result.output


def test_output_is_deterministic_across_runs_and_hash_seeds(repo: Path):
    outputs = set()
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "NO_COLOR": "1"}
        run = subprocess.run(
            [sys.executable, "-m", "mllint", "scan", "--format", "json", "--jobs", "2", "."],
            cwd=repo, env=env, capture_output=True, text=True, check=False,
        )
        assert run.returncode == 1, run.stderr
        outputs.add(run.stdout)
    assert len(outputs) == 1


def test_policies_command_lists_every_policy():
    from mllint.policy import load_policies

    result = invoke("policies", "--format", "json")
    rows = json.loads(result.output)
    assert [r["id"] for r in rows] == [p.id for p in load_policies()]
    assert {"ML101", "ML102", "ML201", "ML203", "ML301", "ML302"} <= {r["id"] for r in rows}
    ml101 = next(r for r in rows if r["id"] == "ML101")
    assert ml101 == {
        "id": "ML101", "name": "gpu-on-fargate", "severity": "error", "frameworks": ["terraform", "cloudformation"],
        "kinds": ["ecs-task", "batch-job"], "title": "GPU workload runs on Fargate",
        "help_uri": "https://github.com/mllint/mllint/blob/v0.1.0/policies/docs/ML101-gpu-on-fargate.md",
    }
    text = invoke("policies").output
    assert text.startswith("ML101  gpu-on-fargate ")


def test_policy_index_in_docs_is_in_step_with_policies():
    generated = invoke("policies", "--format", "markdown").output
    assert (REPO / "docs" / "policies.md").read_text() == generated, (
        "docs/policies.md is stale: run `mllint policies --format markdown > docs/policies.md`"
    )


def test_explain_prints_the_doc_by_id_or_name():
    by_id = invoke("explain", "ML302")
    assert by_id.exit_code == 0
    assert by_id.output == (REPO / "policies" / "docs" / "ML302-batch-job-without-retry.md").read_text()
    assert invoke("explain", "gpu-on-fargate").output.startswith("# ML101 gpu-on-fargate\n")
    unknown = invoke("explain", "ML999")
    assert unknown.exit_code == 2
    assert "no policy 'ML999'" in unknown.output


def test_example_stack_findings():
    """The shipped example has exactly the mistakes the README describes."""
    result = invoke("scan", "--format", "json", "--jobs", "2", str(EXAMPLE), cwd=REPO)
    report = json.loads(result.stdout)
    jsonschema.validate(report, REPORT_SCHEMA)
    found = sorted((f["policy"]["id"], f["address"]) for f in report["findings"])
    assert found == [
        ("ML101", "aws_ecs_task_definition.trainer"),
        ("ML201", "RefreshModelFunction"),
        ("ML206", "aws_ecs_task_definition.trainer"),
        ("ML301", "module.batch_scoring.aws_batch_compute_environment.gpu"),
        ("ML302", "module.batch_scoring.aws_batch_job_definition.this"),
    ]
    assert report["errors"] == []
    assert result.exit_code == 1


def test_readme_lists_every_policy():
    from mllint.policy import load_policies

    readme = (REPO / "README.md").read_text()
    for policy in load_policies():
        assert f"| {policy.name} | {policy.severity} |" in readme, f"README does not list {policy.code}"


def test_virtualenvs_are_not_scanned(tmp_path: Path):
    env = tmp_path / "any-name-venv"
    (env / "lib").mkdir(parents=True)
    (env / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (env / "lib" / "main.tf").write_text(FARGATE_GPU_TF)
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "main.tf").write_text(NO_RETRY_TF)
    result = invoke("scan", "--format", "json", "--jobs", "1", ".", cwd=tmp_path)
    assert [f["file"] for f in json.loads(result.stdout)["findings"]] == ["infra/main.tf"]
