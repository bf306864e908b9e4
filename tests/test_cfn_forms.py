"""CloudFormation input forms: conditions and the notes they leave on findings, Properties
under Fn::If, Fn::ForEach, Fn::Length / Fn::ToJsonString."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from conftest import by_address as by_id, load_cfn as load, run_scan
from mllint.records import UNKNOWN, Link, LoadError
from mllint.report import json_report


def loaded(tmp_path: Path, text: str) -> dict:
    result = load(tmp_path, text)
    assert result.errors == []
    return by_id(result)


# --- conditions: notes ------------------------------------------------------------------------

CONDITIONS = """
    Parameters:
      UseGpu: {Type: String, Default: "false"}
      Stage: {Type: String, Default: prod}
      Free: {Type: String}
    Conditions:
      Gpu: !Equals [!Ref UseGpu, "true"]
      Prod: !Equals [!Ref Stage, prod]
      Dev: !Not [!Condition Prod]
      NotGpu: !Not [!Condition Gpu]
      Unknown: !Equals [!Ref Free, x]
"""


def test_fn_if_that_picks_between_differing_values_is_noted(tmp_path):
    resources = loaded(tmp_path, CONDITIONS + """
    Resources:
      Task:
        Type: AWS::ECS::TaskDefinition
        Properties:
          Compat: !If [Prod, [FARGATE], [EC2]]
          Size: !If [Gpu, large, small]
          Same: !If [Dev, 1, 1]
          Undecided: !If [Unknown, a, b]
          Agreeing: !If [Unknown, x, x]
    """)
    task = resources["Task"]
    assert task.props == {"Compat": ["FARGATE"], "Size": "small", "Same": 1, "Undecided": UNKNOWN, "Agreeing": "x"}
    assert task.notes == (
        "values chosen by condition Prod (true with parameter defaults)",
        "values chosen by condition Gpu (false with parameter defaults)",
    )


def test_only_conditions_of_the_picked_branch_are_noted(tmp_path):
    resources = loaded(tmp_path, CONDITIONS + """
    Resources:
      Picked:
        Type: AWS::X::Y
        Properties:
          V: !If [Prod, !If [Gpu, a, b], !If [Dev, c, d]]
      Removed:
        Type: AWS::X::Y
        Properties:
          RetryStrategy: !If [Gpu, {Attempts: 3}, !Ref AWS::NoValue]
          Items: [a, !If [Prod, !Ref AWS::NoValue, b]]
      UnknownAround:
        Type: AWS::X::Y
        Properties:
          V: !If [Unknown, !If [Prod, a, b], c]
    """)
    assert resources["Picked"].props == {"V": "b"}
    assert resources["Picked"].notes == (
        "values chosen by condition Gpu (false with parameter defaults)",
        "values chosen by condition Prod (true with parameter defaults)",
    )
    assert resources["Removed"].props == {"Items": ["a"]}
    assert resources["Removed"].notes == (
        "values chosen by condition Gpu (false with parameter defaults)",
        "values chosen by condition Prod (true with parameter defaults)",
    )
    assert resources["UnknownAround"].props == {"V": UNKNOWN}
    assert resources["UnknownAround"].notes == ()


def test_a_resource_condition_is_always_noted_and_assumed_true_inside_it(tmp_path):
    resources = loaded(tmp_path, CONDITIONS + """
    Resources:
      GpuTask:
        Type: AWS::ECS::TaskDefinition
        Condition: Gpu
        Properties:
          Gpus: !If [Gpu, 1, 0]
          Spare: !If [NotGpu, 4, 2]
      ProdTask:
        Type: AWS::ECS::TaskDefinition
        Condition: Prod
      MaybeTask:
        Type: AWS::ECS::TaskDefinition
        Condition: Unknown
      UndefinedTask:
        Type: AWS::ECS::TaskDefinition
        Condition: NoSuchCondition
    """)
    gpu = resources["GpuTask"]
    assert gpu.condition == "Gpu"
    assert gpu.props == {"Gpus": 1, "Spare": 2}  # as deployed: only when Gpu is true
    assert gpu.notes == (
        "only when condition Gpu is true (false with parameter defaults)",
        "values chosen by condition NotGpu (false with parameter defaults)",
    )
    assert resources["ProdTask"].notes == ("only when condition Prod is true (evaluated with parameter defaults)",)
    assert resources["MaybeTask"].notes == ("only when condition Unknown is true (parameter defaults do not decide it)",)
    assert resources["UndefinedTask"].notes == (
        "only when condition NoSuchCondition is true (parameter defaults do not decide it)",
    )


def test_notes_reach_the_json_report_evidence(tmp_path):
    (tmp_path / "stack.yaml").write_text(textwrap.dedent("""
        Parameters:
          LaunchOn: {Type: String, Default: FARGATE}
          Diarize: {Type: String, Default: "false"}
        Conditions:
          OnEc2: !Equals [!Ref LaunchOn, EC2]
          Diarization: !Equals [!Ref Diarize, "true"]
        Resources:
          Transcriber:
            Type: AWS::ECS::TaskDefinition
            Properties:
              RequiresCompatibilities: !If [OnEc2, [EC2], [FARGATE]]
              ContainerDefinitions:
                - Name: whisper
                  Image: whisper:3
                  ResourceRequirements: [{Type: GPU, Value: "1"}]
          Diarizer:
            Type: AWS::ECS::TaskDefinition
            Condition: Diarization
            Properties:
              RequiresCompatibilities: [FARGATE]
              ContainerDefinitions:
                - Name: pyannote
                  Image: pyannote:3
                  ResourceRequirements: [{Type: GPU, Value: "1"}]
        """).lstrip())
    report = json.loads(json_report.render(run_scan(tmp_path, select=["ML101"])))
    evidence = {finding["address"]: finding["evidence"] for finding in report["findings"]}
    assert evidence == {
        "Transcriber": ["RequiresCompatibilities includes FARGATE",
                        "values chosen by condition OnEc2 (false with parameter defaults)"],
        "Diarizer": ["RequiresCompatibilities includes FARGATE",
                     "only when condition Diarization is true (false with parameter defaults)"],
    }


# --- Properties under Fn::If ------------------------------------------------------------------


def test_properties_under_fn_if(tmp_path):
    result = load(tmp_path, CONDITIONS + """
    Resources:
      Chosen:
        Type: AWS::Batch::JobDefinition
        Properties: !If [Prod, {Type: container}, {Type: multinode}]
      Removed:
        Type: AWS::Batch::JobDefinition
        Properties: !If [Gpu, {Type: container}, !Ref AWS::NoValue]
      Unknown:
        Type: AWS::Batch::JobDefinition
        Properties: !If [Unknown, {Type: container, RetryStrategy: {Attempts: 3}}, {Type: container}]
      Agreeing:
        Type: AWS::Batch::JobDefinition
        Properties: !If [Unknown, {Type: container}, {Type: container}]
      NotAMapping:
        Type: AWS::Batch::JobDefinition
        Properties: !If [Prod, [a], [b]]
    """)
    resources = by_id(result)
    assert resources["Chosen"].props == {"Type": "container"}
    assert resources["Chosen"].notes == ("values chosen by condition Prod (true with parameter defaults)",)
    assert resources["Removed"].props == {}
    assert resources["Removed"].notes == ("values chosen by condition Gpu (false with parameter defaults)",)
    assert resources["Unknown"].props is UNKNOWN
    assert resources["Unknown"].notes == ()
    assert resources["Agreeing"].props == {"Type": "container"}
    assert result.errors == [LoadError("template.yaml", 25, "resource NotAMapping: Properties must be a mapping")]


def test_unknown_properties_give_no_default_based_findings(tmp_path):
    """An unknown Properties block is no Properties block: a job definition left without
    RetryStrategy gets one attempt (ML302), one whose properties are unknown gets nothing."""
    (tmp_path / "jobs.yaml").write_text(textwrap.dedent("""
        Parameters:
          Flavor: {Type: String}
        Conditions:
          Large: !Equals [!Ref Flavor, large]
        Resources:
          UnknownJob:
            Type: AWS::Batch::JobDefinition
            Properties: !If
              - Large
              - {Type: container, ContainerProperties: {Image: pytorch-training:2, ResourceRequirements: [{Type: GPU, Value: "4"}]}}
              - {Type: container, ContainerProperties: {Image: pytorch-training:2, ResourceRequirements: [{Type: GPU, Value: "1"}]}}
          KnownJob:
            Type: AWS::Batch::JobDefinition
            Properties: {Type: container, ContainerProperties: {Image: pytorch-training:2, ResourceRequirements: [{Type: GPU, Value: "1"}]}}
        """).lstrip())
    report = run_scan(tmp_path)
    assert report.errors == []
    assert {address for _, address, _ in report.modelled} >= {"UnknownJob", "KnownJob"}
    assert sorted((f.policy_id, f.address) for f in report.findings) == [("ML302", "KnownJob")]


# --- Fn::ForEach ------------------------------------------------------------------------------


def test_for_each_expands_keys_refs_and_subs_with_the_loop_line(tmp_path):
    result = load(tmp_path, """
        Transform: AWS::LanguageExtensions
        Parameters:
          Models: {Type: CommaDelimitedList, Default: "ltr-v2, two.tower"}
        Resources:
          Role:
            Type: AWS::IAM::Role
          Fn::ForEach::Jobs:
            - Model
            - !Ref Models
            - Train&{Model}:
                Type: AWS::Batch::JobDefinition
                Properties:
                  JobDefinitionName: !Sub "train-${Model}"
                  Command: [train.py, !Ref Model, "${Model}"]
                  Role: !GetAtt Role.Arn
                  Tags: {"model-${Model}": yes}
          Queue:
            Type: AWS::Batch::JobQueue
            Properties:
              Jobs: [!Ref Trainltrv2, !Ref Traintwotower]
        """)
    assert result.errors == []
    assert [(r.address, r.line) for r in result.resources] == [
        ("Role", 5), ("Trainltrv2", 7), ("Traintwotower", 7), ("Queue", 17),
    ]
    resources = by_id(result)
    assert resources["Trainltrv2"].props == {
        "JobDefinitionName": "train-ltr-v2",
        "Command": ["train.py", "ltr-v2", "${Model}"],  # plain strings are not substituted
        "Role": Link("Role", "Arn"),
        "Tags": {"model-ltr-v2": True},
    }
    assert resources["Trainltrv2"].refs == ("Role",)
    assert resources["Queue"].props == {"Jobs": [Link("Trainltrv2"), Link("Traintwotower")]}
    assert resources["Queue"].refs == ("Trainltrv2", "Traintwotower")


def test_nested_loops_and_collections_from_mappings(tmp_path):
    resources = loaded(tmp_path, """
        Mappings:
          Splits:
            eval: {names: [Holdout, Shadow]}
        Resources:
          Fn::ForEach::Models:
            - Model
            - [a, b]
            - Fn::ForEach::Splits:
                - Split
                - !FindInMap [Splits, eval, names]
                - Eval${Model}${Split}:
                    Type: AWS::Batch::JobDefinition
                    Properties:
                      Args: [!Ref Model, !Ref Split, !Sub "${Model}/${Split}/${AWS::Region}"]
              Train${Model}:
                Type: AWS::Batch::JobDefinition
        """)
    assert list(resources) == ["EvalaHoldout", "EvalaShadow", "Traina", "EvalbHoldout", "EvalbShadow", "Trainb"]
    assert resources["EvalbShadow"].props == {"Args": ["b", "Shadow", "b/Shadow/${AWS::Region}"]}
    assert {resource.line for resource in resources.values()} == {5}


def test_for_each_with_an_unknown_collection_generates_nothing_quietly(tmp_path):
    resources = loaded(tmp_path, """
        Parameters:
          Models: {Type: CommaDelimitedList}
        Resources:
          Fn::ForEach::Jobs:
            - Model
            - !Ref Models
            - Train${Model}: {Type: AWS::Batch::JobDefinition}
          Fn::ForEach::Regional:
            - Zone
            - !GetAZs ""
            - Subnet${Zone}: {Type: AWS::EC2::Subnet}
          Kept:
            Type: AWS::Batch::JobQueue
            Properties:
              Job: !Ref TrainA
        """)
    assert list(resources) == ["Kept"]
    assert resources["Kept"].props == {"Job": UNKNOWN}


def test_for_each_problems_are_load_errors_at_the_loop(tmp_path):
    result = load(tmp_path, """
        Resources:
          Existing:
            Type: AWS::SNS::Topic
          Fn::ForEach::Short:
            - Name
            - [a, b]
          Fn::ForEach::Same:
            - Name
            - [a, b]
            - Topic: {Type: AWS::SNS::Topic}
          Fn::ForEach::Clash:
            - Name
            - [Existing, Other]
            - ${Name}: {Type: AWS::SNS::Topic}
          Fn::ForEach::Bad:
            - Name
            - [a]
            - Bad${Name}: just a string
          Fn::ForEach::BadInner:
            - Name
            - [a]
            - Fn::ForEach::Inner: [X, [b]]
          Fn::ForEach::Good:
            - Name
            - [a]
            - Good${Name}: {Type: AWS::SNS::Topic}
        """)
    assert [r.address for r in result.resources] == ["Existing", "Gooda"]
    assert result.errors == [
        LoadError("template.yaml", 4, "resource Fn::ForEach::Short must be a list of "
                                      "[identifier, collection, {output key: value}]"),
        LoadError("template.yaml", 7, "resource Fn::ForEach::Same generates Topic more than once"),
        LoadError("template.yaml", 11, "resource Fn::ForEach::Clash generates Existing, which is already defined"),
        LoadError("template.yaml", 15, "resource Bada: must be a mapping, not a string"),
        LoadError("template.yaml", 19, "resource Fn::ForEach::Inner must be a list of "
                                       "[identifier, collection, {output key: value}]"),
    ]


def test_for_each_cannot_blow_up(tmp_path):
    items = ", ".join(f"i{n}" for n in range(80))
    result = load(tmp_path, f"""
        Resources:
          Fn::ForEach::Outer:
            - A
            - [{items}]
            - Fn::ForEach::Inner:
                - B
                - [{items}]
                - R${{A}}${{B}}: {{Type: AWS::SNS::Topic}}
        """)
    assert result.resources == []
    assert result.errors == [LoadError("template.yaml", 2, "resource Fn::ForEach::Outer generates more than 5000 entries")]


def test_for_each_inside_properties(tmp_path):
    result = load(tmp_path, """
        Parameters:
          Names: {Type: CommaDelimitedList}
        Resources:
          Known:
            Type: AWS::X::Y
            Properties:
              Fn::ForEach::Env:
                - Name
                - [A, B]
                - VAR_${Name}: !Sub "value-${Name}"
              Other: 1
          Unknown:
            Type: AWS::X::Y
            Properties:
              Environment:
                Fn::ForEach::Env:
                  - Name
                  - !Ref Names
                  - VAR_${Name}: x
                Fixed: y
          Malformed:
            Type: AWS::X::Y
            Properties:
              Fn::ForEach::Env: [Name]
        """)
    resources = by_id(result)
    assert resources["Known"].props == {"VAR_A": "value-A", "VAR_B": "value-B", "Other": 1}
    assert resources["Unknown"].props == {"Environment": UNKNOWN}  # keys left out would read as unset
    assert result.errors == [LoadError("template.yaml", 21, "resource Malformed: Fn::ForEach::Env must be a list "
                                                            "of [identifier, collection, {output key: value}]")]


# --- Fn::Length, Fn::ToJsonString, lists from parameters ---------------------------------------


def test_length_to_json_string_and_list_parameters(tmp_path):
    resources = loaded(tmp_path, """
        Parameters:
          Types: {Type: CommaDelimitedList, Default: "g5.xlarge, g5.2xlarge"}
          Sizes: {Type: "List<Number>", Default: "8,16"}
          Free: {Type: String}
        Resources:
          Thing:
            Type: AWS::X::Y
            Properties:
              Count: !Length [a, !Ref AWS::NoValue, b]
              CountParameter: {"Fn::Length": !Ref Types}
              CountUnknown: !Length [a, !Ref Free]
              Json: !ToJsonString
                types: !Ref Types
                size: !Select [1, !Ref Sizes]
              JsonUnknown: !ToJsonString
                value: !Ref Free
              Joined: !Join [",", !Ref Types]
              First: !Select [0, !Ref Types]
              Types: !Ref Types
        """)
    assert resources["Thing"].props == {
        "Count": 2, "CountParameter": 2, "CountUnknown": UNKNOWN,
        "Json": '{"types":["g5.xlarge","g5.2xlarge"],"size":"16"}', "JsonUnknown": UNKNOWN,
        "Joined": "g5.xlarge,g5.2xlarge", "First": "g5.xlarge", "Types": ["g5.xlarge", "g5.2xlarge"],
    }


@pytest.mark.parametrize("collection", ["[a]", "!Ref List"])
def test_conditions_generated_by_a_loop_are_evaluated(tmp_path, collection):
    """Conditions may be generated by Fn::ForEach too (here `Isa`)."""
    resources = loaded(tmp_path, f"""
        Parameters:
          List: {{Type: CommaDelimitedList, Default: a}}
          Pick: {{Type: String, Default: a}}
        Conditions:
          Fn::ForEach::Is:
            - Name
            - [a, b]
            - Is${{Name}}: !Equals [!Ref Pick, !Ref Name]
        Resources:
          Fn::ForEach::X:
            - Name
            - {collection}
            - T${{Name}}: {{Type: AWS::SNS::Topic}}
          Thing:
            Type: AWS::X::Y
            Properties:
              V: !If [Isa, yes, no]
        """)
    assert resources["Thing"].props == {"V": True}
    assert "Ta" in resources


def test_suppressions_inside_a_loop_cover_the_resources_it_generates(tmp_path):
    (tmp_path / "jobs.yaml").write_text(textwrap.dedent("""
        Resources:
          Fn::ForEach::Train:
            - Model
            - [a, b]
            - Train${Model}:
                # mllint: ignore[ML302] -- retried by the orchestrator
                Type: AWS::Batch::JobDefinition
                Properties: {Type: container, ContainerProperties: {Image: pytorch-training:2}}
          Fn::ForEach::Eval:
            - Model
            - [a]
            - Eval${Model}:
                Type: AWS::Batch::JobDefinition
                Metadata:
                  mllint:
                    ignore: [{id: ML302, reason: evaluation is cheap to rerun}]
                Properties: {Type: container, ContainerProperties: {Image: pytorch-training:2}}
          Fn::ForEach::Score:
            - Model
            - [a]
            - Score${Model}:
                Type: AWS::Batch::JobDefinition
                Properties: {Type: container, ContainerProperties: {Image: pytorch-training:2}}
        """).lstrip())
    report = run_scan(tmp_path, select=["ML302"])
    assert report.errors == []
    assert sorted((f.address, f.line, f.suppressed) for f in report.findings) == [
        ("Evala", 9, True), ("Scorea", 18, False), ("Traina", 2, True), ("Trainb", 2, True),
    ]
    assert {f.suppression.reason for f in report.findings if f.suppressed} == {
        "retried by the orchestrator", "evaluation is cheap to rerun",
    }


def test_in_a_nested_stack_notes_name_the_parameters_the_parent_passes(tmp_path):
    from mllint.loaders.cfn_nested import load_stack

    (tmp_path / "child.yaml").write_text(textwrap.dedent("""
        Parameters:
          UseGpu: {Type: String, Default: "false"}
        Conditions:
          Gpu: !Equals [!Ref UseGpu, "true"]
        Resources:
          Task:
            Type: AWS::ECS::TaskDefinition
            Condition: Gpu
        """).lstrip())
    (tmp_path / "parent.yaml").write_text(textwrap.dedent("""
        Resources:
          Training:
            Type: AWS::CloudFormation::Stack
            Properties:
              TemplateURL: ./child.yaml
              Parameters: {UseGpu: "true"}
        """).lstrip())
    result = load_stack(tmp_path / "parent.yaml", tmp_path)
    assert result.errors == []
    assert by_id(result)["Training/Task"].notes == (
        "nested stack Training in parent.yaml",
        "only when condition Gpu is true (evaluated with the values its parent stack passes)",
    )
