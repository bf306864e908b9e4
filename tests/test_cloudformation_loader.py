"""The CloudFormation loader: parsing, line numbers, intrinsic resolution, SAM, errors."""
from __future__ import annotations

import json
import textwrap
import time
from pathlib import Path

import pytest
import yaml

from conftest import by_address as by_id, load_cfn as load, write_template as write
from mllint.loaders import cfn_yaml
from mllint.loaders.cloudformation import load_template
from mllint.records import UNKNOWN, Link, LoadError


def props_of(tmp_path: Path, text: str, logical_id: str = "Thing") -> dict:
    result = load(tmp_path, text)
    assert result.errors == []
    return dict(by_id(result)[logical_id].props)


def only_error(result) -> LoadError:
    assert result.resources == []
    assert len(result.errors) == 1, result.errors
    return result.errors[0]


# --- resources, lines and paths -------------------------------------------------------------


def test_resources_have_logical_ids_types_lines_and_relative_paths(tmp_path):
    result = load(tmp_path, """
        AWSTemplateFormatVersion: "2010-09-09"
        Resources:
          # a comment
          TrainRole:
            Type: AWS::IAM::Role
          TrainJob:
            Type: AWS::Batch::JobDefinition
            Condition: IsProd
            Properties:
              Type: container
              RetryStrategy: {Attempts: 3}
        """, name="stacks/ml.yaml")
    assert result.errors == []
    assert result.unit == "stacks/ml.yaml"
    assert [(r.address, r.type, r.line) for r in result.resources] == [
        ("TrainRole", "AWS::IAM::Role", 4),
        ("TrainJob", "AWS::Batch::JobDefinition", 6),
    ]
    role, job = result.resources
    assert (role.framework, role.file, role.unit) == ("cloudformation", "stacks/ml.yaml", "stacks/ml.yaml")
    assert role.props == {} and role.refs == () and role.condition is None
    assert job.props == {"Type": "container", "RetryStrategy": {"Attempts": 3}}
    assert job.condition == "IsProd"


def test_file_outside_root_uses_absolute_path(tmp_path):
    path = write(tmp_path, "Resources:\n  A:\n    Type: AWS::SNS::Topic\n")
    result = load_template(path, tmp_path / "elsewhere")
    assert result.unit == path.as_posix()
    assert result.resources[0].file == path.as_posix()


def test_scalars_resolve_by_yaml_tag_and_keys_stay_strings(tmp_path):
    props = props_of(tmp_path, """
        Resources:
          Thing:
            Type: AWS::X::Y
            Properties:
              Int: 8
              Float: 0.5
              Bool: true
              Null: ~
              Quoted: "8"
              Date: 2024-01-02
              Explicit: !!str 10
              Ports: {80: http, 443: https}
        """)
    assert props == {
        "Int": 8, "Float": 0.5, "Bool": True, "Null": None, "Quoted": "8",
        "Date": "2024-01-02", "Explicit": "10", "Ports": {"80": "http", "443": "https"},
    }


def test_anchors_and_aliases_are_expanded(tmp_path):
    props = props_of(tmp_path, """
        Resources:
          Thing:
            Type: AWS::X::Y
            Properties:
              A: &tags [{Key: team, Value: ml}]
              B: *tags
        """)
    assert props["A"] == props["B"] == [{"Key": "team", "Value": "ml"}]


# --- parameters and Ref -----------------------------------------------------------------------


PARAMETERS = """
    Parameters:
      GpuCount: {Type: Number, Default: 4}
      Instance: {Type: String, Default: ml.g5.xlarge}
      NoDefault: {Type: String}
      Subnets: {Type: CommaDelimitedList, Default: "subnet-a, subnet-b ,subnet-c"}
      Zones: {Type: "List<AWS::EC2::AvailabilityZone::Name>", Default: "eu-west-1a,eu-west-1b"}
      Ami: {Type: "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>", Default: /aws/service/ami}
"""


