"""The Terraform plan / state JSON loader (`terraform show -json`): addresses, values, links, errors, discovery."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import FIXTURES, run_scan
from mllint.discover import discover
from mllint.loaders.terraform_plan import load_plan
from mllint.records import UNKNOWN, Link

GPU_CONTAINERS = json.dumps([{"name": "train", "image": "train:1", "resourceRequirements": [{"type": "GPU", "value": "1"}]}])


def entry(address: str, kind: str, name: str, values: dict, mode: str = "managed", **extra) -> dict:
    return {"address": address, "mode": mode, "type": kind, "name": name, **extra,
            "provider_name": "registry.terraform.io/hashicorp/aws", "schema_version": 0, "values": values, "sensitive_values": {}}


def change(address: str, kind: str, name: str, after: dict | None, unknown: dict | None = None,
           actions: tuple = ("create",), mode: str = "managed", **extra) -> dict:
    return {"address": address, "mode": mode, "type": kind, "name": name, **extra,
            "provider_name": "registry.terraform.io/hashicorp/aws",
            "change": {"actions": list(actions), "before": None, "after": after, "after_unknown": unknown or {},
                       "before_sensitive": False, "after_sensitive": {}}}


def plan(resources: list[dict], changes: list[dict], configuration: dict | None = None, child_modules: list | None = None) -> dict:
    root: dict = {"resources": resources}
    if child_modules:
        root["child_modules"] = child_modules
    document = {"format_version": "1.2", "terraform_version": "1.9.8", "planned_values": {"root_module": root},
                "resource_changes": changes}
    if configuration is not None:
        document["configuration"] = {"root_module": configuration}
    return document


def write(tmp_path: Path, document: dict | str, name: str = "plan.json", indent: int | None = None) -> Path:
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else json.dumps(document, indent=indent))
    return path


def load(tmp_path: Path, document: dict, **kwargs):
    result = load_plan(write(tmp_path, document, **kwargs), tmp_path)
    assert result.errors == []
    return {r.address: r for r in result.resources}


def single(values: dict, unknown: dict | None = None, kind: str = "aws_batch_job_definition", actions=("create",)) -> dict:
    address = f"{kind}.this"
    return plan([entry(address, kind, "this", values)], [change(address, kind, "this", values, unknown, actions)])


# ------------------------------------------------------------------ addresses


def test_addresses_of_nested_module_instances_as_terraform_prints_them(tmp_path):
    inner = 'module.batch.module.queue["gpu"].aws_batch_job_queue.this[0]'
    top = 'module.batch.aws_batch_compute_environment.this["g5"]'
    document = plan(
        [entry("aws_ecs_cluster.ml", "aws_ecs_cluster", "ml", {"name": "ml"})],
        [change("aws_ecs_cluster.ml", "aws_ecs_cluster", "ml", {"name": "ml"}),
         change(top, "aws_batch_compute_environment", "this", {"type": "MANAGED"}, index="g5", module_address="module.batch"),
         change(inner, "aws_batch_job_queue", "this", {"name": "q"}, index=0, module_address='module.batch.module.queue["gpu"]')],
        child_modules=[{"address": "module.batch",
                        "resources": [entry(top, "aws_batch_compute_environment", "this", {"type": "MANAGED"}, index="g5")],
                        "child_modules": [{"address": 'module.batch.module.queue["gpu"]',
                                           "resources": [entry(inner, "aws_batch_job_queue", "this", {"name": "q"}, index=0)]}]}],
    )
    resources = load(tmp_path, document)
    assert list(resources) == ["aws_ecs_cluster.ml", top, inner]
    assert {r.type for r in resources.values()} == {"aws_ecs_cluster", "aws_batch_compute_environment", "aws_batch_job_queue"}
    assert all(r.framework == "terraform" and r.file == "plan.json" and r.unit == "plan.json" for r in resources.values())


def test_data_sources_are_not_resources(tmp_path):
    document = plan(
        [entry("data.aws_caller_identity.me", "aws_caller_identity", "me", {"account_id": "123456789012"}, mode="data"),
         entry("aws_ecs_cluster.ml", "aws_ecs_cluster", "ml", {"name": "ml"})],
        [change("aws_ecs_cluster.ml", "aws_ecs_cluster", "ml", {"name": "ml"})],
    )
    assert list(load(tmp_path, document)) == ["aws_ecs_cluster.ml"]


# ------------------------------------------------------------------ values


def test_empty_blocks_nulls_and_empty_strings_are_unset(tmp_path):
    values = {"name": "train", "retry_strategy": [], "timeout": None, "node_properties": "", "parameters": {},
              "tags": {"Team": "", "Owner": "ml"}, "platform_capabilities": ["EC2"],
              "eks_properties": [{"pod_properties": [], "labels": None}]}
    props = load(tmp_path, single(values))["aws_batch_job_definition.this"].props
    assert props == {"name": "train", "parameters": {}, "tags": {"Team": "", "Owner": "ml"},
                     "platform_capabilities": ["EC2"], "eks_properties": [{}]}


def test_values_known_only_after_apply_are_unknown(tmp_path):
    values = {"name": "train", "arn": None, "retry_strategy": [{"attempts": None}], "tags": {"Run": None},
              "container_properties": GPU_CONTAINERS}
    unknown = {"arn": True, "revision": True, "retry_strategy": [{"attempts": True}], "tags": {"Run": True}}
    props = load(tmp_path, single(values, unknown))["aws_batch_job_definition.this"].props
    assert props["arn"] is UNKNOWN and props["revision"] is UNKNOWN  # `revision` is only in after_unknown
    assert props["retry_strategy"] == [{"attempts": UNKNOWN}]
    assert props["tags"] == {"Run": UNKNOWN}
    assert props["container_properties"] == GPU_CONTAINERS  # JSON strings stay strings


def test_unknown_retry_attempts_produce_no_finding(tmp_path):
    values = {"name": "train", "type": "container", "platform_capabilities": ["EC2"], "container_properties": GPU_CONTAINERS,
              "retry_strategy": [{"attempts": None}]}
    path = write(tmp_path, single(values, {"retry_strategy": [{"attempts": True}]}))
    report = run_scan(path, root=tmp_path, select=["ML302"])
    assert report.errors == [] and report.findings == []
    assert [address for _, address, _ in report.modelled] == ["aws_batch_job_definition.this"]


def test_the_same_job_without_retry_strategy_fails(tmp_path):
    values = {"name": "train", "type": "container", "platform_capabilities": ["EC2"], "container_properties": GPU_CONTAINERS,
              "retry_strategy": []}
    report = run_scan(write(tmp_path, single(values)), root=tmp_path, select=["ML302"])
    assert [(f.address, f.file, f.line) for f in report.findings] == [("aws_batch_job_definition.this", "plan.json", 1)]


@pytest.mark.parametrize("actions, kept", [
    (["delete"], False), (["forget"], False), (["delete", "create"], True), (["create", "delete"], True),
    (["no-op"], True), (["update"], True),
])
def test_instances_gone_after_apply_are_left_out(tmp_path, actions, kept):
    resources = load(tmp_path, single({"name": "train"}, actions=actions))
    assert ("aws_batch_job_definition.this" in resources) is kept


def test_deposed_objects_do_not_replace_the_current_one(tmp_path):
    document = single({"name": "train", "retry_strategy": [{"attempts": 3}]})
    document["resource_changes"].append(change("aws_batch_job_definition.this", "aws_batch_job_definition", "this",
                                               None, actions=("delete",), deposed="00000001"))
    props = load(tmp_path, document)["aws_batch_job_definition.this"].props
    assert props["retry_strategy"] == [{"attempts": 3}]


# ------------------------------------------------------------------ links


def _queue_plan(order: list[dict], order_expressions: list[dict], environments: tuple[str, ...] = ("spot", "on_demand")) -> dict:
    resources, changes, config = [], [], []
    for name in environments:
        address = f"aws_batch_compute_environment.{name}"
        resources.append(entry(address, "aws_batch_compute_environment", name, {"arn": None}))
        changes.append(change(address, "aws_batch_compute_environment", name, {"arn": None}, {"arn": True}))
        config.append({"address": address, "mode": "managed", "type": "aws_batch_compute_environment", "name": name,
                       "expressions": {}})
    queue = {"name": "q", "compute_environment_order": order}
    unknown = {"compute_environment_order": [{"compute_environment": True} for _ in order]}
    resources.append(entry("aws_batch_job_queue.q", "aws_batch_job_queue", "q", queue))
    changes.append(change("aws_batch_job_queue.q", "aws_batch_job_queue", "q", queue, unknown))
    config.append({"address": "aws_batch_job_queue.q", "mode": "managed", "type": "aws_batch_job_queue", "name": "q",
                   "expressions": {"name": {"constant_value": "q"}, "compute_environment_order": order_expressions}})
    return plan(resources, changes, {"resources": config})


def _order_expression(order: int, environment: str) -> dict:
    target = f"aws_batch_compute_environment.{environment}"
    return {"order": {"constant_value": order}, "compute_environment": {"references": [f"{target}.arn", target]}}


def test_unknown_reference_to_one_resource_becomes_a_link(tmp_path):
    document = _queue_plan([{"order": 1, "compute_environment": None}], [_order_expression(1, "spot")])
    queue = load(tmp_path, document)["aws_batch_job_queue.q"]
    assert queue.props["compute_environment_order"] == [
        {"order": 1, "compute_environment": Link("aws_batch_compute_environment.spot", "arn")}]
    assert queue.refs == ("aws_batch_compute_environment.spot",)


def test_blocks_are_matched_to_their_configuration_by_constant_arguments(tmp_path):
    # `after` lists the blocks in another order than the configuration (as for a set).
    document = _queue_plan([{"order": 2, "compute_environment": None}, {"order": 1, "compute_environment": None}],
                           [_order_expression(1, "spot"), _order_expression(2, "on_demand")])
    order = load(tmp_path, document)["aws_batch_job_queue.q"].props["compute_environment_order"]
    assert order == [{"order": 2, "compute_environment": Link("aws_batch_compute_environment.on_demand", "arn")},
                     {"order": 1, "compute_environment": Link("aws_batch_compute_environment.spot", "arn")}]


def test_blocks_that_constants_cannot_tell_apart_stay_unknown(tmp_path):
    document = _queue_plan([{"order": 1, "compute_environment": None}, {"order": 1, "compute_environment": None}],
                           [_order_expression(1, "spot"), _order_expression(1, "on_demand")])
    order = load(tmp_path, document)["aws_batch_job_queue.q"].props["compute_environment_order"]
    assert order == [{"order": 1, "compute_environment": UNKNOWN}, {"order": 1, "compute_environment": UNKNOWN}]


def test_reference_to_a_resource_with_several_instances_is_not_guessed(tmp_path):
    document = _queue_plan([{"order": 1, "compute_environment": None}], [_order_expression(1, "gpu")],
                           environments=("gpu[0]", "gpu[1]"))
    for item in document["planned_values"]["root_module"]["resources"] + document["resource_changes"]:
        if item["address"].startswith("aws_batch_compute_environment.gpu["):
            item["name"], item["index"] = "gpu", int(item["address"][-2])
    queue = load(tmp_path, document)["aws_batch_job_queue.q"]
    assert queue.props["compute_environment_order"] == [{"order": 1, "compute_environment": UNKNOWN}]
    assert queue.refs == ()
    expression = document["configuration"]["root_module"]["resources"][-1]["expressions"]["compute_environment_order"][0]
    expression["compute_environment"]["references"] = [
        "aws_batch_compute_environment.gpu[1].arn", "aws_batch_compute_environment.gpu[1]", "aws_batch_compute_environment.gpu"]
    queue = load(tmp_path, document)["aws_batch_job_queue.q"]
    assert queue.props["compute_environment_order"] == [
        {"order": 1, "compute_environment": Link("aws_batch_compute_environment.gpu[1]", "arn")}]


def test_without_configuration_unknown_values_stay_unknown(tmp_path):
    document = _queue_plan([{"order": 1, "compute_environment": None}], [_order_expression(1, "spot")])
    del document["configuration"]
    queue = load(tmp_path, document)["aws_batch_job_queue.q"]
    assert queue.props["compute_environment_order"] == [{"order": 1, "compute_environment": UNKNOWN}]


def test_links_through_module_inputs_and_outputs():
    resources = {r.address: r for r in load_plan(FIXTURES / "ML101/plan/workers_in_module_instances.json", FIXTURES / "ML101").resources}
    service = resources['module.worker["detector"].aws_ecs_service.this']
    assert service.props["cluster"] == Link("aws_ecs_cluster.media", "arn")  # var.cluster_arn in the module call
    assert service.props["task_definition"] == Link('module.worker["detector"].aws_ecs_task_definition.this', "arn")
    loaded = load_plan(FIXTURES / "ML301/plan/gpu_environment_in_module.json", FIXTURES / "ML301").resources
    [queue] = [r for r in loaded if r.address == "aws_batch_job_queue.finetune"]
    assert queue.props["compute_environment_order"][0]["compute_environment"] == Link(
        "module.batch.aws_batch_compute_environment.this", "arn")  # module.batch.compute_environment_arn


# ------------------------------------------------------------------ lines


def test_line_is_where_the_resource_is_in_planned_values(tmp_path):
    document = single({"name": "train"})
    assert load(tmp_path, document)["aws_batch_job_definition.this"].line == 1
    pretty = json.dumps(document, indent=2).splitlines()
    line = load(tmp_path, document, indent=2)["aws_batch_job_definition.this"].line
    assert pretty[line - 1].strip() == '"address": "aws_batch_job_definition.this",'
    assert line < next(i for i, text in enumerate(pretty, 1) if '"resource_changes"' in text)


def test_fixture_lines_point_at_the_resource():
    text = (FIXTURES / "ML101/plan/workers_in_module_instances.json").read_text().splitlines()
    for resource in load_plan(FIXTURES / "ML101/plan/workers_in_module_instances.json", FIXTURES / "ML101").resources:
        assert text[resource.line - 1].strip() == f'"address": {json.dumps(resource.address)},'


# ------------------------------------------------------------------ state


def test_state_json_is_read_as_known_values(tmp_path):
    values = {"name": "train", "retry_strategy": [], "timeout": [], "arn": "arn:aws:batch:us-east-1:123456789012:job-definition/train:3",
              "container_properties": GPU_CONTAINERS, "platform_capabilities": ["EC2"], "scheduling_priority": 0}
    state = {"format_version": "1.0", "terraform_version": "1.9.8",
             "values": {"root_module": {"resources": [entry("aws_batch_job_definition.train", "aws_batch_job_definition", "train", values)]}}}
    path = write(tmp_path, state, name="state.json")
    [resource] = load_plan(path, tmp_path).resources
    assert resource.props == {k: v for k, v in values.items() if k not in ("retry_strategy", "timeout")}
    report = run_scan(path, root=tmp_path, select=["ML302"])
    assert [f.address for f in report.findings] == ["aws_batch_job_definition.train"]


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize("text, line, message", [
    ('{\n  "format_version": "1.2",\n  "planned_values": {,\n}', 3, "invalid JSON: Expecting property name enclosed in double quotes"),
    ("[1, 2]", 1, "a Terraform plan or state must be a JSON object"),
    ('{"format_version": "2.0", "planned_values": {}}', 1, "unsupported format_version '2.0' (expected 1.x from `terraform show -json`)"),
    ('{"format_version": "1.2",\n"planned_values": []}', 2, "planned_values must be an object"),
    ('{"format_version": "1.2",\n"planned_values": {"root_module": {"resources": [{"type": "aws_x"}]}}}', 2,
     "planned_values.root_module.resources: every resource needs a string address and type"),
    ('{"format_version": "1.2", "planned_values": {}, "resource_changes": {}}', 1, "resource_changes must be an array"),
    ('{"format_version": "1.2",\n"planned_values": {"root_module": {"resources": [\n{"address": "aws_x.y", "type": "aws_x"}]}}}', 3,
     "aws_x.y has no values after apply"),
])
def test_malformed_plans_are_one_error_with_a_line(tmp_path, text, line, message):
    result = load_plan(write(tmp_path, text), tmp_path)
    assert [(e.file, e.line, e.message) for e in result.errors] == [("plan.json", line, message)]
    assert result.resources == []


def test_a_broken_plan_is_reported_and_the_rest_still_scanned(tmp_path):
    (tmp_path / "broken.json").write_text('{"format_version": "1.2", "terraform_version": "1.9.8", "planned_values": ')
    write(tmp_path, single({"name": "train", "type": "container", "platform_capabilities": ["EC2"],
                            "container_properties": GPU_CONTAINERS}), name="good.json")
    report = run_scan(tmp_path, select=["ML302"])
    assert [str(e) for e in report.errors] == ["broken.json:1: invalid JSON: Expecting value"]
    assert [(f.file, f.address) for f in report.findings] == [("good.json", "aws_batch_job_definition.this")]


def test_a_utf16_plan_from_powershell_is_read(tmp_path):
    path = tmp_path / "plan.json"
    path.write_bytes(json.dumps(single({"name": "train"})).encode("utf-16"))
    assert [u.kind for u in discover([path], tmp_path).units] == ["terraform-plan"]
    assert [r.address for r in load_plan(path, tmp_path).resources] == ["aws_batch_job_definition.this"]


# ------------------------------------------------------------------ discovery


def _kinds(tmp_path: Path) -> dict[str, str]:
    found = discover([tmp_path], tmp_path)
    return {unit.rel: unit.kind for unit in found.units} | {rel: "skipped" for rel in found.skipped}


def test_discovery_tells_plans_from_templates(tmp_path):
    stack_yaml = "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n"
    stack = single({"name": "ml", "template_body": stack_yaml}, kind="aws_cloudformation_stack")
    write(tmp_path, stack, name="tfplan.json", indent=2)  # holds a template in a string value
    write(tmp_path, {"format_version": "1.0", "terraform_version": "1.9.8", "values": {"root_module": {}}}, name="state.json")
    write(tmp_path, {"AWSTemplateFormatVersion": "2010-09-09", "Metadata": {"format_version": "1", "terraform_version": "x"},
                     "Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}, name="template.json")
    write(tmp_path, {"format_version": "1.0"}, name="empty-state.json")
    write(tmp_path, {"format_version": "1.0", "provider_schemas": {}}, name="schemas.json")
    assert _kinds(tmp_path) == {"tfplan.json": "terraform-plan", "state.json": "terraform-plan",
                                "template.json": "cloudformation", "empty-state.json": "skipped", "schemas.json": "skipped"}


def test_a_plan_named_anything_is_scanned_when_named_on_the_command_line(tmp_path):
    path = write(tmp_path, single({"name": "train", "type": "container", "platform_capabilities": ["EC2"],
                                   "container_properties": GPU_CONTAINERS}), name="plan.out.txt")
    report = run_scan(path, root=tmp_path, select=["ML302"])
    assert [(u.kind, u.rel) for u in report.units] == [("terraform-plan", "plan.out.txt")]
    assert [f.address for f in report.findings] == ["aws_batch_job_definition.this"]


def test_the_mllint_ignore_tag_suppresses_a_plan_finding(tmp_path):
    values = {"name": "train", "type": "container", "platform_capabilities": ["EC2"], "container_properties": GPU_CONTAINERS,
              "tags": {"mllint:ignore": "ML302 -- idempotency not guaranteed, retried by the orchestrator"}}
    report = run_scan(write(tmp_path, single(values)), root=tmp_path, select=["ML302"])
    assert [(f.address, f.suppressed) for f in report.findings] == [("aws_batch_job_definition.this", True)]


def test_state_links_resources_by_their_names_and_arns(tmp_path):
    arn = "arn:aws:batch:us-east-1:123456789012:compute-environment/recsys-g5"
    environment = {"arn": arn, "compute_environment_name": "recsys-g5", "type": "MANAGED", "compute_environment_name_prefix": "",
                   "compute_resources": [{"type": "EC2", "instance_type": ["g5.2xlarge"], "bid_percentage": 0, "launch_template": []}]}
    queue = {"name": "training", "compute_environment_order": [{"order": 1, "compute_environment": arn}], "compute_environments": []}
    state = {"format_version": "1.0", "terraform_version": "1.9.8", "values": {"root_module": {"resources": [
        entry("aws_batch_compute_environment.gpu", "aws_batch_compute_environment", "gpu", environment),
        entry("aws_batch_job_queue.training", "aws_batch_job_queue", "training", queue)]}}}
    report = run_scan(write(tmp_path, state, name="state.json", indent=2), root=tmp_path, select=["ML301"])
    assert [(f.address, f.line) for f in report.findings] == [("aws_batch_compute_environment.gpu", 8)]


def test_evidence_names_the_plan_not_a_module():
    report = run_scan(FIXTURES / "ML304" / "plan" / "fraud_scoring_endpoint.json", root=FIXTURES / "ML304", select=["ML304"])
    (finding,) = report.findings
    assert finding.evidence[-1] == (
        "aws_sagemaker_endpoint.fraud variant AllTraffic: no scalable target in this plan registers "
        "endpoint/fraud-scoring/variant/AllTraffic")
