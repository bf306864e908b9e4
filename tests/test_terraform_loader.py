"""mllint.loaders.terraform: tfparse output turned into normalised Resource records."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

from mllint.loaders.terraform import load_module
from mllint.records import UNKNOWN, LoadError, Link


def write(base: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = base / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content))
    return base


def by_address(result) -> dict:
    assert result.errors == []
    return {r.address: r for r in result.resources}


def test_variables_locals_and_functions_are_evaluated(tmp_path):
    write(tmp_path, {
        "main.tf": """\
            variable "gpus" { default = 1 }
            locals { family = "train-${var.gpus}" }
            resource "aws_ecs_task_definition" "train" {
              family                = local.family
              cpu                   = var.gpus
              container_definitions = jsonencode([{ name = "c", gpu = var.gpus }])
              user_data             = file("${path.module}/boot.sh")
            }
        """,
        "boot.sh": "echo hi\n",
    })
    result = load_module(tmp_path, tmp_path)
    assert result.unit == "."
    (td,) = result.resources
    assert (td.framework, td.type, td.address, td.file, td.line, td.unit) == (
        "terraform", "aws_ecs_task_definition", "aws_ecs_task_definition.train", "main.tf", 3, "."
    )
    assert td.props == {
        "family": "train-1",
        "cpu": 1,
        "container_definitions": '[{"gpu":1,"name":"c"}]',  # JSON strings stay strings
        "user_data": "echo hi\n",
    }
    assert td.refs == ()


VARIABLE_MODULE = {
    "main.tf": """\
        variable "size" { default = "default" }
        resource "aws_instance" "x" { instance_type = var.size }
    """,
}


def instance_type(result) -> str:
    return by_address(result)["aws_instance.x"].props["instance_type"]


def test_terraform_tfvars_overrides_the_default(tmp_path):
    write(tmp_path, {**VARIABLE_MODULE, "terraform.tfvars": 'size = "tfvars"\n'})
    assert instance_type(load_module(tmp_path, tmp_path)) == "tfvars"


def test_auto_tfvars_load_after_terraform_tfvars_in_lexical_order(tmp_path):
    write(tmp_path, {
        **VARIABLE_MODULE,
        "terraform.tfvars": 'size = "tfvars"\n',
        "terraform.tfvars.json": json.dumps({"size": "tfvars.json"}),
        "b.auto.tfvars": 'size = "b"\n',
        "a.auto.tfvars.json": json.dumps({"size": "a"}),
    })
    assert instance_type(load_module(tmp_path, tmp_path)) == "b"


def test_var_files_win_in_the_order_given(tmp_path, monkeypatch):
    module = write(tmp_path / "stack", {**VARIABLE_MODULE, "z.auto.tfvars": 'size = "auto"\n'})
    write(tmp_path, {"env/one.tfvars": 'size = "one"\n', "env/two.tfvars": 'size = "two"\n'})
    monkeypatch.chdir(tmp_path)
    assert instance_type(load_module(module, tmp_path, [Path("env/one.tfvars")])) == "one"
    two = tmp_path / "env/two.tfvars"
    assert instance_type(load_module(module, tmp_path, [Path("env/one.tfvars"), two])) == "two"


def test_missing_var_file_is_an_error(tmp_path):
    write(tmp_path, VARIABLE_MODULE)
    result = load_module(tmp_path, tmp_path, [tmp_path / "nope.tfvars"])
    assert result.errors == [LoadError("nope.tfvars", 0, "variable file not found")]
    assert result.resources == []


def test_local_module_with_count_has_qualified_address_and_root_relative_file(tmp_path):
    write(tmp_path / "stacks/ml", {
        "main.tf": """\
            module "train" {
              source = "./modules/train"
              count  = 1
              cpu    = 4096
            }
        """,
        "modules/train/main.tf": """\
            variable "cpu" {}
            resource "aws_iam_role" "exec" { name = "exec" }
            resource "aws_ecs_task_definition" "this" {
              cpu                = var.cpu
              execution_role_arn = aws_iam_role.exec.arn
              task_role_arn      = aws_iam_role.exec.unique_id
            }
        """,
    })
    result = load_module(tmp_path / "stacks/ml", tmp_path)
    resources = by_address(result)
    td = resources["module.train[0].aws_ecs_task_definition.this"]
    assert (td.file, td.line, td.unit) == ("stacks/ml/modules/train/main.tf", 3, "stacks/ml")
    assert td.props == {
        "cpu": 4096,
        "execution_role_arn": Link("module.train[0].aws_iam_role.exec"),
        "task_role_arn": Link("module.train[0].aws_iam_role.exec", "unique_id"),
    }
    assert td.refs == ("module.train[0].aws_iam_role.exec",)
    assert set(resources) == {"module.train[0].aws_ecs_task_definition.this", "module.train[0].aws_iam_role.exec"}


def test_for_each_and_count_addresses(tmp_path):
    write(tmp_path, {"main.tf": """\
        resource "aws_batch_job_definition" "jd" {
          for_each = toset(["b", "a"])
          name     = "job-${each.key}"
        }
        resource "aws_iam_role" "r" {
          count = 2
          name  = "r${count.index}"
        }
    """})
    result = load_module(tmp_path, tmp_path)
    assert [(r.address, r.line, dict(r.props)) for r in result.resources] == [
        ('aws_batch_job_definition.jd["a"]', 1, {"name": "job-a"}),
        ('aws_batch_job_definition.jd["b"]', 1, {"name": "job-b"}),
        ("aws_iam_role.r[0]", 5, {"name": "r0"}),
        ("aws_iam_role.r[1]", 5, {"name": "r1"}),
    ]


def test_nested_blocks_are_always_lists_and_maps_stay_dicts(tmp_path):
    write(tmp_path, {"main.tf": """\
        resource "aws_ecs_task_definition" "td" {
          placement_constraints { type = "memberOf" }
          volume { name = "a" }
          volume {
            name = "b"
            efs_volume_configuration { file_system_id = "fs-1" }
          }
          dynamic "inference_accelerator" {
            for_each = ["x", "y"]
            content { device_name = inference_accelerator.value }
          }
          tags = { team = "ml" }
          depends_on = []
        }
    """})
    td = by_address(load_module(tmp_path, tmp_path))["aws_ecs_task_definition.td"]
    assert td.props == {
        "placement_constraints": [{"type": "memberOf"}],
        "volume": [{"name": "a"}, {"name": "b", "efs_volume_configuration": [{"file_system_id": "fs-1"}]}],
        "inference_accelerator": [{"device_name": "x"}, {"device_name": "y"}],
        "tags": {"team": "ml"},
    }


def test_references_become_links_and_unknowns(tmp_path):
    write(tmp_path, {"main.tf": """\
        variable "nope" {}
        data "aws_vpc" "main" {}
        resource "aws_iam_role" "role" { count = 1 }
        resource "aws_sagemaker_model" "m" {
          execution_role_arn = aws_iam_role.role[0].arn
          vpc                = data.aws_vpc.main.id
          image              = var.nope
          name               = aws_iam_role.role[0].name
          gone               = aws_iam_role.missing.arn
          nothing            = null
          list               = [aws_iam_role.role[0].id, "literal"]
        }
    """})
    model = by_address(load_module(tmp_path, tmp_path))["aws_sagemaker_model.m"]
    assert model.props == {
        "execution_role_arn": Link("aws_iam_role.role[0]"),
        "vpc": UNKNOWN,
        "image": UNKNOWN,
        "name": Link("aws_iam_role.role[0]", "name"),
        "gone": UNKNOWN,
        "nothing": UNKNOWN,
        "list": [Link("aws_iam_role.role[0]"), "literal"],
    }
    assert model.refs == ("aws_iam_role.role[0]",)


def test_hcl_syntax_error_is_one_located_error(tmp_path):
    write(tmp_path / "svc", {
        "ok.tf": 'resource "aws_iam_role" "r" {}\n',
        "main.tf": 'resource "aws_instance" "x" {\n  ami = "a" instance_type = "b"\n}\n',
    })
    result = load_module(tmp_path / "svc", tmp_path)
    assert result.resources == []
    assert result.errors == [
        LoadError("svc/main.tf", 2, "Missing newline after argument; An argument definition must end with a newline.")
    ]


def test_syntax_errors_in_tf_json_and_tfvars_are_located(tmp_path):
    write(tmp_path / "json", {"main.tf.json": '{"resource": {"aws_iam_role": {"r": {"name": }}}}'})
    (error,) = load_module(tmp_path / "json", tmp_path).errors
    assert (error.file, error.line) == ("json/main.tf.json", 1)
    assert error.message.startswith("Missing JSON value")
    write(tmp_path / "vars", {**VARIABLE_MODULE, "terraform.tfvars": "\n\nsize = = 1\n"})
    (error,) = load_module(tmp_path / "vars", tmp_path).errors
    assert (error.file, error.line) == ("vars/terraform.tfvars", 3)
    assert error.message.startswith("Invalid expression")


def test_unreadable_files_are_errors(tmp_path):
    write(tmp_path / "latin1", {"main.tf": b'resource "aws_iam_role" "r" {\n  name = "caf\xe9"\n}\n'})
    assert load_module(tmp_path / "latin1", tmp_path).errors == [LoadError("latin1/main.tf", 2, "file is not valid UTF-8")]
    write(tmp_path / "huge", {"main.tf": 'resource "aws_iam_role" "r" {}\n'})
    with open(tmp_path / "huge/big.tf.json", "wb") as handle:
        handle.truncate(21 * 1024 * 1024)  # sparse: costs no disk
    result = load_module(tmp_path / "huge", tmp_path)
    assert result.errors == [LoadError("huge/big.tf.json", 0, "file is larger than 20 MB; the module was not evaluated")]
    assert result.resources == []


def test_references_inside_strings_and_derived_data_sources(tmp_path):
    write(tmp_path, {
        "main.tf": """\
            data "aws_sagemaker_prebuilt_ecr_image" "xgboost" {
              repository_name = "sagemaker-xgboost"
              image_tag       = "1.7-1"
            }
            data "aws_caller_identity" "current" {}
            resource "aws_batch_job_queue" "gpu" {
              name = "gpu"
            }
            resource "aws_sagemaker_model" "m" {
              primary_container {
                image = data.aws_sagemaker_prebuilt_ecr_image.xgboost.registry_path
              }
            }
            resource "aws_sfn_state_machine" "s" {
              definition = jsonencode({ JobQueue = aws_batch_job_queue.gpu.arn, Retries = 3 })
              role_arn   = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:role/x"
            }
        """,
    })
    resources = by_address(load_module(tmp_path, tmp_path))
    model = resources["aws_sagemaker_model.m"]
    assert model.props["primary_container"] == [{"image": "${registry}/sagemaker-xgboost:1.7-1"}]
    machine = resources["aws_sfn_state_machine.s"]
    assert json.loads(machine.props["definition"])["JobQueue"] == "${aws_batch_job_queue.gpu}"
    assert "aws_batch_job_queue.gpu" in machine.refs
    assert machine.props["role_arn"] is UNKNOWN


def test_a_jsonencoded_reference_decodes_to_a_link():
    from mllint.facts.access import decode_json

    decoded = decode_json('{"JobQueue": "${aws_batch_job_queue.gpu}", "Role": "${data.aws_iam_role.r}", "Note": "a ${b}"}')
    assert decoded == {"JobQueue": Link("aws_batch_job_queue.gpu"), "Role": UNKNOWN, "Note": "a ${b}"}
