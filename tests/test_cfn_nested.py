"""Nested stacks (local TemplateURL, SAM Location, CDK aws:asset:path) and CDK output folders."""
from __future__ import annotations

import textwrap
from pathlib import Path

from conftest import FIXTURES, run_scan
from mllint.discover import discover
from mllint.loaders.cfn_nested import MAX_STACKS, load_stack, template_address
from mllint.records import UNKNOWN, Link

GPU_TASK = """\
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Compatibility:
    Type: String
    Default: {default}
  Subnets:
    Type: CommaDelimitedList
    Default: subnet-a,subnet-b
  Ami:
    Type: AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>
    Default: /aws/service/ecs/optimized-ami/amazon-linux-2023/gpu/recommended/image_id
Resources:
  TrainTaskDefinition:
    Type: AWS::ECS::TaskDefinition
    Properties:
      RequiresCompatibilities: [!Ref Compatibility]
      Cpu: "4096"
      Memory: "16384"
      ContainerDefinitions:
        - Name: trainer
          Image: pytorch-training:2.3.0-gpu
          Environment:
            - {{Name: SUBNETS, Value: !Join [",", !Ref Subnets]}}
            - {{Name: AMI, Value: !Ref Ami}}
          ResourceRequirements:
            - Type: GPU
              Value: "1"
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def parent(*stacks: str, parameters: str = "") -> str:
    """A parent template: `parameters` (YAML lines under Parameters:), then each stack's YAML."""
    head = 'AWSTemplateFormatVersion: "2010-09-09"\n'
    if parameters:
        head += "Parameters:\n" + textwrap.indent(textwrap.dedent(parameters), "  ")
    return head + "Resources:\n" + "".join(textwrap.indent(textwrap.dedent(s), "  ") for s in stacks)


def stack(logical_id: str, url: str, parameters: str = "", extra: str = "") -> str:
    text = f"{logical_id}:\n  Type: AWS::CloudFormation::Stack\n{extra}  Properties:\n    TemplateURL: {url}\n"
    if parameters:
        text += "    Parameters:\n" + textwrap.indent(textwrap.dedent(parameters), "      ")
    return text


def ml101(report) -> list[tuple[str, int, str]]:
    return sorted((f.file, f.line, f.address) for f in report.findings if f.policy_id == "ML101")


def messages(report) -> list[str]:
    return [str(e) for e in report.errors]


def task(result, address: str):
    return next(r for r in result.resources if r.address == address)


def test_the_parent_passes_its_values_and_the_child_keeps_the_defaults_it_is_not_passed(tmp_path):
    write(tmp_path, "nested/training.yaml", GPU_TASK.format(default="EC2"))
    write(tmp_path, "parent.yaml", parent(
        stack("TrainingStack", "./nested/training.yaml", "Compatibility: !Ref LaunchType\n"),
        parameters="LaunchType: {Type: String, Default: FARGATE}\n",
    ))
    result = load_stack(tmp_path / "parent.yaml", tmp_path)
    assert result.errors == []
    train = task(result, "TrainingStack/TrainTaskDefinition")
    assert (train.file, train.line, train.unit) == ("nested/training.yaml", 13, "parent.yaml")
    assert train.props["RequiresCompatibilities"] == ["FARGATE"]
    environment = train.props["ContainerDefinitions"][0]["Environment"]
    assert environment == [{"Name": "SUBNETS", "Value": "subnet-a,subnet-b"}, {"Name": "AMI", "Value": UNKNOWN}]
    assert train.notes == ("nested stack TrainingStack in parent.yaml",)

    report = run_scan(tmp_path, select=["ML101"])
    assert ml101(report) == [("nested/training.yaml", 13, "TrainingStack/TrainTaskDefinition")]
    (finding,) = report.findings
    assert "nested stack TrainingStack in parent.yaml" in finding.evidence
    assert [u.rel for u in report.units] == ["parent.yaml"]  # the child is not a unit of its own


