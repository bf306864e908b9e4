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