def test_ref_to_parameters_uses_defaults(tmp_path):
    props = props_of(tmp_path, PARAMETERS + """
    Resources:
      Thing:
        Type: AWS::X::Y
        Properties:
          Gpus: !Ref GpuCount
          Instance: {Ref: Instance}
          Missing: !Ref NoDefault
          Subnets: !Ref Subnets
          Zones: !Ref Zones
          Ami: !Ref Ami
          Undeclared: !Ref Nowhere
    """)
    assert props == {
        "Gpus": 4,
        "Instance": "ml.g5.xlarge",
        "Missing": UNKNOWN,
        "Subnets": ["subnet-a", "subnet-b", "subnet-c"],
        "Zones": ["eu-west-1a", "eu-west-1b"],
        "Ami": UNKNOWN,  # the default is the SSM parameter's name, not its value
        "Undeclared": UNKNOWN,
    }


def test_pseudo_parameters_are_unknown_and_novalue_removes_the_key_or_item(tmp_path):
    props = props_of(tmp_path, """
        Resources:
          Thing:
            Type: AWS::X::Y
            Properties:
              Region: !Ref AWS::Region
              Account: {Ref: AWS::AccountId}
              Dropped: !Ref AWS::NoValue
              List: [a, !Ref AWS::NoValue, b]
              Nested: {Kept: 1, Dropped: {Ref: AWS::NoValue}}
        """)
    assert props == {"Region": UNKNOWN, "Account": UNKNOWN, "List": ["a", "b"], "Nested": {"Kept": 1}}


def test_ref_and_getatt_to_resources_become_links_and_refs(tmp_path):
    result = load(tmp_path, """
        Resources:
          Model:
            Type: AWS::SageMaker::Model
          Config:
            Type: AWS::SageMaker::EndpointConfig
          Bucket:
            Type: AWS::S3::Bucket
          Thing:
            Type: AWS::SageMaker::Endpoint
            DependsOn: [Bucket, NotAResource]
            Properties:
              EndpointConfigName: !GetAtt Config.EndpointConfigName
              ModelArn: {"Fn::GetAtt": [Model, Arn]}
              Dotted: {"Fn::GetAtt": "Model.ModelName"}
              Nested: !GetAtt Config.Outputs.Name
              Named: !Ref Model
              Missing: !GetAtt Ghost.Arn
        """)
    thing = by_id(result)["Thing"]
    assert thing.props == {
        "EndpointConfigName": Link("Config", "EndpointConfigName"),
        "ModelArn": Link("Model", "Arn"),
        "Dotted": Link("Model", "ModelName"),
        "Nested": Link("Config", "Outputs.Name"),
        "Named": Link("Model"),
        "Missing": UNKNOWN,
    }
    assert thing.refs == ("Bucket", "Config", "Model")
    assert by_id(result)["Bucket"].refs == ()


# --- other intrinsics ---------------------------------------------------------------------------


def test_sub_substitutes_known_parts(tmp_path):
    props = props_of(tmp_path, PARAMETERS + """
    Resources:
      Thing:
        Type: AWS::X::Y
        Properties:
          Plain: !Sub "${Instance}-x${GpuCount}"
          Escaped: !Sub "${!Literal}-${Instance}"
          WithVars: !Sub ["${Prefix}/${Instance}", {Prefix: !Join ["-", [a, b]]}]
          LongForm: {"Fn::Sub": "gpus=${GpuCount}"}
          Region: !Sub "arn:aws:s3:::${AWS::Region}"
          Image: !Sub "${AWS::AccountId}.dkr.ecr.${AWS::Region}.amazonaws.com/trainer:${Instance}"
          NoDefault: !Sub "${NoDefault}"
    """)
    assert props == {
        "Plain": "ml.g5.xlarge-x4",
        "Escaped": "${Literal}-ml.g5.xlarge",
        "WithVars": "a-b/ml.g5.xlarge",
        "LongForm": "gpus=4",
        "Region": "arn:aws:s3:::${AWS::Region}",  # pseudo parameters stay as text inside strings
        "Image": "${AWS::AccountId}.dkr.ecr.${AWS::Region}.amazonaws.com/trainer:ml.g5.xlarge",
        "NoDefault": UNKNOWN,
    }


def test_sub_referencing_a_resource_is_unknown_but_recorded(tmp_path):
    result = load(tmp_path, """
        Resources:
          MyEndpoint:
            Type: AWS::SageMaker::Endpoint
          MyRole:
            Type: AWS::IAM::Role
          Thing:
            Type: AWS::Lambda::Function
            Properties:
              Environment:
                Variables:
                  ENDPOINT: !Sub "${MyEndpoint.EndpointName}"
                  ROLE: !Sub ["${R}/x", {R: !Ref MyRole}]
        """)
    thing = by_id(result)["Thing"]
    assert thing.props == {"Environment": {"Variables": {"ENDPOINT": UNKNOWN, "ROLE": UNKNOWN}}}
    assert thing.refs == ("MyEndpoint", "MyRole")


