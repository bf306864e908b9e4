"""The model stage: per workload-bearing resource, a flat dict of normalised facts.

Facts are documented in `schemas/facts.schema.json`. A fact whose value cannot
be known is absent, never guessed, so a policy that requires it stays silent.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from mllint.facts.access import tags_of
from mllint.facts.batch import compute_environment_facts, job_definition_facts
from mllint.facts.ecs import task_definition_facts
from mllint.facts.emr import cluster_facts
from mllint.facts.functions import function_facts
from mllint.facts.signals import Signals
from mllint.facts.triggers import find_triggers
from mllint.graph import UnitGraph, label_of, own_name
from mllint.records import UNKNOWN, Resource
from mllint.roles import classify

Builder = Callable[[Resource, UnitGraph, Signals], dict]

KINDS: dict[str, tuple[str, Builder]] = {
    "aws_ecs_task_definition": ("ecs-task", task_definition_facts),
    "AWS::ECS::TaskDefinition": ("ecs-task", task_definition_facts),
    "aws_batch_job_definition": ("batch-job", job_definition_facts),
    "AWS::Batch::JobDefinition": ("batch-job", job_definition_facts),
    "aws_batch_compute_environment": ("batch-compute-environment", compute_environment_facts),
    "AWS::Batch::ComputeEnvironment": ("batch-compute-environment", compute_environment_facts),
    "aws_lambda_function": ("lambda-function", function_facts),
    "AWS::Lambda::Function": ("lambda-function", function_facts),
    "AWS::Serverless::Function": ("lambda-function", function_facts),
    "aws_emr_cluster": ("emr-cluster", cluster_facts),
    "AWS::EMR::Cluster": ("emr-cluster", cluster_facts),
}
REALTIME_TRIGGERS = ("api-gateway", "load-balancer", "function-url")


@dataclass
class Subject:
    """A workload-bearing resource and its facts."""

    resource: Resource
    facts: dict[str, Any]


def model_unit(resources: list[Resource]) -> list[Subject]:
    """Facts for every workload-bearing resource of one unit."""
    graph = UnitGraph(resources)
    triggers = find_triggers(graph)
    subjects = []
    for resource in graph.resources:
        entry = KINDS.get(resource.type)
        if entry is None:
            continue
        kind, build = entry
        signals = Signals(resource_type=resource.type, tags=tags_of(resource.props))
        signals.names.append(label_of(resource))
        name = own_name(resource)
        if name:
            signals.names.append(name)
        signals.triggers = triggers.get(resource.address, [])
        facts: dict[str, Any] = {"kind": kind}
        facts.update(build(resource, graph, signals))
        facts["realtime_fronts"] = [t.describe() for t in signals.triggers if t.kind in REALTIME_TRIGGERS]
        facts["schedules"] = [t.describe() for t in signals.triggers if t.kind == "schedule"]
        facts.update(classify(signals))
        subjects.append(Subject(resource, _known(facts)))
    return subjects


def _known(facts: dict[str, Any]) -> dict[str, Any]:
    """Drop facts that are unknown (or not applicable) so policies never read them."""
    return {key: value for key, value in facts.items() if value is not UNKNOWN and value is not None}
