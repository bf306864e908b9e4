"""The resources of one unit as a graph: lookup by address, type and name, and reverse edges."""
from __future__ import annotations

import re
from collections import defaultdict
from typing import Any, Iterable

from mllint.facts.access import get
from mllint.loaders.cdktf import construct_label
from mllint.records import UNKNOWN, Link, Resource

# The property that carries a resource's own name, where it is not `name` / `Name`.
NAME_KEYS = {
    "aws_lambda_function": ("function_name",),
    "aws_ecs_task_definition": ("family",),
    "aws_batch_compute_environment": ("name", "compute_environment_name"),
    "AWS::Lambda::Function": ("FunctionName",),
    "AWS::Serverless::Function": ("FunctionName",),
    "AWS::ECS::TaskDefinition": ("Family",),
    "AWS::ECS::Cluster": ("ClusterName",),
    "AWS::ECS::Service": ("ServiceName",),
    "AWS::Batch::JobDefinition": ("JobDefinitionName",),
    "AWS::Batch::JobQueue": ("JobQueueName",),
    "AWS::Batch::ComputeEnvironment": ("ComputeEnvironmentName",),
    "AWS::SageMaker::Endpoint": ("EndpointName",),
    "AWS::SageMaker::EndpointConfig": ("EndpointConfigName",),
    "AWS::SageMaker::Model": ("ModelName",),
    "AWS::StepFunctions::StateMachine": ("StateMachineName",),
    "AWS::AutoScaling::AutoScalingGroup": ("AutoScalingGroupName",),
    "AWS::AutoScaling::LaunchConfiguration": ("LaunchConfigurationName",),
    "AWS::EC2::LaunchTemplate": ("LaunchTemplateName",),
    "AWS::ElasticBeanstalk::Environment": ("EnvironmentName",),
    "AWS::KinesisFirehose::DeliveryStream": ("DeliveryStreamName",),
    "AWS::SageMaker::TrainingJob": ("TrainingJobName",),
    "AWS::SageMaker::Pipeline": ("PipelineName",),
    "AWS::DataPipeline::Pipeline": ("Name",),
    "aws_sagemaker_training_job": ("training_job_name",),
    "aws_kinesis_firehose_delivery_stream": ("name",),
}
_REVISION = re.compile(r":\d+$")
_INSTANCE_KEY = re.compile(r'\[(?:\d+|"(?:[^"\\]|\\.)*")\]$')  # `[0]`, `["a.b"]`


def names_in(text: str) -> set[str]:
    """The names a name, `name:revision` or ARN string may stand for."""
    stripped = _REVISION.sub("", text)
    return {text, stripped, re.split(r"[:/]", stripped)[-1]}


def own_name(resource: Resource) -> str | None:
    """The name the resource gives itself (TF `name`, CFN `FunctionName`, ...), if literal."""
    for key in NAME_KEYS.get(resource.type, ("name",)):
        value = get(resource.props, key)
        if isinstance(value, str):
            return value
    return None


def label_of(resource: Resource) -> str:
    """The name a person gave the block: Terraform label (without a CDK for Terraform
    hash) or CloudFormation logical id (in a nested stack, the part after the last `/`)."""
    if resource.framework == "terraform":
        label = _INSTANCE_KEY.sub("", resource.address).rsplit(".", 1)[-1]
        return construct_label(label, resource.file)
    return resource.address.rsplit("/", 1)[-1]


class UnitGraph:
    """Index over one unit's resources; links never cross units."""

    def __init__(self, resources: Iterable[Resource]):
        self.resources = list(resources)
        self.by_address = {r.address: r for r in self.resources}
        self._by_type: dict[str, list[Resource]] = defaultdict(list)
        self._referrers: dict[str, list[Resource]] = defaultdict(list)
        for resource in self.resources:
            self._by_type[resource.type].append(resource)
            for target in resource.refs:
                self._referrers[target].append(resource)

    def of_type(self, *types: str) -> list[Resource]:
        return [r for t in types for r in self._by_type.get(t, ())]

    def referrers(self, resource: Resource, *types: str) -> list[Resource]:
        """Resources of `types` that reference `resource`."""
        return [r for r in self._referrers.get(resource.address, ()) if not types or r.type in types]

    def resolve(self, value: Any, *types: str) -> Resource | None | Any:
        """The resource a Link, name or ARN string points at.

        Returns the Resource, None when the value names nothing in this unit,
        or UNKNOWN when the value itself is unknown.
        """
        if value is UNKNOWN:
            return UNKNOWN
        if isinstance(value, Link):
            target = self.by_address.get(value.address)
            return target if target is not None and (not types or target.type in types) else None
        if isinstance(value, str):
            wanted = names_in(value)
            candidates = self.of_type(*types) if types else self.resources
            named = [candidate for candidate in candidates if own_name(candidate) in wanted]
            if len(named) == 1 or (types and named):
                return named[0]
        return None

    def target_of(self, resource: Resource, key: str, *types: str) -> Resource | None | Any:
        """The resource of `types` that `resource`'s property `key` names (see `resolve`).

        When the value is unknown (a name with a random suffix, a conditional between
        resources), the one resource of `types` that `resource` references anywhere
        (depends_on included); UNKNOWN when it references none or several.
        """
        target = self.resolve(get(resource.props, key), *types)
        if target is not UNKNOWN:
            return target
        referenced = [self.by_address[a] for a in resource.refs if a in self.by_address and self.by_address[a].type in types]
        return referenced[0] if len(referenced) == 1 else UNKNOWN

    def points_at(self, value: Any, resource: Resource) -> bool | Any:
        """True if `value` refers to `resource`, False if it refers elsewhere, UNKNOWN if unknowable."""
        target = self.resolve(value, resource.type)
        if target is UNKNOWN:
            return UNKNOWN
        if target is resource:
            return True
        if isinstance(value, (Link, str)):
            return False
        return UNKNOWN