def test_join_select_split_base64_and_unknown_functions(tmp_path):
    result = load(tmp_path, PARAMETERS + """
    Resources:
      Queue:
        Type: AWS::SQS::Queue
      Thing:
        Type: AWS::X::Y
        Properties:
          Join: !Join ["", [train-, !Ref GpuCount, "-", true]]
          JoinParam: !Join [",", !Ref Subnets]
          JoinPseudo: !Join ["-", [!Ref AWS::StackName, x]]
          JoinUnknown: !Join ["-", [!Ref NoDefault, x]]
          JoinResource: !Join ["", [!GetAtt Queue.Arn, "/x"]]
          Select: !Select [1, !Ref Subnets]
          SelectText: !Select ["0", [a, b]]
          SelectOut: !Select [5, [a, b]]
          Split: !Split [",", "a,b"]
          SelectSplit: !Select [1, !Split ["/", "x/y/z"]]
          Base64: !Base64 "#!/bin/bash"
          Base64Unknown: !Base64 {"Fn::Sub": "${NoDefault}"}
          Azs: !GetAZs ""
          Import: !ImportValue shared-vpc
          Cidr: !Cidr ["10.0.0.0/16", 4, 8]
    """)
    thing = by_id(result)["Thing"]
    assert thing.props == {
        "Join": "train-4-true",
        "JoinParam": "subnet-a,subnet-b,subnet-c",
        "JoinPseudo": "${AWS::StackName}-x",
        "JoinUnknown": UNKNOWN,
        "JoinResource": UNKNOWN,
        "Select": "subnet-b",
        "SelectText": "a",
        "SelectOut": UNKNOWN,
        "Split": ["a", "b"],
        "SelectSplit": "y",
        "Base64": "#!/bin/bash",
        "Base64Unknown": UNKNOWN,
        "Azs": UNKNOWN,
        "Import": UNKNOWN,
        "Cidr": UNKNOWN,
    }
    assert thing.refs == ("Queue",)


def test_find_in_map(tmp_path):
    props = props_of(tmp_path, """
        Mappings:
          Sizes:
            train: {instance: ml.p4d.24xlarge, gpus: 8}
        Parameters:
          Stage: {Type: String, Default: train}
        Resources:
          Thing:
            Type: AWS::X::Y
            Properties:
              Instance: !FindInMap [Sizes, !Ref Stage, instance]
              Gpus: !FindInMap [Sizes, train, gpus]
              ByRegion: !FindInMap [Sizes, !Ref AWS::Region, gpus]
              Missing: !FindInMap [Sizes, infer, gpus]
              Defaulted: !FindInMap [Sizes, infer, gpus, {DefaultValue: 1}]
        """)
    assert props == {
        "Instance": "ml.p4d.24xlarge", "Gpus": 8, "ByRegion": UNKNOWN, "Missing": UNKNOWN, "Defaulted": 1,
    }


def test_fn_if_keeps_agreeing_branches_and_records_refs_of_both(tmp_path):
    result = load(tmp_path, """
        Parameters:
          Size: {Type: String}
        Conditions:
          Big: !Equals [!Ref Size, large]
        Resources:
          SpotEnv:
            Type: AWS::Batch::ComputeEnvironment
          OnDemandEnv:
            Type: AWS::Batch::ComputeEnvironment
          Thing:
            Type: AWS::Batch::JobQueue
            Properties:
              Same: !If [Big, 1, 1]
              Differ: !If [Big, 8, 1]
              Env: !If [Big, !Ref SpotEnv, !Ref OnDemandEnv]
              Optional: !If [Big, !Ref AWS::NoValue, !Ref AWS::NoValue]
              Maybe: !If [Big, x, !Ref AWS::NoValue]
        """)
    thing = by_id(result)["Thing"]
    assert thing.props == {"Same": 1, "Differ": UNKNOWN, "Env": UNKNOWN, "Maybe": UNKNOWN}
    assert thing.refs == ("OnDemandEnv", "SpotEnv")


