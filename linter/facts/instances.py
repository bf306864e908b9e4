"""Facts of EC2 instances and Auto Scaling groups that run ML work directly.

An instance or group takes its instance types and user data from itself, its
launch template or launch configuration, and (for a group) the overrides of its
mixed instances policy. A start/stop schedule is found in the Instance Scheduler
tag, EventBridge Scheduler universal targets (`ec2:startInstances`, ...),
EventBridge rules running the `AWS-StartEC2Instance` / `AWS-StopEC2Instance`
runbooks, and the group's scheduled actions.
"""
from __future__ import annotations

import json
import re
from typing import Any

from mllint.facts import userdata
from mllint.facts.access import blocks, first_of, get, spelled, tags_of
from mllint.facts.batch import is_nvidia_gpu_type
from mllint.facts.signals import Signals
from mllint.graph import UnitGraph, own_name
from mllint.records import UNKNOWN, Resource

INSTANCE_TYPES = ("aws_instance", "AWS::EC2::Instance")
GROUP_TYPES = ("aws_autoscaling_group", "AWS::AutoScaling::AutoScalingGroup")
TEMPLATE_TYPES = ("aws_launch_template", "AWS::EC2::LaunchTemplate")
CONFIGURATION_TYPES = ("aws_launch_configuration", "AWS::AutoScaling::LaunchConfiguration")
SCHEDULE_TYPES = ("aws_scheduler_schedule", "AWS::Scheduler::Schedule")
GROUP_ACTION_TYPES = ("aws_autoscaling_schedule", "AWS::AutoScaling::ScheduledAction")
# Instance Scheduler on AWS reads the tag key `Schedule` unless deployed with another TagName.
SCHEDULE_TAG = "schedule"
ALWAYS_ON = re.compile(r"^(|none|off|false|no|n/?a|disabled?|always[-_ ]?on|24x7|24/7)$", re.I)
INSTANCE_APIS = re.compile(r"^arn:[\w-]+:scheduler:::aws-sdk:ec2:(startInstances|stopInstances|rebootInstances)$", re.I)
GROUP_APIS = re.compile(r"^arn:[\w-]+:scheduler:::aws-sdk:autoscaling:(updateAutoScalingGroup|setDesiredCapacity)$", re.I)
AUTOMATION_APIS = re.compile(r"^arn:[\w-]+:scheduler:::aws-sdk:ssm:startAutomationExecution$", re.I)
RUNBOOKS = re.compile(r"AWS-(Start|Stop|Restart)EC2Instance\b")
RUNBOOK_ARN = re.compile(r":automation-definition/AWS-(Start|Stop|Restart)EC2Instance(:|$)")


def instance_facts(instance: Resource, graph: UnitGraph, signals: Signals) -> dict:
    tags = tags_of(instance.props)
    template = _launch_template(instance, graph)
    types, type_evidence = _instance_types(instance, template)
    text = _instance_user_data(instance, template)
    script = userdata.read(text) if isinstance(text, str) else None
    _feed_user_data(script, signals)
    _feed_name_tag(signals)
    return {
        **_type_facts(types, type_evidence, signals),
        "start_stop_schedules": _instance_schedules(instance, tags, graph),
        "user_data_workloads": UNKNOWN if text is UNKNOWN else script.starts if script else [],
    }


def group_facts(group: Resource, graph: UnitGraph, signals: Signals) -> dict:
    types, type_evidence, sources = _group_launch(group, graph)
    for source in sources:
        signals.tags.update(_template_instance_tags(source))
        text = _user_data(_launch_data(source))
        _feed_user_data(userdata.read(text) if isinstance(text, str) else None, signals)
    tags = _group_tags(group)
    signals.tags.update(tags)
    _feed_name_tag(signals)
    return {
        **_type_facts(types, type_evidence, signals),
        "start_stop_schedules": _group_schedules(group, tags, graph),
    }


