"""Registry modules: evaluated from .terraform/modules when `terraform init` has run, read from
their inputs (policies/evidence/registry_modules.yaml) when it has not; switched-off modules and
resources (`create = false`, `count = 0`, `for_each = {}`) produce nothing."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import FIXTURES, run_scan
from mllint.discover import discover
from mllint.loaders.terraform import load_module
from mllint.loaders.tf_registry import catalogue, module_address
from mllint.records import UNKNOWN, Link

BATCH_CASES = FIXTURES / "ML301" / "terraform"


def load(directory: Path, root: Path | None = None):
    result = load_module(directory, root or directory)
    assert result.errors == [], [str(e) for e in result.errors]
    return {r.address: r for r in result.resources}


def write(directory: Path, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "main.tf").write_text(text)
    return directory


@pytest.mark.parametrize("source, expected", [
    ("terraform-aws-modules/batch/aws", "terraform-aws-modules/batch/aws"),
    ("registry.terraform.io/terraform-aws-modules/batch/aws", "terraform-aws-modules/batch/aws"),
    ("terraform-aws-modules/ecs/aws//modules/service", "terraform-aws-modules/ecs/aws//modules/service"),
    ("git::https://github.com/terraform-aws-modules/terraform-aws-batch.git?ref=v3.0.4", "terraform-aws-modules/batch/aws"),
    ("github.com/terraform-aws-modules/terraform-aws-lambda", "terraform-aws-modules/lambda/aws"),
    ("git@github.com:terraform-aws-modules/terraform-aws-ecs.git//modules/service?ref=v6.0.0", "terraform-aws-modules/ecs/aws//modules/service"),
    ("https://github.com/terraform-aws-modules/terraform-aws-emr", "terraform-aws-modules/emr/aws"),
    ("philschmid/sagemaker-huggingface/aws", "philschmid/sagemaker-huggingface/aws"),
    ("terraform-aws-modules/ecs/aws//modules/container-definition", None),
    ("terraform-aws-modules/vpc/aws", None),
    ("acme/batch/aws", None),
    ("./modules/batch", None),
    ("s3::https://s3.amazonaws.com/bucket/batch.zip", None),
    (None, None),
])
def test_module_sources_recognised(source, expected):
    assert module_address(source) == expected


def test_downloaded_module_is_evaluated_from_dot_terraform():
    """tfparse reads .terraform/modules/modules.json: the module's own code decides, no notes;
    `create = false` in the second call is evaluated by that code (nothing)."""
    resources = load(BATCH_CASES / "registry_batch_module_downloaded", FIXTURES / "ML301")
    assert sorted(resources) == [
        'module.batch.aws_batch_compute_environment.this["gpu"]',
        'module.batch.aws_batch_job_queue.this["train"]',
    ]
    environment = resources['module.batch.aws_batch_compute_environment.this["gpu"]']
    assert environment.file == "terraform/registry_batch_module_downloaded/.terraform/modules/batch/main.tf"
    assert environment.notes == ()
    assert environment.props["compute_resources"][0]["instance_type"] == ["p4d.24xlarge"]
    queue = resources['module.batch.aws_batch_job_queue.this["train"]']
    assert queue.refs == ('module.batch.aws_batch_compute_environment.this["gpu"]',)


def test_dot_terraform_is_never_a_unit_of_its_own():
    case = BATCH_CASES / "registry_batch_module_downloaded"
    found = discover([case], case)
    assert [u.rel for u in found.units] == ["."]


def test_switched_off_modules_and_resources_create_nothing():
    """`create = false` (input-read), `count = 0` and `for_each = {}` on a module call, and
    `count = 0` on a resource: no resources at all."""
    assert load(BATCH_CASES / "registry_batch_module_disabled") == {}


def test_module_read_from_inputs(tmp_path):
    resources = load(BATCH_CASES / "registry_batch_module_inputs", FIXTURES / "ML301")
    assert sorted(resources) == [
        'module.batch.aws_batch_compute_environment.this["cpu_spot"]',
        'module.batch.aws_batch_compute_environment.this["gpu_ec2"]',
        'module.batch.aws_batch_job_queue.this["preprocess"]',
        'module.batch.aws_batch_job_queue.this["training"]',
    ]
    gpu = resources['module.batch.aws_batch_compute_environment.this["gpu_ec2"]']
    assert (gpu.file, gpu.line, gpu.type) == ("terraform/registry_batch_module_inputs/main.tf", 8, "aws_batch_compute_environment")
    assert gpu.notes == ("module input: module.batch (terraform-aws-modules/batch/aws)",)
    assert gpu.props["name_prefix"] == "gpu-training-"
    assert gpu.props["type"] == "MANAGED"  # the module's default
    assert gpu.props["compute_resources"] == [{
        "type": "EC2", "max_vcpus": 256, "instance_type": ["p3.2xlarge", "g5.4xlarge"], "subnets": ["subnet-0a1b2c3d"],
    }]
    queue = resources['module.batch.aws_batch_job_queue.this["training"]']
    assert queue.props["compute_environment_order"] == [
        {"compute_environment": Link('module.batch.aws_batch_compute_environment.this["gpu_ec2"]', "arn"), "order": "1"}
    ]
    assert queue.refs == ('module.batch.aws_batch_compute_environment.this["gpu_ec2"]',)


def test_finding_on_a_module_input_names_the_module(tmp_path):
    report = run_scan(BATCH_CASES / "registry_batch_module_inputs", root=FIXTURES / "ML301", select=["ML301"])
    [finding] = report.findings
    assert finding.address == 'module.batch.aws_batch_compute_environment.this["gpu_ec2"]'
    assert (finding.file, finding.line) == ("terraform/registry_batch_module_inputs/main.tf", 8)
    assert "module input: module.batch (terraform-aws-modules/batch/aws)" in finding.evidence


def test_module_defaults_apply_when_inputs_are_unset(tmp_path):
    resources = load(write(tmp_path, """
