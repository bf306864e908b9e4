"""Terraform JSON (`*.tf.json`, alone or mixed with `.tf`) and CDK for Terraform's `cdktf.out/`."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import FIXTURES, run_scan
from mllint.discover import discover
from mllint.graph import label_of
from mllint.loaders.terraform import load_module
from mllint.records import UNKNOWN, Link, Resource


def write(base: Path, files: dict[str, object]) -> Path:
    """Write each file: a dict or list as indented JSON, a string as it is."""
    for name, content in files.items():
        path = base / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content if isinstance(content, str) else json.dumps(content, indent=2) + "\n")
    return base


def resources(module: Path, root: Path | None = None) -> dict:
    result = load_module(module, root or module)
    assert result.errors == []
    return {r.address: r for r in result.resources}


def line_of(path: Path, text: str) -> int:
    (number,) = [i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line]
    return number


GPU_CONTAINERS = '[{"name":"t","image":"${var.registry}/train:1","resourceRequirements":[{"type":"GPU","value":"${var.gpus}"}]}]'


def test_json_and_hcl_in_one_module_read_each_other(tmp_path: Path):
    write(tmp_path, {
        "variables.tf.json": {"variable": {
            "gpus": {"//": "GPUs per task", "type": "number", "default": 1},
            "registry": {"default": "123456789012.dkr.ecr.us-east-1.amazonaws.com"},
        }},
        "main.tf.json": {
            "//": "rendered by jobgen",
            "locals": {"family": "train-${var.gpus}"},
            "resource": {"aws_ecs_task_definition": {"train": {
                "//": "the trainer",
                "family": "${local.family}",
                "requires_compatibilities": ["EC2"],
                "container_definitions": GPU_CONTAINERS,
                "ephemeral_storage": {"//": "scratch for checkpoints", "size_in_gib": 100},
            }}, "aws_ecs_service": {"trainer": {
                "name": "trainer", "cluster": "${aws_ecs_cluster.gpu.arn}",
                "task_definition": "${aws_ecs_task_definition.train.arn}",
            }}},
        },
        "cluster.tf": 'resource "aws_ecs_cluster" "gpu" {\n  name = "gpu-${local.family}"\n}\n'
                      'resource "aws_cloudwatch_event_target" "weekly" {\n  rule = "weekly"\n'
                      '  arn  = aws_ecs_cluster.gpu.arn\n  ecs_target {\n'
                      '    task_definition_arn = aws_ecs_task_definition.train.arn\n  }\n}\n',
    })
    found = resources(tmp_path)
    train = found["aws_ecs_task_definition.train"]
    assert (train.file, train.line) == ("main.tf.json", 8)
    assert line_of(tmp_path / "main.tf.json", '"train": {') == 8
    assert train.props["family"] == "train-1"
    assert json.loads(train.props["container_definitions"])[0]["resourceRequirements"] == [{"type": "GPU", "value": "1"}]
    assert train.props["ephemeral_storage"] == {"size_in_gib": 100}  # the "//" comment key is gone
    assert train.notes == ()
    service = found["aws_ecs_service.trainer"]
    assert service.props["cluster"] == Link("aws_ecs_cluster.gpu")  # JSON -> HCL
    assert service.props["task_definition"] == Link("aws_ecs_task_definition.train")
    assert found["aws_ecs_cluster.gpu"].props["name"] == "gpu-train-1"  # a JSON local read from HCL
    target = found["aws_cloudwatch_event_target.weekly"]  # HCL -> JSON
    assert target.props["ecs_target"] == [{"task_definition_arn": Link("aws_ecs_task_definition.train")}]
    assert (target.file, target.line) == ("cluster.tf", 4)


def test_templates_tfparse_cannot_evaluate(tmp_path: Path):
    """tfparse turns an unevaluated template in JSON into null: one that only reads a resource
    is a link, as in HCL; anything else stays unknown, never text such as `${lookup(...)}`."""
    write(tmp_path, {"main.tf.json": {
        "variable": {"sizes": {"type": "map(string)"}, "suffix": {"type": "string"}},
        "resource": {
            "aws_ecs_task_definition": {"synth": {"family": "synth"}},
            "aws_ecs_service": {"synth": {
                "name": "synth-${var.suffix}",
                "task_definition": "${aws_ecs_task_definition.synth.family}:${aws_ecs_task_definition.synth.revision}",
                "launch_type": "FARGATE",
                "tags": {"Shell": "$${HOME}/bin", "Size": "${lookup(var.sizes, \"synth\", \"small\")}"},
            }},
        },
    }})
    service = resources(tmp_path)["aws_ecs_service.synth"]
    assert service.props["task_definition"] == Link("aws_ecs_task_definition.synth")
    assert service.props["name"] is UNKNOWN
    assert service.props["tags"] == {"Shell": "${HOME}/bin", "Size": UNKNOWN}
    assert service.refs == ("aws_ecs_task_definition.synth",)


def test_dynamic_block_in_json_is_unknown_not_absent(tmp_path: Path):
    """tfparse does not expand `dynamic` in JSON: the block is unknown, so no AWS default
    (one attempt) is assumed for a retry strategy it would generate."""
    write(tmp_path, {"main.tf.json": {
        "variable": {"retries": {"default": [{"attempts": 3}]}},
        "resource": {"aws_batch_job_definition": {"reindex": {
            "name": "reindex", "type": "container",
            "container_properties": '{"image":"x","resourceRequirements":[{"type":"GPU","value":"1"}]}',
            "dynamic": {"retry_strategy": {"for_each": "${var.retries}",
                                           "content": {"attempts": "${retry_strategy.value.attempts}"}}},
        }}},
    }})
    job = resources(tmp_path)["aws_batch_job_definition.reindex"]
    assert job.props["retry_strategy"] is UNKNOWN
    assert "dynamic" not in job.props
    assert [f.policy_id for f in run_scan(tmp_path).findings] == []


def test_count_for_each_and_local_modules_in_json(tmp_path: Path):
    write(tmp_path, {
        "main.tf.json": {
            "module": {"jobs": {"//": "one per model", "source": "./modules/job", "for_each": {"en": "1", "de": "2"},
                                "attempts": "${each.value}"}},
            "resource": {"aws_batch_job_definition": {"worker": {"count": 2, "name": "w-${count.index}", "type": "container"}}},
        },
        "modules/job/main.tf": 'variable "attempts" {}\nresource "aws_batch_job_definition" "this" {\n'
                               '  name = "job"\n  type = "container"\n  retry_strategy {\n    attempts = var.attempts\n  }\n}\n',
    })
    units = discover([tmp_path], tmp_path).units
    assert [u.rel for u in units] == ["."]  # the module a .tf.json calls is evaluated through it
    found = resources(tmp_path)
    assert sorted(found) == [
        'aws_batch_job_definition.worker[0]', 'aws_batch_job_definition.worker[1]',
        'module.jobs["de"].aws_batch_job_definition.this', 'module.jobs["en"].aws_batch_job_definition.this',
    ]
    assert found["aws_batch_job_definition.worker[1]"].props["name"] == "w-1"
    assert found['module.jobs["de"].aws_batch_job_definition.this'].props["retry_strategy"] == [{"attempts": "2"}]


CDKTF_CASE = FIXTURES / "ML201" / "terraform" / "cdktf_nightly_retrain"
STACK = "cdktf.out/stacks/ml-training"
TRAINER = "aws_lambda_function.nightly-retrain_trainer_5E2B9C41"


def test_cdktf_output_is_one_unit_per_stack_without_its_assets(tmp_path: Path):
    shutil.copytree(CDKTF_CASE, tmp_path / "app")
    second = tmp_path / "app" / "cdktf.out" / "stacks" / "ml-serving"
    write(second, {"cdk.tf.json": {"resource": {"aws_lambda_function": {"predict": {
        "function_name": "predict", "role": "arn:aws:iam::123456789012:role/x", "handler": "predict.handler",
        "runtime": "python3.12", "filename": "assets/predict-code/0A1B/archive.zip"}}}}})
    write(second / "assets" / "predict-code" / "0A1B", {"handler.tf": 'resource "aws_instance" "not_iac" {}\n'})
    found = discover([tmp_path / "app"], tmp_path)
    assert [(u.kind, u.rel) for u in found.units] == [
        ("terraform", "app/cdktf.out/stacks/ml-serving"), ("terraform", f"app/{STACK}"),
    ]
    assert found.skipped == [
        "app/cdktf.out/manifest.json",
        "app/cdktf.out/stacks/ml-serving/assets/predict-code",
        f"app/{STACK}/assets/trainer-hyperparameters",
    ]
    module = resources(tmp_path / "app" / STACK, tmp_path)
    assert "module.feature-bucket.aws_s3_bucket.this" in module  # a module asset is a module
    assert module[TRAINER].notes == ("CDK for Terraform construct ml-training/nightly-retrain/trainer",)
    assert module["module.feature-bucket.aws_s3_bucket.this"].notes == ()


def test_cdktf_finding_names_the_construct_and_keeps_the_address():
    report = run_scan(CDKTF_CASE, root=FIXTURES / "ML201", select=["ML201"])
    (finding,) = report.findings
    assert (finding.address, finding.file, finding.line) == (
        TRAINER, f"terraform/cdktf_nightly_retrain/{STACK}/cdk.tf.json", line_of(CDKTF_CASE / STACK / "cdk.tf.json", f'"{TRAINER.split(".")[1]}": {{'),
    )
    assert finding.evidence[-1] == "CDK for Terraform construct ml-training/nightly-retrain/trainer"
    assert "name says training: nightly-retrain_trainer;" in finding.evidence[0]  # the label without CDKTF's hash


@pytest.mark.parametrize(("address", "file", "label"), [
    (TRAINER, f"{STACK}/cdk.tf.json", "nightly-retrain_trainer"),
    ('aws_lambda_function.train_0C7A3F19["a.b"]', "cdk.tf.json", "train"),
    (TRAINER, "main.tf.json", "nightly-retrain_trainer_5E2B9C41"),  # hand-written: kept as written
    (TRAINER, "main.tf", "nightly-retrain_trainer_5E2B9C41"),
    ("aws_lambda_function.train_0c7a3f19", "cdk.tf.json", "train_0c7a3f19"),  # CDKTF's hash is upper case
    ('module.m["x.y"].aws_lambda_function.train["a.b"]', "main.tf", "train"),
])
def test_label_drops_the_cdktf_hash_of_a_stack_resource_only(address, file, label):
    resource = Resource(framework="terraform", type="aws_lambda_function", address=address, file=file, line=1, unit=".", props={})
    assert label_of(resource) == label


def test_cdktf_suppression_by_tag(tmp_path: Path):
    """A synthesised file holds no comments of the user's: the `mllint:ignore` tag set on the
    construct (`tags: {"mllint:ignore": ...}`) suppresses its findings."""
    shutil.copytree(CDKTF_CASE, tmp_path / "app")
    stack = tmp_path / "app" / STACK / "cdk.tf.json"
    document = json.loads(stack.read_text())
    trainer = document["resource"]["aws_lambda_function"][TRAINER.split(".")[1]]
    trainer["tags"] = {"mllint:ignore": "ML201 -- small model, retrained in 4 minutes; moving to SageMaker in Q3"}
    stack.write_text(json.dumps(document, indent=2))
    report = run_scan(tmp_path / "app", select=["ML201"])
    (finding,) = report.findings
    assert (finding.address, finding.suppressed, finding.suppression.source) == (TRAINER, True, "tag")
    assert finding.suppression.reason == "small model, retrained in 4 minutes; moving to SageMaker in Q3"


def test_comment_property_in_a_json_module_call_covers_its_resources(tmp_path: Path):
    write(tmp_path, {
        "main.tf.json": {"module": {"scoring": {
            "source": "./modules/scoring",
            "count": 2,
            "//": "mllint: ignore[ML302] -- the Step Functions caller retries these jobs",
        }}},
        "modules/scoring/main.tf.json": {"resource": {"aws_batch_job_definition": {"score": {
            "name": "score", "type": "container", "platform_capabilities": ["EC2"],
            "container_properties": '{"image":"score:1","resourceRequirements":[{"type":"GPU","value":"1"}]}',
        }}}},
    })
    report = run_scan(tmp_path, select=["ML302"])
    assert sorted((f.address, f.suppressed, f.suppression.scope) for f in report.findings) == [
        ("module.scoring[0].aws_batch_job_definition.score", True, "module"),
        ("module.scoring[1].aws_batch_job_definition.score", True, "module"),
    ]
    assert report.findings[0].suppression.line == 6