# ---- instance types -------------------------------------------------------


def _type_facts(types: list | Any, evidence: list[str], signals: Signals) -> dict:
    """`instance_types`, `gpu_instances` and their evidence from the types found (UNKNOWN entries allowed)."""
    if types is UNKNOWN:
        return {}
    known = [t for t in types if isinstance(t, str)]
    signals.instance_types.extend(known)
    gpu: Any = any(is_nvidia_gpu_type(t) for t in known)
    if not gpu and len(known) < len(types):
        gpu = UNKNOWN
    return {
        "instance_types": known if len(known) == len(types) else UNKNOWN,
        "gpu_instances": gpu,
        "instance_type_evidence": evidence if gpu is True else [],
    }


def _instance_types(instance: Resource, template: Any) -> tuple[Any, list[str]]:
    """The instance's type: its own `instance_type`, else its launch template's."""
    own = get(instance.props, "instance_type")
    if own is not None:
        return [own], [f"{spelled(instance, 'instance_type')} is {own}"]
    if not isinstance(template, Resource):
        return UNKNOWN, []
    value = get(_launch_data(template), "instance_type", default=UNKNOWN)
    return [value], [f"{template.address} sets instance type {value}"]


def _group_launch(group: Resource, graph: UnitGraph) -> tuple[Any, list[str], list[Resource]]:
    """(instance types, evidence, launch templates and configurations) of an Auto Scaling group.

    The overrides of a mixed instances policy replace the launch template's instance type.
    """
    sources = [_launch_source(group, spec, types, graph) for types, spec in _group_specifications(group)]
    resolved = [source for source in sources if isinstance(source, Resource)]
    overrides = _override_types(group)
    if not sources or overrides is UNKNOWN:
        return UNKNOWN, [], resolved
    if overrides:
        return [t for t, _ in overrides], [why for t, why in overrides if isinstance(t, str)], resolved
    types: list[Any] = []
    evidence: list[str] = []
    for source in sources:
        value = get(_launch_data(source), "instance_type", default=UNKNOWN) if isinstance(source, Resource) else UNKNOWN
        types.append(value)
        if isinstance(value, str):
            evidence.append(f"{source.address} sets instance type {value}")
    return types, evidence, resolved


def _group_specifications(group: Resource) -> list[tuple[tuple[str, ...], Any]]:
    """(resource types, specification) for each launch template or configuration a group names."""
    props = group.props
    specs: list[tuple[tuple[str, ...], Any]] = []
    template = get(props, "launch_template")
    if template is not None:
        specs.append((TEMPLATE_TYPES, template))
    configuration = first_of(props, "launch_configuration", "launch_configuration_name")
    if configuration is not None:
        specs.append((CONFIGURATION_TYPES, {"name": configuration}))
    mixed = get(props, "mixed_instances_policy", "launch_template")
    if mixed is not None:
        specs.append((TEMPLATE_TYPES, get(mixed, "launch_template_specification")))
    return specs


def _launch_source(resource: Resource, spec: Any, types: tuple[str, ...], graph: UnitGraph) -> Any:
    """The launch template or configuration a specification names (by id, name or reference), else UNKNOWN.

    tfparse overwrites a nested block's `id` argument (`launch_template { id = ... }`) with the
    block's own id, so a specification without id or name falls back on the one template of
    that kind the resource references.
    """
    pointer = first_of(spec, "id", "launch_template_id", "name", "launch_template_name")
    if pointer is None:
        referenced = [graph.by_address[a] for a in resource.refs if a in graph.by_address and graph.by_address[a].type in types]
        return referenced[0] if len(referenced) == 1 else UNKNOWN
    target = graph.resolve(pointer, *types)
    return target if isinstance(target, Resource) else UNKNOWN


