"""Facts of ECS task definitions (the GPUs they ask for, the platforms and schedules that launch
them) and of ECS services (what they serve, whether Application Auto Scaling scales them)."""
from __future__ import annotations

from typing import Any

from mllint.facts.access import as_str_list, blocks, first_of, get, spelled, tags_of
from mllint.facts.autoscaling import autoscaling
from mllint.facts.containers import container_signals, ecs_containers, gpu_count
from mllint.facts.fargate import ecs_task_size
from mllint.facts.signals import Signals, Trigger
from mllint.graph import UnitGraph, label_of, own_name
from mllint.records import UNKNOWN, Resource

PLATFORMS = {"FARGATE": "fargate", "EC2": "ec2", "EXTERNAL": "external", "MANAGED_INSTANCES": "managed-instances"}
FARGATE_PROVIDERS = {"FARGATE": "fargate", "FARGATE_SPOT": "fargate"}
TASK_DEFINITION_TYPES = ("aws_ecs_task_definition", "AWS::ECS::TaskDefinition")
CLUSTER_TYPES = ("aws_ecs_cluster", "AWS::ECS::Cluster")
SERVICE_TYPES = ("aws_ecs_service", "AWS::ECS::Service")
EVENT_RULE_TYPES = ("aws_cloudwatch_event_rule", "AWS::Events::Rule")
DESIRED_COUNT = "ecs:service:DesiredCount"


def task_definition_facts(td: Resource, graph: UnitGraph, signals: Signals) -> dict:
    containers = ecs_containers(td.props)
    container_signals(containers, signals)
    paths = launch_paths(td, graph)
    platforms = [platform for platform, _ in paths]
    facts: dict[str, Any] = {
        "gpu_count": gpu_count(containers),
        "platforms": UNKNOWN if UNKNOWN in platforms else sorted(set(platforms)),
        "fargate_evidence": [why for platform, why in paths if platform == "fargate"],
        "scheduled_runs": scheduled_runs(td, graph),
    }
    if "fargate" in platforms:
        facts["on_fargate"] = True
    elif UNKNOWN not in platforms:
        facts["on_fargate"] = False
    facts.update(ecs_task_size(td))
    return facts


def launch_paths(td: Resource, graph: UnitGraph) -> list[tuple[Any, str]]:
    """(platform, why) for the compatibilities and for every service, rule or schedule launching `td`."""
    paths: list[tuple[Any, str]] = []
    compatibilities = as_str_list(get(td.props, "requires_compatibilities"))
    setting = spelled(td, "requires_compatibilities")
    if compatibilities is UNKNOWN:
        paths.append((UNKNOWN, f"{setting} is unknown"))
    else:
        for value in compatibilities:
            paths.append((PLATFORMS.get(value.upper(), value.lower()), f"{setting} includes {value}"))
    for launcher, settings in _launchers(td, graph):
        paths.append(_launch_platform(launcher, settings, graph))
    return paths


def _launchers(td: Resource, graph: UnitGraph) -> list[tuple[Resource, dict]]:
    """Resources that run `td`, each with the dict holding its launch settings (and cluster)."""
    found: list[tuple[Resource, dict]] = []
    candidates = [(service, service.props, get(service.props, "task_definition")) for service in graph.of_type(*SERVICE_TYPES)]
    for runner, target, key in _scheduled_ecs_targets(graph):
        for ecs in blocks(get(target, key)) or []:
            if isinstance(ecs, dict):
                candidates.append((runner, {**ecs, "cluster": get(target, "arn")}, get(ecs, "task_definition_arn")))
    for runner, settings, pointer in candidates:
        points = graph.points_at(pointer, td)
        if points is True:
            found.append((runner, settings))
        elif points is UNKNOWN:
            found.append((runner, {"launch_type": UNKNOWN}))  # it may launch this task definition
    return found


def _scheduled_ecs_targets(graph: UnitGraph) -> list[tuple[Resource, object, str]]:
    """(resource, target settings, key of its ECS parameters) for EventBridge targets and schedules."""
    targets: list[tuple[Resource, object, str]] = []
    for target in graph.of_type("aws_cloudwatch_event_target"):
        targets.append((target, target.props, "ecs_target"))
    for rule in graph.of_type("AWS::Events::Rule"):
        entries = blocks(get(rule.props, "targets"))
        targets.extend((rule, entry, "ecs_parameters") for entry in entries or [] if isinstance(entry, dict))
    for schedule in graph.of_type("aws_scheduler_schedule", "AWS::Scheduler::Schedule"):
        for target in blocks(get(schedule.props, "target")) or []:
            targets.append((schedule, target, "ecs_parameters"))
    return targets


def scheduled_runs(td: Resource, graph: UnitGraph) -> list[str]:
    """One line per EventBridge rule or Scheduler schedule that runs `td` as a standalone task on a schedule."""
    runs = []
    for runner, target, key in _scheduled_ecs_targets(graph):
        schedule = _schedule(runner, graph)
        if schedule is None:
            continue
        for ecs in blocks(get(target, key)) or []:
            if isinstance(ecs, dict) and graph.points_at(get(ecs, "task_definition_arn"), td) is True:
                runs.append(schedule)
    return sorted(set(runs))