module "fn" {
  source        = "terraform-aws-modules/lambda/aws"
  function_name = "score"
  handler       = "app.handler"
  runtime       = "python3.12"
}
module "job" {
  source = "terraform-aws-modules/batch/aws"
  job_definitions = {
    train = { container_properties = "{}" }
  }
}
module "svc" {
  source = "terraform-aws-modules/ecs/aws//modules/service"
  name   = "api"
  container_definitions = { api = { image = "nginx" } }
}
"""))
    function = resources["module.fn.aws_lambda_function.this[0]"].props
    assert (function["timeout"], function["memory_size"], function["package_type"]) == (3, 128, "Zip")
    assert function["ephemeral_storage"] == [{"size": 512}]
    job = resources['module.job.aws_batch_job_definition.this["train"]'].props
    assert "retry_strategy" not in job  # the module adds none: AWS's default is one attempt
    assert (job["name"], job["type"]) == ("train", "container")
    task = resources["module.svc.aws_ecs_task_definition.this[0]"].props
    assert (task["requires_compatibilities"], task["cpu"], task["memory"], task["network_mode"]) == (["FARGATE"], 1024, 2048, "awsvpc")
    assert task["container_definitions"] == [{"image": "nginx", "name": "api"}]
    service = resources["module.svc.aws_ecs_service.this[0]"].props
    assert service["launch_type"] == "FARGATE"
    assert service["task_definition"] == Link("module.svc.aws_ecs_task_definition.this[0]", "arn")
    # autoscaling is on by default, with the module's cpu and memory policies
    assert {a for a in resources if "appautoscaling" in a} == {
        "module.svc.aws_appautoscaling_target.this[0]",
        'module.svc.aws_appautoscaling_policy.this["cpu"]',
        'module.svc.aws_appautoscaling_policy.this["memory"]',
    }


def test_unknown_inputs_stay_unknown(tmp_path):
    resources = load(write(tmp_path, """
variable "instance_types" { type = list(string) }
variable "environments" { type = any }
variable "enabled" { type = bool }
module "known_keys" {
  source = "terraform-aws-modules/batch/aws"
  compute_environments = {
    gpu = { compute_resources = { type = "EC2", instance_types = var.instance_types, max_vcpus = 8, subnets = [] } }
  }
}
module "unknown_keys" {
  source               = "terraform-aws-modules/batch/aws"
  compute_environments = var.environments
}
module "unknown_switch" {
  source = "terraform-aws-modules/batch/aws"
  create = var.enabled
  compute_environments = {
    gpu = { compute_resources = { type = "EC2", instance_types = ["p3.2xlarge"], max_vcpus = 8, subnets = [] } }
  }
}
"""))
    assert sorted(resources) == ['module.known_keys.aws_batch_compute_environment.this["gpu"]']
    resources_block = resources['module.known_keys.aws_batch_compute_environment.this["gpu"]'].props["compute_resources"][0]
    assert resources_block["instance_type"] is UNKNOWN
    report = run_scan(tmp_path, select=["ML301"])
    assert report.findings == [] and report.errors == []


def test_unrecognised_modules_produce_nothing(tmp_path):
    assert load(write(tmp_path, """