def test_a_value_the_parent_cannot_know_is_unknown_in_the_child_not_its_default(tmp_path):
    write(tmp_path, "training.yaml", GPU_TASK.format(default="FARGATE"))
    write(tmp_path, "parent.yaml", parent(
        stack("Network", "https://s3.amazonaws.com/acme-templates/network.yaml"),
        stack("FromOutput", "training.yaml", "Compatibility: !GetAtt Network.Outputs.LaunchType\n"),
        stack("FromParameter", "training.yaml", "Compatibility: !Ref LaunchType\nSubnets: !Ref AWS::NoValue\n"),
        stack("FromImport", "training.yaml", "Compatibility: !ImportValue shared-launch-type\n"),
        parameters="LaunchType: {Type: String}\n",
    ))
    result = load_stack(tmp_path / "parent.yaml", tmp_path)
    assert result.errors == []
    for nested in ("FromOutput", "FromParameter", "FromImport"):
        assert task(result, f"{nested}/TrainTaskDefinition").props["RequiresCompatibilities"] == [UNKNOWN]
    # AWS::NoValue leaves the parameter out: the child's default applies
    from_parameter = task(result, "FromParameter/TrainTaskDefinition").props["ContainerDefinitions"][0]
    assert from_parameter["Environment"][0]["Value"] == "subnet-a,subnet-b"
    report = run_scan(tmp_path, select=["ML101"])
    assert report.errors == [] and ml101(report) == []
    assert {a for _, a, _ in report.modelled} == {f"{n}/TrainTaskDefinition" for n in ("FromOutput", "FromParameter", "FromImport")}


def test_parameters_that_are_all_unknown_and_list_and_ssm_parameters(tmp_path):
    write(tmp_path, "training.yaml", GPU_TASK.format(default="FARGATE"))
    whole = """\
        Whole:
          Type: AWS::CloudFormation::Stack
          Properties:
            TemplateURL: training.yaml
            Parameters: !If [Gpu, {Compatibility: EC2}, {Compatibility: FARGATE}]
        """
    write(tmp_path, "parent.yaml", parent(
        whole,
        stack("Listed", "training.yaml", "Subnets: !Join [',', [subnet-x, subnet-y]]\nAmi: ami-0123456789abcdef0\n"),
        parameters="UseGpu: {Type: String}\n",
    ) + "Conditions:\n  Gpu: !Equals [!Ref UseGpu, 'yes']\n")
    result = load_stack(tmp_path / "parent.yaml", tmp_path)
    assert result.errors == []
    whole = task(result, "Whole/TrainTaskDefinition").props
    assert whole["RequiresCompatibilities"] == [UNKNOWN]  # the whole map is unknown: every parameter is
    listed = task(result, "Listed/TrainTaskDefinition").props["ContainerDefinitions"][0]["Environment"]
    assert listed == [{"Name": "SUBNETS", "Value": "subnet-x,subnet-y"}, {"Name": "AMI", "Value": UNKNOWN}]


def test_a_child_alone_or_named_alone_is_scanned_with_its_defaults(tmp_path):
    child = write(tmp_path, "stacks/training.yaml", GPU_TASK.format(default="FARGATE"))
    assert ml101(run_scan(tmp_path / "stacks", root=tmp_path, select=["ML101"])) == [("stacks/training.yaml", 13, "TrainTaskDefinition")]
    write(tmp_path, "parent.yaml", parent(stack("TrainingStack", "stacks/training.yaml", "Compatibility: EC2\n")))
    assert ml101(run_scan(tmp_path, select=["ML101"])) == []
    assert ml101(run_scan(child, root=tmp_path, select=["ML101"])) == [("stacks/training.yaml", 13, "TrainTaskDefinition")]
    # a parent named alone reports its own file only, as a named .tf file does
    assert ml101(run_scan(tmp_path / "parent.yaml", root=tmp_path, select=["ML101"])) == []