def _schedule(runner: Resource, graph: UnitGraph) -> str | None:
    """How a rule, event target or schedule runs on a schedule expression, or None if it doesn't (or may not)."""
    rule = runner
    if runner.type == "aws_cloudwatch_event_target":
        rule = graph.resolve(get(runner.props, "rule"), *EVENT_RULE_TYPES)
        if not isinstance(rule, Resource):
            return None
    expression = get(rule.props, "schedule_expression")
    if isinstance(expression, str):
        when = f"schedule {expression}"
    elif expression is UNKNOWN and get(rule.props, "event_pattern") is None:
        when = "a schedule whose expression is unknown"  # a rule without an event pattern has one
    else:
        return None
    through = f" through {runner.address}" if runner is not rule else ""
    return f"{rule.address} runs it on {when}{through}"


def _launch_platform(launcher: Resource, settings: dict, graph: UnitGraph) -> tuple[Any, str]:
    launch_type = get(settings, "launch_type")
    if isinstance(launch_type, str):
        platform = PLATFORMS.get(launch_type.upper(), launch_type.lower())
        return platform, f"{launcher.address} launches it with launch type {launch_type}"
    if launch_type is UNKNOWN:
        return UNKNOWN, f"{launcher.address} may launch it with an unknown launch type"
    strategy = get(settings, "capacity_provider_strategy")
    if strategy:
        return _strategy_platform(strategy, f"{launcher.address} launches it with capacity provider")
    cluster = graph.resolve(get(settings, "cluster"), *CLUSTER_TYPES)
    if not isinstance(cluster, Resource):
        return UNKNOWN, f"{launcher.address} runs it on a cluster outside this unit"
    default = _cluster_default_strategy(cluster, graph)
    if default:
        return _strategy_platform(default, f"{launcher.address} runs it on {cluster.address}, whose default capacity provider is")
    if default is UNKNOWN:
        return UNKNOWN, f"{cluster.address} has an unknown default capacity provider strategy"
    return "ec2", f"{launcher.address} launches it with the default launch type EC2"


def _strategy_platform(strategy: Any, why: str) -> tuple[Any, str]:
    """The platform of a capacity provider strategy: Fargate if any provider is FARGATE / FARGATE_SPOT."""
    entries = blocks(strategy)
    if entries is UNKNOWN:
        return UNKNOWN, why
    names = [get(entry, "capacity_provider") for entry in entries]
    for name in names:
        if isinstance(name, str) and name.upper() in FARGATE_PROVIDERS:
            return "fargate", f"{why} {name}"
    if any(name is UNKNOWN for name in names):
        return UNKNOWN, why
    return "ec2", f"{why} {', '.join(str(n) for n in names)}"


def _cluster_default_strategy(cluster: Resource, graph: UnitGraph) -> Any:
    """The cluster's default capacity provider strategy, from the cluster or its association resource."""
    strategy = get(cluster.props, "default_capacity_provider_strategy")
    if strategy:
        return strategy
    for association in graph.of_type("aws_ecs_cluster_capacity_providers", "AWS::ECS::ClusterCapacityProviderAssociations"):
        points = graph.points_at(get(association.props, "cluster_name") or get(association.props, "cluster"), cluster)
        if points is True:
            return get(association.props, "default_capacity_provider_strategy")
        if points is UNKNOWN:
            return UNKNOWN
    return None


def service_facts(service: Resource, graph: UnitGraph, signals: Signals) -> dict:
    """What the service's tasks run and what fronts them (role evidence), and whether it autoscales."""
    td = graph.resolve(get(service.props, "task_definition"), *TASK_DEFINITION_TYPES)
    if isinstance(td, Resource):
        container_signals(ecs_containers(td.props), signals)
        signals.names.extend(name for name in (label_of(td), own_name(td)) if name)
        signals.tags = {**tags_of(td.props), **signals.tags}
    signals.triggers = sorted({*signals.triggers, *_balancer_fronts(service, graph)})
    strategy = get(service.props, "scheduling_strategy")
    if strategy is UNKNOWN or (isinstance(strategy, str) and strategy.upper() == "DAEMON"):
        return {}  # a daemon service runs one task per instance: nothing to scale
    scaled, evidence = autoscaling(graph, service, DESIRED_COUNT, ["service", _cluster_name(service, graph), own_name(service) or UNKNOWN])
    return {"autoscaling": scaled, "autoscaling_evidence": evidence}


def _balancer_fronts(service: Resource, graph: UnitGraph) -> list[Trigger]:
    """A load-balancer trigger for each load balancer block, named by its target group where it resolves."""
    fronts = []
    balancers = blocks(first_of(service.props, "load_balancer", "load_balancers"))
    for balancer in balancers if isinstance(balancers, list) else []:
        group = graph.resolve(get(balancer, "target_group_arn"))
        fronts.append(Trigger("load-balancer", group.address if isinstance(group, Resource) else service.address))
    return fronts


def _cluster_name(service: Resource, graph: UnitGraph) -> Any:
    """The name of the cluster the service runs in (`default` when it names none), or UNKNOWN."""
    cluster = get(service.props, "cluster")
    if cluster is None:
        return "default"
    if isinstance(cluster, str):
        name = cluster.rsplit("/", 1)[-1]  # a name or an ARN
        return UNKNOWN if "${" in name else name
    resolved = graph.resolve(cluster, *CLUSTER_TYPES)
    return (own_name(resolved) if isinstance(resolved, Resource) else None) or UNKNOWN


KINDS = {
    "aws_ecs_task_definition": ("ecs-task", task_definition_facts),
    "AWS::ECS::TaskDefinition": ("ecs-task", task_definition_facts),
    "aws_ecs_service": ("ecs-service", service_facts),
    "AWS::ECS::Service": ("ecs-service", service_facts),
}
