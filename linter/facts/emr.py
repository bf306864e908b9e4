"""Facts of EMR clusters."""
from __future__ import annotations

from mllint.facts.access import blocks, get
from mllint.facts.signals import Signals
from mllint.graph import UnitGraph
from mllint.records import Resource

TF_GROUPS = ("master_instance_group", "core_instance_group", "task_instance_group")
CFN_GROUPS = ("master_instance_group", "core_instance_group")


def cluster_facts(cluster: Resource, graph: UnitGraph, signals: Signals) -> dict:
    props = cluster.props
    instances = get(props, "instances") or {}
    for group in TF_GROUPS:
        _add_instance_type(get(props, group, "instance_type"), signals)
    for group in CFN_GROUPS:
        _add_instance_type(get(instances, group, "instance_type"), signals)
    for group in blocks(get(instances, "task_instance_groups")) or []:
        _add_instance_type(get(group, "instance_type"), signals)
    for step in blocks(get(props, "step") or get(props, "steps")) or []:
        args = get(step, "hadoop_jar_step", "args")
        if isinstance(args, list):
            signals.commands.append(" ".join(a for a in args if isinstance(a, str)))
    return {}


def _add_instance_type(value: object, signals: Signals) -> None:
    if isinstance(value, str):
        signals.instance_types.append(value)


KINDS = {
    "aws_emr_cluster": ("emr-cluster", cluster_facts),
    "AWS::EMR::Cluster": ("emr-cluster", cluster_facts),
}