def test_one_child_nested_twice_is_judged_in_each_place_and_once_each(tmp_path):
    write(tmp_path, "training.yaml", GPU_TASK.format(default="EC2"))
    write(tmp_path, "parent.yaml", parent(
        stack("Gpu", "training.yaml", "Compatibility: FARGATE\n"),
        stack("Cpu", "./training.yaml"),
    ))
    report = run_scan(tmp_path, select=["ML101"])
    assert ml101(report) == [("training.yaml", 13, "Gpu/TrainTaskDefinition")]
    assert sorted(a for _, a, _ in report.modelled) == ["Cpu/TrainTaskDefinition", "Gpu/TrainTaskDefinition"]


def test_references_inside_a_nested_stack_point_at_its_own_resources(tmp_path):
    write(tmp_path, "batch.yaml", """\
        Resources:
          GpuEnvironment:
            Type: AWS::Batch::ComputeEnvironment
            Properties:
              Type: MANAGED
              ComputeResources: {Type: EC2, MinvCpus: 0, MaxvCpus: 64, InstanceTypes: [g5.2xlarge], Subnets: [subnet-a], InstanceRole: arn:aws:iam::123456789012:instance-profile/batch}
          Queue:
            Type: AWS::Batch::JobQueue
            Properties:
              Priority: 1
              ComputeEnvironmentOrder: [{Order: 1, ComputeEnvironment: !Ref GpuEnvironment}]
        """)
    write(tmp_path, "parent.yaml", parent(stack("Training", "batch.yaml")))
    result = load_stack(tmp_path / "parent.yaml", tmp_path)
    queue = task(result, "Training/Queue")
    assert queue.refs == ("Training/GpuEnvironment",)
    assert queue.props["ComputeEnvironmentOrder"][0]["ComputeEnvironment"] == Link("Training/GpuEnvironment")
    report = run_scan(tmp_path, select=["ML301"])
    assert [(f.address, f.evidence[0]) for f in report.findings] == [
        ("Training/GpuEnvironment", "Training/Queue has no Spot GPU compute environment")]


def test_a_nested_stack_inside_a_nested_stack(tmp_path):
    write(tmp_path, "a/b/training.yaml", GPU_TASK.format(default="EC2"))
    write(tmp_path, "a/platform.yaml", parent(
        stack("Training", "b/training.yaml", "Compatibility: !Ref LaunchType\n"),
        parameters="LaunchType: {Type: String, Default: EC2}\n",
    ))
    write(tmp_path, "root.yaml", parent(stack("Platform", "a/platform.yaml", "LaunchType: FARGATE\n")))
    report = run_scan(tmp_path, select=["ML101"])
    assert report.errors == []
    assert ml101(report) == [("a/b/training.yaml", 13, "Platform/Training/TrainTaskDefinition")]
    assert report.findings[0].evidence[-2:] == ("nested stack Platform in root.yaml", "nested stack Training in a/platform.yaml")
    assert [u.rel for u in report.units] == ["root.yaml"]


def test_the_condition_of_a_nested_stack_qualifies_its_resources(tmp_path):
    write(tmp_path, "training.yaml", GPU_TASK.format(default="FARGATE"))
    write(tmp_path, "parent.yaml", parent(
        stack("Training", "training.yaml", extra="  Condition: UseGpu\n"),
        parameters="Gpu: {Type: String}\n",
    ) + "Conditions:\n  UseGpu: !Equals [!Ref Gpu, 'yes']\n")
    (finding,) = run_scan(tmp_path, select=["ML101"]).findings
    assert finding.evidence[1] == "nested stack Training in parent.yaml"
    assert "condition UseGpu" in finding.evidence[2]


