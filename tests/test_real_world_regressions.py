"""Behaviour found by scanning public repositories (docs/real-world.md), in minimal templates of our own."""
from __future__ import annotations

from conftest import run_scan

DEV_ENDPOINT = """\
Parameters:
  VariantPrefix:
    Type: String
  ModelName:
    Type: String
Resources:
  Config:
    Type: AWS::SageMaker::EndpointConfig
    Properties:
      ProductionVariants:
        - InitialInstanceCount: 1
          InstanceType: ml.m5.large
          ModelName: !Ref ModelName
          VariantName: !Sub ${VariantPrefix}-${ModelName}
  Endpoint:
    Type: AWS::SageMaker::Endpoint
    Properties:
      EndpointConfigName: !GetAtt Config.EndpointConfigName
"""


def test_a_variant_whose_name_is_a_parameter_without_default_is_named_unknown_not_unnamed(tmp_path):
    template = tmp_path / "endpoint.yaml"
    template.write_text(DEV_ENDPOINT)
    report = run_scan(template, select=["ML304"])
    assert report.errors == []
    assert [f.message for f in report.findings] == [
        "Config has real-time variants that no scaling policy or scheduled action scales: "
        "(variant whose name is unknown) on Endpoint"
    ]


APPSPEC_JSON = """\
{
  "version": 0.0,
  "Resources": [
    {"TargetService": {"Type": "AWS::ECS::Service", "Properties": {"TaskDefinition": "<TASK>"}}}
  ]
}
"""

MACRO_RESPONSE = """\
requestId: 0a1b2c3d
status: success
fragment:
  Resources:
    Queue:
      Type: AWS::SQS::Queue
"""


def test_codedeploy_appspec_and_macro_events_are_skipped_not_refused(tmp_path):
    (tmp_path / "appspec.json").write_text(APPSPEC_JSON)
    (tmp_path / "macro-response.yaml").write_text(MACRO_RESPONSE)
    report = run_scan(tmp_path)
    assert report.errors == []
    assert report.units == []
    assert sorted(report.skipped) == ["appspec.json", "macro-response.yaml"]


def test_a_template_with_a_list_of_resources_and_no_appspec_version_is_still_refused(tmp_path):
    (tmp_path / "broken.yaml").write_text("Resources:\n  - Queue:\n      Type: AWS::SQS::Queue\n")
    report = run_scan(tmp_path)
    assert [(e.file, e.line, e.message) for e in report.errors] == [
        ("broken.yaml", 1, "Resources must be a mapping, not a list")
    ]


def test_a_template_with_a_nested_version_0_0_or_fragment_key_is_still_loaded(tmp_path):
    (tmp_path / "queue.yaml").write_text(
        "Resources:\n"
        "  Queue:\n"
        "    Type: AWS::SQS::Queue\n"
        "    Metadata:\n"
        "      version: 0.0\n"
        "      fragment: {}\n"
    )
    report = run_scan(tmp_path)
    assert report.errors == []
    assert [u.rel for u in report.units] == ["queue.yaml"]


def test_rain_directives_are_named_as_such(tmp_path):
    (tmp_path / "embed.yaml").write_text(
        "Resources:\n"
        "  Fn:\n"
        "    Type: AWS::Lambda::Function\n"
        "    Properties:\n"
        "      Code:\n"
        "        ZipFile: !Rain::Embed handler.py\n"
    )
    (tmp_path / "module.json").write_text(
        '{"Resources": {"Network": {"Type": {"Rain::Module": "vpc.yml"}, "Properties": {}},'
        ' "Queue": {"Type": "AWS::SQS::Queue"}}}'
    )
    report = run_scan(tmp_path)
    assert sorted((e.file, e.message) for e in report.errors) == [
        ("embed.yaml", "unsupported tag !Rain::Embed (a rain directive: scan the template `rain pkg` writes)"),
        ("module.json", "resource Network: Type {Rain::Module: ...} is a rain directive: scan the template `rain pkg` writes"),
    ]
