"""Machine formats: SARIF against the OASIS schema, JUnit parsed back, GitHub annotations, several at once."""
from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import jsonschema
import pytest
from click.testing import CliRunner

from conftest import REPO
from mllint.cli import main

EXAMPLE = REPO / "examples" / "ml-platform"
SARIF_SCHEMA = json.loads((Path(__file__).parent / "schemas" / "sarif-2.1.0.json").read_text())
PREFIX = "examples/ml-platform/"  # paths are relative to the working directory (the repository)
EXPECTED = [
    ("ML101", PREFIX + "terraform/training.tf", 7, "aws_ecs_task_definition.trainer"),
    ("ML201", PREFIX + "cloudformation/serving.yaml", 35, "RefreshModelFunction"),
    ("ML206", PREFIX + "terraform/training.tf", 7, "aws_ecs_task_definition.trainer"),
    ("ML301", PREFIX + "terraform/modules/batch_training/main.tf", 34, "module.batch_scoring.aws_batch_compute_environment.gpu"),
    ("ML302", PREFIX + "terraform/modules/batch_training/main.tf", 60, "module.batch_scoring.aws_batch_job_definition.this"),
]


def run(*args: str):
    return CliRunner().invoke(main, ["scan", "--jobs", "1", *args], catch_exceptions=False)


def test_sarif_validates_and_carries_every_finding():
    result = run("--format", "sarif", str(EXAMPLE))
    assert result.exit_code == 1
    sarif = json.loads(result.stdout)
    jsonschema.validate(sarif, SARIF_SCHEMA)
    run_ = sarif["runs"][0]
    rules = run_["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules][:2] == ["ML101", "ML102"]
    assert all(r["helpUri"].startswith("https://") and r["helpUri"].endswith(f"{r['id']}-{r['name']}.md") for r in rules)
    found = sorted(
        (r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
         r["locations"][0]["physicalLocation"]["region"]["startLine"],
         r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"])
        for r in run_["results"]
    )
    assert found == EXPECTED
    levels = {r["ruleId"]: r["level"] for r in run_["results"]}
    assert levels == {"ML101": "error", "ML201": "warning", "ML206": "warning", "ML301": "warning", "ML302": "warning"}
    for r in run_["results"]:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
    assert run_["invocations"][0]["executionSuccessful"] is True


def test_sarif_reports_load_errors_as_notifications(tmp_path: Path):
    (tmp_path / "broken.yaml").write_text("AWSTemplateFormatVersion: '2010-09-09'\nResources: [\n")
    result = run("--format", "sarif", str(tmp_path))
    assert result.exit_code == 2
    sarif = json.loads(result.stdout)
    jsonschema.validate(sarif, SARIF_SCHEMA)
    invocation = sarif["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    (note,) = invocation["toolExecutionNotifications"]
    assert note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "broken.yaml"


def test_junit_has_a_testcase_per_resource_and_policy():
    result = run("--format", "junit", str(EXAMPLE))
    root = ET.fromstring(result.stdout)
    cases = {case.get("name"): case for case in root.iter("testcase")}
    failing = sorted(name for name, case in cases.items() if case.find("failure") is not None)
    assert failing == [
        "ML101 gpu-on-fargate aws_ecs_task_definition.trainer",
        "ML201 training-on-lambda RefreshModelFunction",
        "ML206 ecs-scheduled-training aws_ecs_task_definition.trainer",
        "ML301 batch-gpu-without-spot module.batch_scoring.aws_batch_compute_environment.gpu",
        "ML302 batch-job-without-retry module.batch_scoring.aws_batch_job_definition.this",
    ]
    assert "ML102 gpu-on-lambda aws_lambda_function.recommend" in cases  # a passing case
    assert root.get("failures") == "5"
    assert int(root.get("tests")) == len(cases)
    failure = cases["ML101 gpu-on-fargate aws_ecs_task_definition.trainer"].find("failure")
    assert failure.get("type") == "error"
    assert failure.text.startswith(PREFIX + "terraform/training.tf:7\nevidence: ")


def test_github_annotations():
    result = run("--format", "github", str(EXAMPLE))
    lines = result.stdout.splitlines()
    assert len(lines) == 5
    assert lines[0].startswith(f"::warning file={PREFIX}cloudformation/serving.yaml,line=35,title=ML201 training-on-lambda::RefreshModelFunction ")
    ml101 = next(line for line in lines if "ML101" in line)
    assert ml101.startswith(f"::error file={PREFIX}terraform/training.tf,line=7,title=ML101 gpu-on-fargate::")
    assert "%0Aevidence: requires_compatibilities includes FARGATE%0A" in ml101


def test_text_and_sarif_at_once(tmp_path: Path):
    target = tmp_path / "results.sarif"
    result = run("--format", "text", "--format", "sarif", "--output", str(target), str(EXAMPLE))
    assert result.exit_code == 1
    assert "Found 5 findings" in result.stdout
    jsonschema.validate(json.loads(target.read_text()), SARIF_SCHEMA)


def test_output_dir_writes_every_format(tmp_path: Path):
    out = tmp_path / "reports"
    result = run("--format", "json", "--format", "sarif", "--format", "junit", "--format", "github", "--format", "text",
                 "--output-dir", str(out), str(EXAMPLE))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert sorted(p.name for p in out.iterdir()) == [
        "mllint.github.txt", "mllint.json", "mllint.junit.xml", "mllint.sarif", "mllint.txt",
    ]
    ET.fromstring((out / "mllint.junit.xml").read_text())


@pytest.mark.parametrize("args", [["--format", "json", "--format", "sarif"], ["--output", "x", "--output-dir", "y"]])
def test_ambiguous_destinations_are_usage_errors(args, tmp_path: Path):
    result = CliRunner().invoke(main, ["scan", *args, str(tmp_path)])
    assert result.exit_code == 2
    assert "Usage" in result.output