def test_missing_child_bad_url_and_remote_templates(tmp_path):
    write(tmp_path, "parent.yaml", parent(
        stack("Missing", "nested/missing.yaml"),
        stack("FileUrl", "file://nested/training.yaml"),
        stack("Https", "https://acme-templates.s3.amazonaws.com/training.yaml"),
        stack("S3", "s3://acme-templates/training.yaml"),
        stack("Built", "!Sub 'https://${Bucket}.s3.amazonaws.com/training.yaml'"),
        stack("FromSsm", "'{{resolve:ssm:/ml/templates/training-url}}'"),
        parameters="Bucket: {Type: String, Default: acme-templates}\n",
    ))
    report = run_scan(tmp_path)
    assert messages(report) == [
        "parent.yaml:8: nested stack Missing: nested/missing.yaml not found",
        "parent.yaml:12: nested stack FileUrl: TemplateURL file://nested/training.yaml is neither a path "
        "relative to the template nor an https:// or s3:// URL",
    ]


def test_cycles_are_one_error_and_never_hang(tmp_path):
    write(tmp_path, "self.yaml", parent(stack("Again", "./self.yaml"), stack("Task", "task.yaml")))
    write(tmp_path, "task.yaml", GPU_TASK.format(default="FARGATE"))
    report = run_scan(tmp_path, select=["ML101"])
    assert messages(report) == [
        "self.yaml:6: nested stack Again: templates nest each other in a cycle (self.yaml -> self.yaml); ./self.yaml is not loaded again"]
    assert ml101(report) == [("task.yaml", 13, "Task/TrainTaskDefinition")]

    loop = tmp_path / "loop"
    write(loop, "a.yaml", parent(stack("B", "b.yaml"), stack("Task", "../task.yaml")))
    write(loop, "b.yaml", parent(stack("A", "a.yaml")))
    report = run_scan(loop, root=tmp_path, select=["ML101"])
    assert [u.rel for u in report.units] == ["loop/a.yaml"]  # one unit per cycle, the first by name
    assert messages(report) == [
        "loop/b.yaml:6: nested stack A: templates nest each other in a cycle (loop/a.yaml -> loop/b.yaml -> loop/a.yaml); "
        "a.yaml is not loaded again"]
    assert ml101(report) == [("task.yaml", 13, "Task/TrainTaskDefinition")]


def test_nesting_that_multiplies_stops_with_an_error(tmp_path):
    write(tmp_path, "level0.yaml", GPU_TASK.format(default="EC2"))
    for level in range(1, 10):
        write(tmp_path, f"level{level}.yaml", parent(stack("Left", f"level{level - 1}.yaml"), stack("Right", f"level{level - 1}.yaml")))
    result = load_stack(tmp_path / "level9.yaml", tmp_path)
    assert len({r.address for r in result.resources if r.type == "AWS::ECS::TaskDefinition"}) < MAX_STACKS
    assert len(result.errors) >= 1
    assert all(f"more than {MAX_STACKS} nested stacks below level9.yaml" in e.message for e in result.errors)


def test_sam_application_with_a_local_location(tmp_path):
    write(tmp_path, "apps/train.yaml", GPU_TASK.format(default="EC2"))
    write(tmp_path, "template.yaml", """\
        Transform: AWS::Serverless-2016-10-31
        Resources:
          Training:
            Type: AWS::Serverless::Application
            Properties:
              Location: apps/train.yaml
              Parameters:
                Compatibility: FARGATE
          FromRepository:
            Type: AWS::Serverless::Application
            Properties:
              Location:
                ApplicationId: arn:aws:serverlessrepo:us-east-1:123456789012:applications/trainer
                SemanticVersion: 1.0.0
        """)
    report = run_scan(tmp_path, select=["ML101"])
    assert report.errors == []
    assert ml101(report) == [("apps/train.yaml", 13, "Training/TrainTaskDefinition")]


def test_template_address():
    assert template_address("TrainingStack/TrainTaskDefinition") == "TrainTaskDefinition"
    assert template_address("A/B/C") == "C"
    assert template_address("TrainTaskDefinition") == "TrainTaskDefinition"
    assert template_address('aws_ecs_task_definition.x["a/b"]') == 'aws_ecs_task_definition.x["a/b"]'


CDK_CASE = FIXTURES / "ML301" / "cloudformation" / "cdk_out_gpu_batch"
NESTED_STACK = "TrainingBatchNestedStackTrainingBatchNestedStackResource9C7E2B41"


