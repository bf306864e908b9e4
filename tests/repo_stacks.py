"""A small git repository of Terraform stacks for the config and baseline tests."""
from __future__ import annotations

import os
from pathlib import Path

from click.testing import CliRunner

from mllint.cli import main

# ML101 (error) on aws_ecs_task_definition.trainer, line 1.
FARGATE_GPU_TF = """resource "aws_ecs_task_definition" "trainer" {
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

# ML302 (warning) on aws_batch_job_definition.score, line 1.
NO_RETRY_TF = """resource "aws_batch_job_definition" "score" {
  name = "nightly-batch-predict"
  type = "container"
  container_properties = jsonencode({
    image   = "123456789012.dkr.ecr.us-east-1.amazonaws.com/batch-predict:1.0"
    command = ["python", "batch_predict.py"]
  })
}
"""


def make_repo(root: Path) -> Path:
    """`root` as a repository: train/ (ML101), score/ (ML302) and legacy/ (ML302)."""
    (root / ".git").mkdir(parents=True)
    for directory, text in (("train", FARGATE_GPU_TF), ("score", NO_RETRY_TF), ("legacy", NO_RETRY_TF)):
        (root / directory).mkdir()
        (root / directory / "main.tf").write_text(text)
    return root


def invoke(*args: str, cwd: Path):
    """Run `mllint ARGS` in `cwd`; stdout and stderr are kept apart."""
    previous = Path.cwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(main, list(args), catch_exceptions=False)
    finally:
        os.chdir(previous)