def _override_types(group: Resource) -> list[tuple[Any, str]] | Any:
    """(type, why) per mixed-instances override; an override by instance requirements has an UNKNOWN type."""
    overrides = blocks(first_of(get(group.props, "mixed_instances_policy", "launch_template"), "override", "overrides"))
    if overrides is UNKNOWN:
        return UNKNOWN
    found: list[tuple[Any, str]] = []
    for override in overrides:
        value = get(override, "instance_type")
        found.append((value, f"{spelled(group, 'mixed_instances_policy')} overrides instance type {value}") if isinstance(value, str) else (UNKNOWN, ""))
    return found


def _launch_template(instance: Resource, graph: UnitGraph) -> Any:
    """The launch template an instance launches from: None if none, UNKNOWN if it can't be followed."""
    spec = get(instance.props, "launch_template")
    return None if spec is None else _launch_source(instance, spec, TEMPLATE_TYPES, graph)


def _launch_data(source: Resource) -> Any:
    """The launch settings of a template or configuration (CloudFormation nests them in LaunchTemplateData)."""
    data = get(source.props, "launch_template_data")
    return source.props if data is None else data


# ---- user data ------------------------------------------------------------


def _instance_user_data(instance: Resource, template: Any) -> Any:
    """The instance's user data as text: its own, else its launch template's (None when neither sets it)."""
    own = _user_data(instance.props)
    if own is not None:
        return own
    if template is None:
        return None
    return _user_data(_launch_data(template)) if isinstance(template, Resource) else UNKNOWN


def _user_data(settings: Any) -> Any:
    return userdata.decode(first_of(settings, "user_data", "user_data_base64"))


def _feed_user_data(script: userdata.UserData | None, signals: Signals) -> None:
    """Give the role classifier the user data's lines, images and container environment."""
    if script is None:
        return
    signals.commands.extend(script.lines)
    for image in script.images:
        signals.add_image(image)
    signals.env.update(script.env)


# ---- tags -----------------------------------------------------------------


def _feed_name_tag(signals: Signals) -> None:
    """The `Name` tag names an instance in the console: it reads like a name."""
    name = signals.tags.get("Name")
    if name and name not in signals.names:
        signals.names.append(name)


def _group_tags(group: Resource) -> dict[str, str]:
    """A group's tags: Terraform `tag` blocks and `tags`, CloudFormation `Tags`."""
    tags = tags_of(group.props)
    tags.update(tags_of({"tags": blocks(get(group.props, "tag")) or []}))
    return tags


def _template_instance_tags(source: Resource) -> dict[str, str]:
    """Tags a launch template gives the instances it launches."""
    tags: dict[str, str] = {}
    for spec in blocks(get(_launch_data(source), "tag_specifications")) or []:
        if isinstance(get(spec, "resource_type"), str) and get(spec, "resource_type").lower() == "instance":
            tags.update(tags_of(spec))
    return tags


# ---- schedules --------------------------------------------------------------


def _schedule_tag(tags: dict[str, str]) -> list[str]:
    for key, value in tags.items():
        if key.lower() == SCHEDULE_TAG and not ALWAYS_ON.match(value.strip()):
            return [f"tag {key}={value} (Instance Scheduler on AWS starts and stops it)"]
    return []


def _instance_schedules(instance: Resource, tags: dict[str, str], graph: UnitGraph) -> list[str]:
    """What starts and stops an instance on a schedule."""
    found = _schedule_tag(tags)
    for schedule, api, expression in _universal_targets(graph):
        if (INSTANCE_APIS.match(api) or _runbook_execution(schedule, api)) and _names(schedule, instance):
            found.append(f"{schedule.address} calls {api.rsplit(':', 1)[-1]} on {expression}")
    for source, runbook, expression in _runbook_targets(graph):
        if _names(source, instance):
            found.append(f"{source.address} runs {runbook} on {expression}")
    return sorted(set(found))