def test_cdk_output_folder_scans_each_stack_template_once_and_no_asset():
    found = discover([CDK_CASE], CDK_CASE)
    assert [u.rel for u in found.units] == ["MlStack.template.json"]
    assert found.skipped == ["MlStack.assets.json", "asset.abc123", "asset.def456", "cdk.out", "manifest.json", "tree.json"]
    report = run_scan(CDK_CASE)
    assert report.errors == []
    assert {f for f, _, _ in report.modelled} == {"MlStack.template.json", "MlStackTrainingBatch8F3A61C2.nested.template.json"}
    (finding,) = [f for f in report.findings if f.policy_id == "ML301"]
    assert (finding.file, finding.line, finding.address) == (
        "MlStackTrainingBatch8F3A61C2.nested.template.json", 9, f"{NESTED_STACK}/GpuComputeEnvironment7E21B9C4")
    assert finding.evidence[1:] == (
        f"nested stack {NESTED_STACK} in MlStack.template.json",
        "CDK construct MlStack/TrainingBatch/GpuComputeEnvironment/Resource-Batch-Compute-Environment",
    )


def test_cdk_construct_path_is_noted_on_a_stack_of_its_own(tmp_path):
    write(tmp_path, "cdk.out/manifest.json", '{"version": "36.0.0", "artifacts": {"Train": {"type": "aws:cloudformation:stack", '
          '"properties": {"templateFile": "Train.template.json"}}}}')
    write(tmp_path, "cdk.out/Train.template.json", """\
        {"Resources": {"TaskF00D": {"Type": "AWS::ECS::TaskDefinition",
          "Metadata": {"aws:cdk:path": "Train/Task/Resource"},
          "Properties": {"RequiresCompatibilities": ["FARGATE"], "Cpu": "4096", "Memory": "16384",
            "ContainerDefinitions": [{"Name": "t", "Image": "pytorch-training:2.3.0-gpu",
              "ResourceRequirements": [{"Type": "GPU", "Value": "1"}]}]}}}}
        """)
    write(tmp_path, "cdk.out/Other.template.json", '{"Resources": {}}')  # not in the manifest: not a stack of this assembly
    report = run_scan(tmp_path, select=["ML101"])
    assert [u.rel for u in report.units] == ["cdk.out/Train.template.json"]
    assert "cdk.out/Other.template.json" in report.skipped
    (finding,) = report.findings
    assert (finding.address, finding.evidence[-1]) == ("TaskF00D", "CDK construct Train/Task/Resource")


def test_a_stack_template_the_manifest_names_is_loaded_even_when_it_does_not_look_like_one(tmp_path):
    write(tmp_path, "cdk.out/manifest.json", '{"version": "36.0.0", "artifacts": {"Train": {"type": "aws:cloudformation:stack", '
          '"properties": {"templateFile": "Train.template.json"}}}}')
    write(tmp_path, "cdk.out/Train.template.json", "{}")
    report = run_scan(tmp_path)
    assert messages(report) == ["cdk.out/Train.template.json:1: template has no Resources section"]


def test_a_suppression_in_the_child_template_covers_its_nested_resources(tmp_path):
    child = GPU_TASK.format(default="EC2").replace(
        "    Type: AWS::ECS::TaskDefinition\n",
        "    Type: AWS::ECS::TaskDefinition\n    Metadata:\n      mllint:\n        ignore:\n"
        "          - {id: ML101, reason: GPU pool arrives in Q3}\n")
    write(tmp_path, "training.yaml", child)
    write(tmp_path, "parent.yaml", parent(stack("Gpu", "training.yaml", "Compatibility: FARGATE\n"), stack("Cpu", "training.yaml")))
    report = run_scan(tmp_path, select=["ML101", "ML001"])
    assert report.errors == []
    assert [(f.policy_id, f.address, f.suppressed) for f in report.findings] == [("ML101", "Gpu/TrainTaskDefinition", True)]
