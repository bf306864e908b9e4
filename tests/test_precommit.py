"""The hooks in .pre-commit-hooks.yaml, run by the real pre-commit (`pre-commit try-repo`).

try-repo installs this checkout into pre-commit's own virtualenv (mllint's
dependencies come from PyPI). It would snapshot uncommitted changes itself, but
only of tracked files, so the test commits a snapshot of the working tree
(tracked and untracked, minus .gitignore'd files) and points try-repo at it;
pre-commit then builds the hook environment once for the whole module.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

GIT_ENV = {
    "GIT_AUTHOR_NAME": "mllint tests", "GIT_AUTHOR_EMAIL": "tests@mllint.invalid",
    "GIT_COMMITTER_NAME": "mllint tests", "GIT_COMMITTER_EMAIL": "tests@mllint.invalid",
}
FINDING = re.compile(r"^\s+(error|warning|info)\s+(\S+) \S+\s+(\S+)\s+(\S+)$", re.MULTILINE)

# GPU count from variables.tf: a hook that scanned main.tf alone would not know it.
TRAIN_MAIN_TF = """\
resource "aws_ecs_task_definition" "detector" {
  family                   = "detector"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = "4096"
  memory                   = "16384"
  container_definitions = jsonencode([{
    name                 = "detector"
    image                = "123456789012.dkr.ecr.us-east-1.amazonaws.com/detector:1.0"
    resourceRequirements = [{ type = "GPU", value = var.gpus }]
  }])
}
"""
TRAIN_VARIABLES_TF = 'variable "gpus" {\n  type    = string\n  default = "1"\n}\n'
# The same mistake in another file of the module, which the changed-files hook must not report.
TRAIN_SIDECAR_TF = TRAIN_MAIN_TF.replace('"detector"', '"sidecar"').replace("detector:1.0", "sidecar:1.0")
GOOD_TF = TRAIN_MAIN_TF.replace('["FARGATE"]', '["EC2"]').replace('"detector"', '"ranker"').replace("var.gpus", '"1"')

BAD_CFN = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  DetectorTaskDefinition:
    Type: AWS::ECS::TaskDefinition
    Properties:
      Family: detector
      RequiresCompatibilities: [FARGATE]
      NetworkMode: awsvpc
      Cpu: "4096"
      Memory: "16384"
      ContainerDefinitions:
        - Name: detector
          Image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/detector:1.0
          ResourceRequirements:
            - {Type: GPU, Value: "1"}
"""
GOOD_CFN = BAD_CFN.replace("[FARGATE]", "[EC2]").replace("DetectorTaskDefinition", "RankerTaskDefinition")

STACKS = {
    "infra/train/main.tf": TRAIN_MAIN_TF,
    "infra/train/variables.tf": TRAIN_VARIABLES_TF,
    "infra/train/sidecar.tf": TRAIN_SIDECAR_TF,
    "infra/serve/main.tf": GOOD_TF,
    "cfn/bad.yaml": BAD_CFN,
    "cfn/good.yaml": GOOD_CFN,
    "app/settings.yaml": "log_level: debug\nworkers: 4\n",  # not IaC: skipped quietly
}


def _git(*args: str, cwd: Path) -> str:
    env = {**os.environ, **GIT_ENV}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def hooks_repo(tmp_path_factory) -> Path:
    """This checkout's working tree, committed in a scratch repository."""
    snapshot = tmp_path_factory.mktemp("mllint-snapshot")
    listed = _git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=REPO).split("\0")
    for rel in filter(None, listed):
        source = REPO / rel
        if source.is_file():  # deleted but not yet committed files are listed too
            (snapshot / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, snapshot / rel)
    _git("init", "-q", cwd=snapshot)
    _git("add", "-A", cwd=snapshot)
    _git("commit", "-q", "-m", "snapshot", cwd=snapshot)
    return snapshot


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A user's repository with a bad and a good stack in each framework."""
    work = tmp_path_factory.mktemp("project")
    for rel, text in STACKS.items():
        (work / rel).parent.mkdir(parents=True, exist_ok=True)
        (work / rel).write_text(text)
    _git("init", "-q", cwd=work)
    _git("add", "-A", cwd=work)
    _git("commit", "-q", "-m", "stacks", cwd=work)
    return work