def _group_schedules(group: Resource, tags: dict[str, str], graph: UnitGraph) -> list[str]:
    """What resizes an Auto Scaling group on a schedule."""
    found = _schedule_tag(tags)
    for action in graph.of_type(*GROUP_ACTION_TYPES):
        recurrence = get(action.props, "recurrence")
        if isinstance(recurrence, str) and graph.points_at(get(action.props, "autoscaling_group_name"), group) is True:
            found.append(f"{action.address} resizes it on recurrence {recurrence}")
    for schedule, api, expression in _universal_targets(graph):
        if GROUP_APIS.match(api) and _names(schedule, group):
            found.append(f"{schedule.address} calls {api.rsplit(':', 1)[-1]} on {expression}")
    return sorted(set(found))


def _universal_targets(graph: UnitGraph) -> list[tuple[Resource, str, str]]:
    """(schedule, target ARN, expression) of every enabled, recurring EventBridge Scheduler schedule."""
    found = []
    for schedule in graph.of_type(*SCHEDULE_TYPES):
        expression = get(schedule.props, "schedule_expression")
        arn = get(schedule.props, "target", "arn")
        if _enabled(schedule) and _recurring(expression) and isinstance(arn, str):
            found.append((schedule, arn, expression))
    return found


def _runbook_execution(schedule: Resource, api: str) -> bool:
    """A universal target running the AWS-StartEC2Instance / AWS-StopEC2Instance runbook."""
    text = get(schedule.props, "target", "input")
    return bool(AUTOMATION_APIS.match(api)) and isinstance(text, str) and bool(RUNBOOKS.search(text))


def _runbook_targets(graph: UnitGraph) -> list[tuple[Resource, str, str]]:
    """(target or rule, runbook, expression) for scheduled EventBridge rules running a start/stop runbook."""
    found = []
    for target in graph.of_type("aws_cloudwatch_event_target"):
        rule = graph.resolve(get(target.props, "rule"), "aws_cloudwatch_event_rule")
        runbook = _runbook(get(target.props, "arn"))
        if runbook and isinstance(rule, Resource) and _scheduled_rule(rule):
            found.append((target, runbook, get(rule.props, "schedule_expression")))
    for rule in graph.of_type("AWS::Events::Rule"):
        for entry in blocks(get(rule.props, "targets")) or []:
            runbook = _runbook(get(entry, "arn"))
            if runbook and _scheduled_rule(rule):
                found.append((rule, runbook, get(rule.props, "schedule_expression")))
    return found


def _runbook(arn: Any) -> str | None:
    match = RUNBOOK_ARN.search(arn) if isinstance(arn, str) else None
    return f"AWS-{match.group(1)}EC2Instance" if match else None


def _scheduled_rule(rule: Resource) -> bool:
    return _enabled(rule) and get(rule.props, "is_enabled") is not False and _recurring(get(rule.props, "schedule_expression"))


def _enabled(resource: Resource) -> bool:
    state = get(resource.props, "state")
    return not (isinstance(state, str) and state.upper().startswith("DISABLED"))


def _recurring(expression: Any) -> bool:
    return isinstance(expression, str) and not expression.strip().lower().startswith("at(")


def _names(source: Resource, target: Resource) -> bool:
    """The schedule, rule or target references `target`, or (a group) names it in a schedule's JSON input."""
    if target.address in source.refs:
        return True
    name = own_name(target)
    text = get(source.props, "target", "input") if source.type in SCHEDULE_TYPES else None
    return bool(name) and isinstance(text, str) and name in _json_strings(text)


def _json_strings(text: str) -> set[str]:
    try:
        data = json.loads(text)
    except ValueError:
        return set()
    found: set[str] = set()
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            found.add(item)
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, dict):
            pending.extend(item.values())
    return found


KINDS = {
    **{native: ("ec2-instance", instance_facts) for native in INSTANCE_TYPES},
    **{native: ("autoscaling-group", group_facts) for native in GROUP_TYPES},
}