def test_fn_if_follows_conditions_the_parameter_defaults_decide(tmp_path):
    result = load(tmp_path, """
        Parameters:
          Compute: {Type: String, Default: FARGATE}
          Stage: {Type: String, Default: prod}
          Other: {Type: String}
        Conditions:
          OnFargate: !Equals [!Ref Compute, FARGATE]
          IsDev: !Equals [dev, !Ref Stage]
          FargateProd: !And [!Condition OnFargate, !Not [!Condition IsDev]]
          DevOrFargate: !Or [!Condition IsDev, !Condition OnFargate]
          Unknowable: !Equals [!Ref Other, x]
          Loop: !Not [!Condition Loop]
        Resources:
          Task:
            Type: AWS::ECS::TaskDefinition
            Properties:
              Compat: !If [OnFargate, [FARGATE], [EC2]]
              Size: !If [IsDev, small, large]
              Both: !If [FargateProd, yes-both, no]
              Either: !If [DevOrFargate, 1, 2]
              Unknown: !If [Unknowable, a, b]
              Cycle: !If [Loop, a, b]
              Missing: !If [NoSuchCondition, a, b]
        """)
    assert by_id(result)["Task"].props == {
        "Compat": ["FARGATE"], "Size": "large", "Both": "yes-both", "Either": 1,
        "Unknown": UNKNOWN, "Cycle": UNKNOWN, "Missing": UNKNOWN,
    }


def test_short_form_tags_become_long_forms():
    parsed = cfn_yaml.parse_template(textwrap.dedent("""
        A: !Ref X
        B: !GetAtt X.Y.Z
        C: !Condition IsProd
        D: !Equals [a, !Ref P]
        E: !Transform {Name: AWS::Include}
        F: !GetAZs ''
    """))
    assert parsed == {
        "A": {"Ref": "X"},
        "B": {"Fn::GetAtt": ["X", "Y.Z"]},
        "C": {"Condition": "IsProd"},
        "D": {"Fn::Equals": ["a", {"Ref": "P"}]},
        "E": {"Fn::Transform": {"Name": "AWS::Include"}},
        "F": {"Fn::GetAZs": ""},
    }


# --- SAM --------------------------------------------------------------------------------------------


def test_sam_globals_merge_into_functions(tmp_path):
    result = load(tmp_path, """
        Transform: AWS::Serverless-2016-10-31
        Globals:
          Function:
            Runtime: python3.12
            Timeout: 30
            MemorySize: 1024
            Layers: [arn:global]
            Environment:
              Variables: {STAGE: prod, MODEL: base}
            Tags: {team: ml}
        Resources:
          Infer:
            Type: AWS::Serverless::Function
            Properties:
              Timeout: 900
              MemorySize: !If [C, 10240, 2048]
              Layers: [arn:local]
              Environment:
                Variables: {MODEL: large}
              Tags: {cost: gpu}
          Plain:
            Type: AWS::Serverless::Function
          Bucket:
            Type: AWS::S3::Bucket
        """)
    resources = by_id(result)
    assert resources["Infer"].props == {
        "Runtime": "python3.12",
        "Timeout": 900,
        "MemorySize": UNKNOWN,  # an intrinsic is a value: the resource's wins
        "Layers": ["arn:global", "arn:local"],  # SAM concatenates lists
        "Environment": {"Variables": {"STAGE": "prod", "MODEL": "large"}},
        "Tags": {"team": "ml", "cost": "gpu"},
    }
    assert resources["Plain"].props["Timeout"] == 30
    assert resources["Bucket"].props == {}


def test_globals_are_ignored_without_the_sam_transform(tmp_path):
    result = load(tmp_path, """
        Globals:
          Function: {Timeout: 30}
        Resources:
          Fn:
            Type: AWS::Serverless::Function
        """)
    assert result.resources[0].props == {}


# --- JSON ---------------------------------------------------------------------------------------------


