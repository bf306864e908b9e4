"""Application Auto Scaling: which scaling policies and scheduled actions reach a resource.

A scalable target, scaling policy or scheduled action names what it scales by a
resource id string (`service/<cluster>/<service>`, `endpoint/<name>/variant/<variant>`),
usually built by interpolation. The loaders turn a string they can evaluate into
text, and one they can't into a Link or UNKNOWN while still recording the
resources it reads in `Resource.refs`: both are followed here.
"""
from __future__ import annotations

from typing import Any, Sequence

from mllint.facts.access import get
from mllint.graph import UnitGraph
from mllint.records import UNKNOWN, Link, Resource

TARGET_TYPES = ("aws_appautoscaling_target", "AWS::ApplicationAutoScaling::ScalableTarget")
ACTION_TYPES = (
    "aws_appautoscaling_policy",
    "aws_appautoscaling_scheduled_action",
    "AWS::ApplicationAutoScaling::ScalingPolicy",
)


def autoscaling(
    graph: UnitGraph, resource: Resource, dimension: str, resource_id: Sequence[Any], by_reference: bool = True
) -> tuple[Any, list[str]]:
    """Whether a scaling policy or scheduled action scales `dimension` of `resource`, and why.

    `dimension` is the scalable dimension (`ecs:service:DesiredCount`; the service
    namespace is its first part). `resource_id` is the resource's id as its parts
    (`["service", cluster, name]`), UNKNOWN for a part that can't be known. Besides
    the id string, a reference to `resource` inside the id names it; pass
    `by_reference=False` when such a reference doesn't say which one is meant (one
    variant of an endpoint with several). Returns (True, evidence) when a policy or
    scheduled action scales it, (False, evidence) when none in the unit can, and
    (UNKNOWN, []) when one might.
    """
    targets = {t.address: _names(t, graph, resource, dimension, resource_id, by_reference) for t in graph.of_type(*TARGET_TYPES)}
    scaled, unknown = [], False
    for action, target in _actions(graph):
        if target is None:
            verdict = _names(action, graph, resource, dimension, resource_id, by_reference)
        else:
            verdict = targets[target.address] if isinstance(target, Resource) else UNKNOWN
        if verdict is True:
            scaled.append(_scales(action, target))
        unknown = unknown or verdict is UNKNOWN
    if scaled:
        return True, scaled
    if unknown:
        return UNKNOWN, []
    registered = [address for address, verdict in targets.items() if verdict is True]
    if registered:
        return False, [f"{a} registers it as a scalable target, but no scaling policy or scheduled action uses it" for a in registered]
    if any(verdict is UNKNOWN for verdict in targets.values()):
        return False, [f"no scaling policy or scheduled action in this {_unit_word(resource)} scales it"]
    known = all(isinstance(part, str) for part in resource_id)
    named = "/".join(resource_id) if known else "it"
    return False, [f"no scalable target in this {_unit_word(resource)} registers {named}"]


def _actions(graph: UnitGraph) -> list[tuple[Resource, Any]]:
    """Every scaling policy and scheduled action, with the scalable target it goes through: the one
    its ScalingTargetId or resource id refers to, else the only one it references (a Terraform
    `resource_id = aws_appautoscaling_target.x.resource_id` evaluated to text); None when it names
    the resource by itself, UNKNOWN when its ScalingTargetId can't be resolved. A CloudFormation
    scalable target with inline ScheduledActions is its own action."""
    found: list[tuple[Resource, Any]] = []
    for action in graph.of_type(*ACTION_TYPES):
        explicit = get(action.props, "scaling_target_id")
        target = graph.resolve(explicit if explicit is not None else get(action.props, "resource_id"), *TARGET_TYPES)
        referenced = [graph.by_address[a] for a in action.refs if a in graph.by_address and graph.by_address[a].type in TARGET_TYPES]
        if isinstance(target, Resource):
            found.append((action, target))
        elif explicit is not None:
            found.append((action, UNKNOWN))
        else:
            found.append((action, referenced[0] if len(referenced) == 1 else None))
    for target in graph.of_type(*TARGET_TYPES):
        if get(target.props, "scheduled_actions"):
            found.append((target, target))
    return found


def _names(item: Resource, graph: UnitGraph, resource: Resource, dimension: str, parts: Sequence[Any], by_reference: bool) -> Any:
    """True / False / UNKNOWN: a target, policy or scheduled action is for `dimension` of `resource`."""
    namespace = dimension.split(":", 1)[0]
    return _all(
        _equals(get(item.props, "service_namespace"), namespace),
        _equals(get(item.props, "scalable_dimension"), dimension),
        _id_names(item, graph, resource, parts, by_reference),
    )


def _id_names(item: Resource, graph: UnitGraph, resource: Resource, parts: Sequence[Any], by_reference: bool) -> Any:
    value = get(item.props, "resource_id")
    if isinstance(value, str):
        return _id_matches(value, parts)
    # Unevaluated: the resource(s) of the same type that the id reads decide.
    read = {value.address} if isinstance(value, Link) else set(item.refs)
    same_type = {a for a in read if a in graph.by_address and graph.by_address[a].type == resource.type}
    if same_type == {resource.address}:
        return True if by_reference else UNKNOWN
    if same_type and resource.address not in same_type:
        return False
    return UNKNOWN


def _id_matches(value: str, parts: Sequence[Any]) -> Any:
    """Compare a resource id string with the expected parts; unknown parts never differ."""
    segments = value.split("/")
    if len(segments) != len(parts):
        return UNKNOWN if _unevaluated(value) else False
    verdict: Any = True
    for segment, part in zip(segments, parts):
        if not isinstance(part, str) or _unevaluated(segment):
            verdict = UNKNOWN
        elif segment != part:
            return False
    return verdict


def _unevaluated(text: str) -> bool:
    """Text that still holds a placeholder: a CloudFormation pseudo parameter, or a Terraform
    reference the loader could not evaluate (`${aws_ecs_cluster.main}`)."""
    return "${" in text


def _equals(value: Any, expected: str) -> Any:
    return value == expected if isinstance(value, str) else UNKNOWN


def _all(*verdicts: Any) -> Any:
    """Three-valued AND: False wins, then UNKNOWN."""
    if False in verdicts:
        return False
    return UNKNOWN if UNKNOWN in verdicts else True


def _scales(action: Resource, target: Any) -> str:
    if action is target:
        return f"{action.address} scales it with scheduled actions"
    through = f" through {target.address}" if isinstance(target, Resource) else ""
    return f"{action.address} scales it{through}"


def _unit_word(resource: Resource) -> str:
    """What the resource was loaded with: a module, a plan (a Terraform unit that is one file) or a template."""
    if resource.framework != "terraform":
        return "template"
    return "plan" if resource.unit == resource.file else "module"