module "batch" {
  source = "acme/batch/aws"
  compute_environments = { gpu = { compute_resources = { type = "EC2", instance_types = ["p3.2xlarge"] } } }
}
module "vpc" {
  source = "terraform-aws-modules/vpc/aws"
}
""")) == {}


def test_module_calls_inside_local_modules_and_with_for_each(tmp_path):
    write(tmp_path / "modules" / "platform", """
module "batch" {
  source = "terraform-aws-modules/batch/aws"
  compute_environments = {
    gpu = { compute_resources = { type = "EC2", instance_types = ["g5.xlarge"], max_vcpus = 8, subnets = [] } }
  }
}
""")
    write(tmp_path / "live", """
module "platform" {
  source = "../modules/platform"
}
module "regional" {
  source   = "terraform-aws-modules/emr/aws"
  for_each = toset(["eu", "us"])
  name     = "features-${each.key}"
}
""")
    resources = load(tmp_path / "live", tmp_path)
    assert sorted(resources) == [
        'module.platform.module.batch.aws_batch_compute_environment.this["gpu"]',
        'module.regional["eu"].aws_emr_cluster.this[0]',
        'module.regional["us"].aws_emr_cluster.this[0]',
    ]
    nested = resources['module.platform.module.batch.aws_batch_compute_environment.this["gpu"]']
    assert (nested.file, nested.line) == ("modules/platform/main.tf", 2)
    assert nested.notes == ("module input: module.platform.module.batch (terraform-aws-modules/batch/aws)",)
    assert resources['module.regional["us"].aws_emr_cluster.this[0]'].props["name"] == "features-us"


def test_caller_resources_referenced_by_inputs_are_links(tmp_path):
    resources = load(write(tmp_path, """
resource "aws_ecs_cluster" "ml" {
  name = "ml"
}
module "svc" {
  source      = "terraform-aws-modules/ecs/aws//modules/service"
  name        = "trainer"
  cluster_arn = aws_ecs_cluster.ml.arn
  container_definitions = { trainer = { image = "trainer:1" } }
}
"""))
    service = resources["module.svc.aws_ecs_service.this[0]"]
    assert service.props["cluster"] == Link("aws_ecs_cluster.ml")
    assert "aws_ecs_cluster.ml" in service.refs


def test_suppression_on_the_module_block_covers_what_it_expands_to(tmp_path):
    write(tmp_path, """
module "batch" {
  # mllint: ignore[ML301] -- capacity reservation, Spot is not available for p4d here
  source = "terraform-aws-modules/batch/aws"
  compute_environments = {
    gpu = { compute_resources = { type = "EC2", instance_types = ["p4d.24xlarge"], max_vcpus = 96, subnets = [] } }
  }
  job_queues = {
    train = { priority = 1, compute_environment_order = { 1 = { compute_environment_key = "gpu" } } }
  }
}
""")
    report = run_scan(tmp_path, select=["ML301"])
    [finding] = report.findings
    assert finding.address == 'module.batch.aws_batch_compute_environment.this["gpu"]'
    assert finding.suppressed


def test_every_described_module_expands_with_its_defaults(tmp_path):
    """Each module of the catalogue, called with no inputs, loads without error; the ones whose
    resources need no input create them."""
    calls = "\n".join(f'module "m{i}" {{\n  source = "{address}"\n}}' for i, address in enumerate(sorted(catalogue())))
    resources = load(write(tmp_path, calls))
    types = {r.type for r in resources.values()}
    assert {"aws_lambda_function", "aws_emr_cluster", "aws_ecs_task_definition", "aws_ecs_service", "aws_ecs_cluster",
            "aws_sagemaker_endpoint", "aws_sagemaker_endpoint_configuration"} <= types
    assert all(r.notes and r.notes[0].startswith("module input: module.m") for r in resources.values())


def test_suppression_in_a_downloaded_module_call(tmp_path):
    case = shutil.copytree(BATCH_CASES / "registry_batch_module_downloaded", tmp_path / "stack")
    main = case / "main.tf"
    line = 'module "batch" {\n'
    text = main.read_text()
    assert text.count(line) == 1
    main.write_text(text.replace(line, line + "  # mllint: ignore[ML301] -- reserved p4d capacity\n"))
    report = run_scan(case, select=["ML301"])
    [finding] = report.findings
    assert finding.address == 'module.batch.aws_batch_compute_environment.this["gpu"]'
    assert finding.file == ".terraform/modules/batch/main.tf"
    assert finding.suppressed