def test_json_template_has_line_numbers(tmp_path):
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {"Size": {"Type": "Number", "Default": 2}},
        "Resources": {
            "Role": {"Type": "AWS::IAM::Role"},
            "Job": {"Type": "AWS::Batch::JobDefinition", "Properties": {
                "Vcpus": {"Ref": "Size"}, "RoleArn": {"Fn::GetAtt": ["Role", "Arn"]}}},
        },
    }
    text = json.dumps(template, indent=2)
    result = load(tmp_path, text, "template.json")
    assert result.errors == []
    lines = text.splitlines()
    assert [(r.address, r.line) for r in result.resources] == [
        ("Role", lines.index('    "Role": {') + 1),
        ("Job", lines.index('    "Job": {') + 1),
    ]
    assert result.resources[1].props == {"Vcpus": 2, "RoleArn": Link("Role", "Arn")}


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML's pure-Python parser reads these escapes")
def test_json_that_yaml_cannot_read_falls_back_to_json(tmp_path):
    # libyaml rejects surrogate-pair escapes, which JSON encoders emit for emoji
    text = '{\n  "Resources": {\n    "Topic": {\n      "Type": "AWS::SNS::Topic",\n' \
           '      "Properties": {"DisplayName": "\\ud83d\\ude80"}\n    },\n' \
           '    "Queue": {"Type": "AWS::SQS::Queue"}\n  }\n}\n'
    result = load(tmp_path, text, "template.json")
    assert result.errors == []
    assert [(r.address, r.line) for r in result.resources] == [("Topic", 3), ("Queue", 7)]
    assert result.resources[0].props == {"DisplayName": "\U0001f680"}


def test_json_syntax_error_reports_json_line(tmp_path):
    text = '{\n  "Resources": {\n    "Topic": {"Type": "AWS::SNS::Topic"}\n    "Queue": {}\n  }\n}\n'
    error = only_error(load(tmp_path, text, "template.json"))
    assert error == LoadError("template.json", 4, "invalid JSON: Expecting ',' delimiter")


# --- errors ---------------------------------------------------------------------------------------------


def test_yaml_syntax_error_has_message_and_line(tmp_path):
    error = only_error(load(tmp_path, """
        Resources:
          Topic:
            Type: AWS::SNS::Topic
            Properties: DisplayName: x
        """))
    assert (error.file, error.line) == ("template.yaml", 4)
    assert error.message in (  # libyaml's wording, then PyYAML's pure-Python parser's
        "invalid YAML: mapping values are not allowed in this context",
        "invalid YAML: mapping values are not allowed here",
    )


def test_non_utf8_file(tmp_path):
    data = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic # caf\xe9\n".encode("latin-1")
    assert only_error(load(tmp_path, data)) == LoadError("template.yaml", 3, "not valid UTF-8 (byte 0xe9)")


def test_utf8_bom_is_accepted(tmp_path):
    result = load(tmp_path, b"\xef\xbb\xbfResources:\n  Topic:\n    Type: AWS::SNS::Topic\n")
    assert [(r.address, r.line) for r in result.resources] == [("Topic", 2)]


@pytest.mark.parametrize(("content", "line", "message"), [
    (b"\x89PNG\r\n\x1a\n\x00\x00", 0, "not a UTF-8 text file (contains NUL bytes)"),
    (b"", 0, "empty file"),
    (b"  \n\n", 0, "empty file"),
    (b"# only a comment\n", 0, "empty template"),
    (b"- a\n- b\n", 1, "template must be a mapping at the top level, not a list"),
    (b"AWSTemplateFormatVersion: '2010-09-09'\n", 1, "template has no Resources section"),
    (b"Description: x\nResources:\n  - Type: X\n", 2, "Resources must be a mapping, not a list"),
    (b"Resources:\n  A: {Type: X}\nResources: {}\n", 3, "duplicate key 'Resources'"),
    (b"Resources: !!python/object/apply:os.system [ls]\n", 1, "unsupported tag !!python/object/apply:os.system"),
    (b"Resources:\n  A: !Reference X\n", 2, "unsupported tag !Reference"),
    (b"Resources:\n  A: !!int twelve\n", 2, "invalid int value 'twelve'"),
    (b"Resources: {}\n---\nResources: {}\n", 2, "a template must be a single YAML document"),
    (b"Resources:\n  A: *nowhere\n", 2, "undefined alias *nowhere"),
    (b"Resources: &r\n  A: *r\n", 2, "recursive alias *r"),
    (b"Resources:\n  A:\n    Type: X\n    Properties:\n      Ctl: \"x\"\x07\n", 5,
     "invalid YAML: unacceptable character #x0007"),
])
def test_file_level_errors(tmp_path, content, line, message):
    assert only_error(load(tmp_path, content)) == LoadError("template.yaml", line, message)


