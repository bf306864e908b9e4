"""The GitHub Action (action.yml): its structure, and its scripts run for real against mllint.

GitHub itself can't run here. The tests check what GitHub would reject or silently
get wrong (an input referenced but not declared, a step output nobody writes, an
action not pinned, an expression inside a script), then run the action's own
`run:` scripts with bash, with the environment GitHub would give them.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from conftest import REPO

ACTION = yaml.safe_load((REPO / "action.yml").read_text())
STEPS = ACTION["runs"]["steps"]
INPUTS = ACTION["inputs"]
SARIF_SCHEMA = json.loads((REPO / "tests" / "schemas" / "sarif-2.1.0.json").read_text())
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
GITHUB_VARIABLES = {"RUNNER_TEMP", "GITHUB_OUTPUT"}
GITHUB_BASH = ["bash", "--noprofile", "--norc", "-eo", "pipefail"]  # how GitHub runs `shell: bash`


def _strings(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


def _expressions() -> list[str]:
    """Every expression: `${{ ... }}` anywhere, and each `if:` (an expression without the braces)."""
    found = [m for text in _strings(ACTION) for m in EXPRESSION.findall(text)]
    return found + [step["if"] for step in STEPS if "if" in step]


def _step(step_id: str) -> dict:
    return next(step for step in STEPS if step.get("id") == step_id)


def test_metadata_and_composite_runs():
    assert ACTION["name"] == "mllint"
    assert ACTION["description"].strip()
    assert ACTION["runs"]["using"] == "composite"
    for name, spec in INPUTS.items():
        assert re.fullmatch(r"[a-z][a-z0-9-]*", name), name
        assert spec["description"].strip() and isinstance(spec.get("default"), str), name
    for name, spec in ACTION["outputs"].items():
        assert spec["description"].strip() and EXPRESSION.fullmatch(spec["value"]), name


def test_steps_are_well_formed():
    ids = [step["id"] for step in STEPS if "id" in step]
    assert len(ids) == len(set(ids))
    for step in STEPS:
        assert step.get("name"), step
        assert ("run" in step) != ("uses" in step), step["name"]
        if "run" in step:
            assert step["shell"] == "bash", step["name"]  # composite steps must name their shell
            assert "${{" not in step["run"], f"{step['name']}: pass inputs through env, never into the script"
        else:
            assert re.fullmatch(r"[\w.-]+/[\w.-]+(/[\w./-]+)?@v\d+", step["uses"]), step["uses"]


def test_every_input_is_declared_and_used():
    referenced = {m.group(1) for e in _expressions() for m in re.finditer(r"\binputs\.([a-z][a-z0-9-]*)", e)}
    assert referenced == set(INPUTS)


def test_step_outputs_are_written_by_earlier_steps():
    order = [step.get("id") for step in STEPS]
    for index, step in enumerate(STEPS):
        for expression in [e for text in _strings(step) for e in EXPRESSION.findall(text)] + [step.get("if", "")]:
            for step_id, output in re.findall(r"\bsteps\.([\w-]+)\.outputs\.([\w-]+)", expression):
                assert step_id in order[:index], f"{step['name']} reads {step_id} before it runs"
                assert f'echo "{output}=' in _step(step_id)["run"], f"{step_id} never writes {output}"
    for name, spec in ACTION["outputs"].items():
        step_id, output = re.fullmatch(r"\$\{\{ steps\.([\w-]+)\.outputs\.([\w-]+) \}\}", spec["value"]).groups()
        assert f'echo "{output}=' in _step(step_id)["run"], name


def test_scripts_use_only_their_environment_and_parse():
    for step in [s for s in STEPS if "run" in s]:
        used = set(re.findall(r"\$\{?([A-Z][A-Z0-9_]*)", step["run"]))
        assert used <= set(step.get("env", {})) | GITHUB_VARIABLES, step["name"]
        assert set(step.get("env", {})) <= used, f"{step['name']}: unused env"
        subprocess.run([*GITHUB_BASH, "-n", "-c", step["run"]], check=True)


def test_sarif_is_uploaded_by_codeql_action():
    upload = next(step for step in STEPS if step.get("uses", "").startswith("github/codeql-action/upload-sarif@"))
    assert upload["with"]["sarif_file"] == "${{ steps.scan.outputs.sarif-file }}"
    assert "inputs.upload-sarif == 'true'" in upload["if"]
    assert STEPS.index(upload) < len(STEPS) - 1, "upload before the step that fails the job"


def _evaluate(value: str, inputs: dict[str, str], outputs: dict[str, str]) -> str:
    """The few expression forms the action's env uses."""
    def one(match: re.Match) -> str:
        expression = match.group(1)
        if expression.startswith("inputs."):
            return inputs[expression.removeprefix("inputs.")]
        if expression.startswith("steps."):
            return outputs.get(expression.rsplit(".", 1)[1], "")
        if expression == "github.action_path":
            return str(REPO)
        raise AssertionError(f"unexpected expression {expression}")

    return EXPRESSION.sub(one, value)