@pytest.fixture(scope="module")
def try_repo(hooks_repo: Path, project: Path, tmp_path_factory):
    home = tmp_path_factory.mktemp("pre-commit-home")

    def run(hook: str, *args: str) -> subprocess.CompletedProcess:
        env = {**os.environ, **GIT_ENV, "PRE_COMMIT_HOME": str(home), "NO_COLOR": "1"}
        env.pop("VIRTUAL_ENV", None)
        return subprocess.run(
            [sys.executable, "-m", "pre_commit", "try-repo", str(hooks_repo), hook, "--color", "never", *args],
            cwd=project, env=env, capture_output=True, text=True, check=False, timeout=600,
        )

    return run


def findings(output: str) -> list[tuple[str, str, str, str]]:
    return [match.groups() for match in FINDING.finditer(output)]


def test_changed_files_hook_reports_only_the_changed_files(try_repo):
    run = try_repo("mllint", "--files", "infra/train/main.tf", "infra/serve/main.tf",
                   "cfn/bad.yaml", "cfn/good.yaml", "app/settings.yaml")
    assert run.returncode == 1, run.stdout + run.stderr
    assert re.search(r"^mllint\.+Failed$", run.stdout, re.MULTILINE), run.stdout
    assert findings(run.stdout) == [
        ("error", "ML101", "DetectorTaskDefinition", "cfn/bad.yaml:3"),
        ("error", "ML101", "aws_ecs_task_definition.detector", "infra/train/main.tf:1"),
    ], run.stdout
    assert "Found 2 findings (2 errors)" in run.stdout


def test_changed_files_hook_passes_good_stacks(try_repo):
    run = try_repo("mllint", "--files", "infra/serve/main.tf", "cfn/good.yaml")
    assert run.returncode == 0, run.stdout + run.stderr
    assert re.search(r"^mllint\.+Passed$", run.stdout, re.MULTILINE), run.stdout


def test_configured_paths_hook_scans_the_whole_repository(try_repo):
    run = try_repo("mllint-all", "--all-files")
    assert run.returncode == 1, run.stdout + run.stderr
    assert re.search(r"^mllint \(configured paths\)\.+Failed$", run.stdout, re.MULTILINE), run.stdout
    assert findings(run.stdout) == [
        ("error", "ML101", "DetectorTaskDefinition", "cfn/bad.yaml:3"),
        ("error", "ML101", "aws_ecs_task_definition.detector", "infra/train/main.tf:1"),
        ("error", "ML101", "aws_ecs_task_definition.sidecar", "infra/train/sidecar.tf:1"),
    ], run.stdout


# --- the scan behaviour the changed-files hook relies on, in-process ----------------------

def _scanned(project: Path, *paths: str) -> list[tuple[str, str]]:
    import json

    from click.testing import CliRunner

    from mllint.cli import main

    previous = Path.cwd()
    os.chdir(project)
    try:
        result = CliRunner().invoke(main, ["scan", "--jobs", "1", "--format", "json", *paths], catch_exceptions=False)
    finally:
        os.chdir(previous)
    assert result.exit_code in (0, 1), result.output
    return [(f["address"], f["file"]) for f in json.loads(result.stdout)["findings"]]


@pytest.mark.parametrize("paths, expected", [
    (["infra/train/main.tf"], [("aws_ecs_task_definition.detector", "infra/train/main.tf")]),
    (["infra/train/sidecar.tf"], [("aws_ecs_task_definition.sidecar", "infra/train/sidecar.tf")]),
    (["infra/train/variables.tf"], []),
    (["infra/train/main.tf", "infra/train/sidecar.tf"], [("aws_ecs_task_definition.detector", "infra/train/main.tf"),
                                                         ("aws_ecs_task_definition.sidecar", "infra/train/sidecar.tf")]),
    (["infra/train/main.tf", "infra"], [("aws_ecs_task_definition.detector", "infra/train/main.tf"),
                                        ("aws_ecs_task_definition.sidecar", "infra/train/sidecar.tf")]),
    (["infra/train"], [("aws_ecs_task_definition.detector", "infra/train/main.tf"),
                       ("aws_ecs_task_definition.sidecar", "infra/train/sidecar.tf")]),
    (["infra/train/main.tf", "cfn/good.yaml", "cfn/bad.yaml"], [("DetectorTaskDefinition", "cfn/bad.yaml"),
                                                               ("aws_ecs_task_definition.detector", "infra/train/main.tf")]),
])
def test_a_named_file_is_evaluated_with_its_module_and_reported_alone(project: Path, paths, expected):
    assert _scanned(project, *paths) == expected
