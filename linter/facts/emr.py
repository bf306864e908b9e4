"""Facts of EMR clusters: what they run, whether they end when idle, and whether any capacity is Spot."""
from __future__ import annotations

import re
from typing import Any

from mllint.facts.access import as_number, blocks, get, spelled
from mllint.facts.signals import Signals
from mllint.graph import UnitGraph
from mllint.records import UNKNOWN, Resource

TF_GROUPS = ("master_instance_group", "core_instance_group", "task_instance_group")
CFN_GROUPS = ("master_instance_group", "core_instance_group")
# Applications that serve clients outside YARN, so a cluster running them is long-lived by design
# (EMR counts a cluster idle when it has no YARN application, pending step or notebook connection).
SERVICE_APPLICATIONS = ("hbase", "presto", "prestosql", "trino")
_RELEASE = re.compile(r"^emr-(?P<major>\d+)\.(?P<minor>\d+)\.\d+$")
# Task capacity declared as its own resource, with the property naming its cluster.
TASK_CAPACITY = {
    "aws_emr_instance_group": "cluster_id",
    "aws_emr_instance_fleet": "cluster_id",
    "AWS::EMR::InstanceGroupConfig": "job_flow_id",
    "AWS::EMR::InstanceFleetConfig": "cluster_id",
}


def cluster_facts(cluster: Resource, graph: UnitGraph, signals: Signals) -> dict:
    """Signals (instance types, step commands), whether it ends when idle, and its Spot capacity."""
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
    keep_alive, keep_alive_why = _keep_alive(cluster)
    auto_termination = _auto_termination(cluster)
    has_spot, spot_evidence = spot_capacity(cluster, graph)
    return {
        "keep_alive": keep_alive,
        "auto_termination": auto_termination,
        "service_applications": _service_applications(props),
        "termination_evidence": [keep_alive_why, f"no {spelled(cluster, 'auto_termination_policy')}", *_release_too_old(cluster)]
        if keep_alive is True and auto_termination is False
        else [],
        "has_spot": has_spot,
        "spot_evidence": spot_evidence if has_spot is False else [],
    }


def _add_instance_type(value: object, signals: Signals) -> None:
    if isinstance(value, str):
        signals.instance_types.append(value)


def _keep_alive(cluster: Resource) -> tuple[Any, str]:
    """Whether the cluster keeps running when no steps are left, and why.

    Terraform's provider defaults `keep_job_flow_alive_when_no_steps` to on. The
    CloudFormation documentation has given both defaults for
    `KeepJobFlowAliveWhenNoSteps`, so an unset value there is unknown.
    """
    if cluster.framework == "terraform":
        value, setting = get(cluster.props, "keep_job_flow_alive_when_no_steps"), "keep_job_flow_alive_when_no_steps"
        if value is None:
            return True, f"{setting} is not set (the Terraform provider's default is true)"
    else:
        value, setting = get(cluster.props, "instances", "keep_job_flow_alive_when_no_steps"), "Instances.KeepJobFlowAliveWhenNoSteps"
    flag = _boolean(value)
    return flag, f"{setting} is {str(flag).lower()}"


def _release_too_old(cluster: Resource) -> list[str]:
    """A note when the release label is known to predate auto-termination policies
    (EMR 5.30.0 and 6.1.0 and later); nothing when it is recent or unknown."""
    label = get(cluster.props, "release_label")
    match = _RELEASE.match(label) if isinstance(label, str) else None
    if match is None:
        return []
    major, minor = int(match["major"]), int(match["minor"])
    if major < 5 or (major == 5 and minor < 30) or (major == 6 and minor == 0):
        return [f"{label} predates auto-termination policies (EMR 5.30.0 and 6.1.0 and later): make it transient or upgrade"]
    return []


def _auto_termination(cluster: Resource) -> Any:
    """An auto-termination (idle timeout) policy is declared."""
    policy = blocks(get(cluster.props, "auto_termination_policy"))
    return UNKNOWN if policy is UNKNOWN else bool(policy)