def test_resource_level_errors_skip_only_that_resource(tmp_path):
    result = load(tmp_path, """
        Resources:
          NoType:
            Properties: {}
          NotAMapping: just a string
          BadProperties:
            Type: AWS::SNS::Topic
            Properties: [a]
          BadCondition:
            Type: AWS::SNS::Topic
            Condition: [a]
          Fn::ForEach::Topics:
            - Name
            - [A, B]
          Good:
            Type: AWS::SNS::Topic
        """)
    assert [r.address for r in result.resources] == ["Good"]
    assert result.errors == [
        LoadError("template.yaml", 2, "resource NoType: Type is missing or not a string"),
        LoadError("template.yaml", 4, "resource NotAMapping: must be a mapping, not a string"),
        LoadError("template.yaml", 5, "resource BadProperties: Properties must be a mapping"),
        LoadError("template.yaml", 8, "resource BadCondition: Condition must be a condition name"),
        LoadError("template.yaml", 11,
                  "resource Fn::ForEach::Topics must be a list of [identifier, collection, {output key: value}]"),
    ]


def test_file_too_large_is_not_parsed(tmp_path):
    path = tmp_path / "huge.yaml"
    with path.open("wb") as handle:
        handle.truncate(21 * 1024 * 1024)  # sparse: nothing is written or read
    result = load_template(path, tmp_path)
    assert only_error(result) == LoadError("huge.yaml", 0, "file too large (21.0 MB > 20 MB)")


def test_alias_bomb_errors_quickly(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    started = time.perf_counter()
    error = only_error(load(tmp_path, "\n".join(lines + ["Resources: {}"]) + "\n"))
    assert time.perf_counter() - started < 1.0
    assert error.message == "YAML expands to too many nodes (alias bomb?)"
    assert error.line == 7  # 10**7 nodes: the first alias past the limit


def test_deep_nesting_errors_without_recursion(tmp_path):
    error = only_error(load(tmp_path, "Resources: " + "[" * 1_000_000))
    assert error == LoadError("template.yaml", 1, "template nests deeper than 100 levels")
    error = only_error(load(tmp_path, '{"Resources": ' + '{"a": ' * 5000, "deep.json"))
    assert error == LoadError("deep.json", 1, "template nests deeper than 100 levels")


def test_nesting_just_under_the_limit_resolves(tmp_path):
    value = "x"
    for _ in range(45):  # each !If is a mapping around a list: two levels
        value = f"!If [C, {value}, y]"
    text = f"Resources:\n  Thing:\n    Type: AWS::X::Y\n    Properties:\n      V: {value}\n"
    result = load(tmp_path, text)
    assert result.errors == []
    assert result.resources[0].props == {"V": UNKNOWN}


def test_names_of_referenced_resources_are_read_inside_strings(tmp_path):
    result = load(tmp_path, """
        Parameters:
          Stage: {Type: String, Default: prod}
        Resources:
          Cluster:
            Type: AWS::ECS::Cluster
            Properties:
              ClusterName: !Sub "ml-${Stage}"
          Service:
            Type: AWS::ECS::Service
            Properties:
              ServiceName: scorer
          Endpoint:
            Type: AWS::SageMaker::Endpoint
            Properties:
              EndpointName: !GetAtt Endpoint.EndpointName
          Target:
            Type: AWS::ApplicationAutoScaling::ScalableTarget
            Properties:
              ServiceTarget: !Sub "service/${Cluster}/${Service.Name}"
              Joined: !Join ["/", [service, !Ref Cluster, !GetAtt Service.Name]]
              EndpointTarget: !Sub "endpoint/${Endpoint.EndpointName}/variant/AllTraffic"
              ServiceArn: !Sub "${Service}"
              Plain: !Ref Cluster
        """)
    target = by_id(result)["Target"]
    assert target.props == {
        "ServiceTarget": "service/ml-prod/scorer",
        "Joined": "service/ml-prod/scorer",
        "EndpointTarget": UNKNOWN,  # its name refers to itself: a cycle is unknown
        "ServiceArn": UNKNOWN,  # Ref of a service is its ARN, not its name
        "Plain": Link("Cluster"),  # outside a string the reference stays a link
    }
    assert target.refs == ("Cluster", "Endpoint", "Service")