def run_action(tmp_path: Path, **given: str) -> tuple[int, dict[str, str], str]:
    """Run the Scan and Verdict steps as GitHub would, with mllint from this environment installed
    where the Install step puts it. Returns the Verdict step's status, the outputs and the scan's stdout."""
    given.setdefault("sarif_file", str(tmp_path / "mllint.sarif"))  # not into the checkout
    inputs = {name: spec["default"] for name, spec in INPUTS.items()} | {k.replace("_", "-"): v for k, v in given.items()}
    runner_temp = tmp_path / "runner"
    installed = runner_temp / "mllint-venv" / "bin" / "mllint"
    if not installed.exists():
        installed.parent.mkdir(parents=True)
        installed.symlink_to(Path(sys.executable).parent / "mllint")
    outputs: dict[str, str] = {}
    statuses, stdout = [], ""
    for step_id in ("scan", None):
        step = _step("scan") if step_id else STEPS[-1]
        github_output = tmp_path / "github_output"
        github_output.write_text("")
        env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR",)}
        env |= {k: _evaluate(v, inputs, outputs) for k, v in step["env"].items()}
        env |= {"RUNNER_TEMP": str(runner_temp), "GITHUB_OUTPUT": str(github_output)}
        script = tmp_path / "step.sh"
        script.write_text(step["run"])
        run = subprocess.run([*GITHUB_BASH, str(script)], cwd=REPO, env=env, capture_output=True, text=True)
        outputs |= dict(line.split("=", 1) for line in github_output.read_text().splitlines())
        statuses.append(run.returncode)
        stdout += run.stdout
    assert statuses[0] == 0, "the scan step itself never fails, so the SARIF upload runs"
    return statuses[1], outputs, stdout


def test_findings_fail_the_job_after_the_sarif_is_written(tmp_path: Path):
    sarif = tmp_path / "reports" / "mllint.sarif"
    status, outputs, stdout = run_action(tmp_path, paths="examples/ml-platform", sarif_file=str(sarif))
    assert status == 1
    assert outputs == {"exit-code": "1", "sarif-file": str(sarif)}
    assert "ML101 gpu-on-fargate" in stdout  # the text report goes to the log
    document = json.loads(sarif.read_text())
    jsonschema.validate(document, SARIF_SCHEMA)
    uris = {loc["physicalLocation"]["artifactLocation"]["uri"]
            for result in document["runs"][0]["results"] for loc in result["locations"]}
    assert "examples/ml-platform/terraform/training.tf" in uris  # relative to the repository root


def test_soft_fail_and_fail_on(tmp_path: Path):
    status, outputs, _ = run_action(tmp_path, paths="examples/ml-platform", soft_fail="true")
    assert (status, outputs["exit-code"]) == (0, "1")
    warnings_only = "fixtures/ML302/terraform/ranking_model_jobs"
    status, outputs, _ = run_action(tmp_path, paths=warnings_only)
    assert (status, outputs["exit-code"]) == (1, "1")
    status, outputs, _ = run_action(tmp_path, paths=warnings_only, fail_on="error")
    assert (status, outputs["exit-code"]) == (0, "0")


def test_several_paths_and_extra_args(tmp_path: Path):
    sarif = tmp_path / "m.sarif"
    status, outputs, _ = run_action(
        tmp_path,
        paths="fixtures/ML101/terraform/gpu_task_on_ec2\n  fixtures/ML101/cloudformation/fargate_gpu_task.yaml",
        args="--select ML101  --ignore ML204", sarif_file=str(sarif),
    )
    assert (status, outputs["exit-code"]) == (1, "1")
    results = json.loads(sarif.read_text())["runs"][0]["results"]
    assert [(r["ruleId"], r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]) for r in results] == [
        ("ML101", "TrainTaskDefinition")
    ]


@pytest.mark.parametrize("args", ["--var-file missing.tfvars", "--fail-on sometimes"])
def test_usage_errors_fail_the_job_with_status_2_and_upload_nothing(tmp_path: Path, args: str):
    status, outputs, _ = run_action(tmp_path, paths="examples/ml-platform", args=args)
    assert status == 2
    assert outputs == {"exit-code": "2"}  # no sarif-file: the upload step is skipped