def _service_applications(props: Any) -> Any:
    """The cluster's applications that serve clients outside YARN (HBase, Presto, Trino)."""
    applications = get(props, "applications")
    if applications is UNKNOWN or (applications and not isinstance(applications, list)):
        return UNKNOWN
    names = [get(app, "name") if isinstance(app, dict) else app for app in applications or []]
    if any(not isinstance(name, str) for name in names):
        return UNKNOWN
    return [name for name in names if name.lower() in SERVICE_APPLICATIONS]


def spot_capacity(cluster: Resource, graph: UnitGraph) -> tuple[Any, list[str]]:
    """Whether any core or task instance group or fleet of the cluster buys Spot; if none, the On-Demand ones."""
    own, tasks = _own_groups(cluster), _task_resources(cluster, graph)
    groups = own + tasks
    if any(spot is True for _, spot in groups):
        return True, []
    if any(spot is UNKNOWN for _, spot in groups):
        return UNKNOWN, []
    evidence = [f"{label} is On-Demand" for label, _ in groups]
    if not tasks and not any(".Task" in label for label, _ in own):
        evidence.append("no task instance group or fleet")
    return False, evidence


def _own_groups(cluster: Resource) -> list[tuple[str, Any]]:
    """(label, buys Spot) for the core and task groups and fleets declared in the cluster resource.

    The primary node is left out: it should stay On-Demand, since losing it ends the cluster.
    """
    if cluster.framework == "terraform":
        entries = [(name, get(cluster.props, name)) for name in ("core_instance_group", "core_instance_fleet")]
    else:
        instances = get(cluster.props, "instances")
        entries = [(f"Instances.{name}", get(instances, name)) for name in ("CoreInstanceGroup", "CoreInstanceFleet")]
        for key in ("TaskInstanceGroups", "TaskInstanceFleets"):
            listed = blocks(get(instances, key))
            entries += [(f"Instances.{key}", UNKNOWN)] if listed is UNKNOWN else [(f"Instances.{key}[{i}]", e) for i, e in enumerate(listed)]
    return [(label, _buys_spot(entry, cluster.framework, "fleet" in label.lower())) for label, entry in entries if entry or entry is UNKNOWN]


def _task_resources(cluster: Resource, graph: UnitGraph) -> list[tuple[str, Any]]:
    """(address, buys Spot) for instance group and fleet resources that are, or may be, the cluster's."""
    found = []
    for resource in graph.of_type(*TASK_CAPACITY):
        belongs = graph.points_at(get(resource.props, TASK_CAPACITY[resource.type]), cluster)
        spot = _buys_spot(resource.props, resource.framework, "fleet" in resource.type.lower())
        if belongs is True:
            found.append((resource.address, spot))
        elif belongs is UNKNOWN and spot is not False:
            found.append((resource.address, UNKNOWN))  # Spot capacity that may belong to this cluster
    return found


def _buys_spot(entry: Any, framework: str, fleet: bool) -> Any:
    """A fleet buys Spot when its target Spot capacity is above 0 (default 0); an instance group
    when Terraform sets `bid_price` or CloudFormation `Market: SPOT` (default ON_DEMAND)."""
    if entry is UNKNOWN:
        return UNKNOWN
    if fleet:
        target = as_number(get(entry, "target_spot_capacity"))
        return target if target is UNKNOWN else (target or 0) > 0
    if framework == "terraform":
        bid = get(entry, "bid_price")
        return bid if bid is UNKNOWN else isinstance(bid, str) and bid.strip() != ""
    market = get(entry, "market")
    return market if market is UNKNOWN else isinstance(market, str) and market.upper() == "SPOT"


def _boolean(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return UNKNOWN


KINDS = {
    "aws_emr_cluster": ("emr-cluster", cluster_facts),
    "AWS::EMR::Cluster": ("emr-cluster", cluster_facts),
}
