"""Containers inside ECS task definitions and Batch job definitions, and what they ask for."""
from __future__ import annotations

from typing import Any

from mllint.facts.access import as_number, blocks, decode_json, get
from mllint.facts.signals import Signals
from mllint.records import UNKNOWN


def ecs_containers(props: dict) -> list[dict] | Any:
    """Container definitions of an ECS task definition (TF JSON string or CFN list)."""
    return _dict_list(decode_json(get(props, "container_definitions")))


def batch_containers(props: dict) -> list[dict] | Any:
    """Every container a Batch job definition runs: container, ECS, multi-node and EKS forms."""
    found: list[dict] = []
    single = decode_json(get(props, "container_properties"))
    if single is UNKNOWN:
        return UNKNOWN
    if isinstance(single, dict):
        found.append(single)
    ecs = decode_json(get(props, "ecs_properties"))
    if ecs is UNKNOWN:
        return UNKNOWN
    tasks = _dict_list(get(ecs, "task_properties")) if ecs else []
    if tasks is UNKNOWN:
        return UNKNOWN
    for task in tasks:
        more = _dict_list(get(task, "containers"))
        if more is UNKNOWN:
            return UNKNOWN
        found.extend(more)
    nodes = decode_json(get(props, "node_properties"))
    if nodes is UNKNOWN:
        return UNKNOWN
    ranges = _dict_list(get(nodes, "node_range_properties")) if nodes else []
    if ranges is UNKNOWN:
        return UNKNOWN
    for node_range in ranges:
        container = get(node_range, "container")
        if container is UNKNOWN:
            return UNKNOWN
        if isinstance(container, dict):
            found.append(container)
    eks = decode_json(get(props, "eks_properties"))
    if eks is UNKNOWN:
        return UNKNOWN
    pods = _dict_list(get(eks, "pod_properties", "containers")) if eks else []
    if pods is UNKNOWN:
        return UNKNOWN
    found.extend(pods)
    return found


def _dict_list(value: Any) -> list[dict] | Any:
    if value is None:
        return []
    value = blocks(value)
    if value is UNKNOWN or any(not isinstance(item, dict) for item in value):
        return UNKNOWN
    return value


def gpu_count(containers: list[dict] | Any) -> float | Any:
    """GPUs requested across containers; `ALL` counts as one. UNKNOWN if any request is unknown."""
    if containers is UNKNOWN:
        return UNKNOWN
    total: float = 0
    for container in containers:
        requirements = blocks(get(container, "resource_requirements"))
        if requirements is UNKNOWN:
            return UNKNOWN
        for requirement in requirements:
            if not isinstance(requirement, dict):
                return UNKNOWN
            kind = get(requirement, "type")
            if kind is UNKNOWN:
                return UNKNOWN
            if not isinstance(kind, str) or kind.upper() != "GPU":
                continue
            value = get(requirement, "value")
            if isinstance(value, str) and value.strip().upper() == "ALL":
                total += 1
                continue
            number = as_number(value)
            if number is UNKNOWN or number is None:
                return UNKNOWN
            total += number
        limits = get(container, "resources", "limits")
        if isinstance(limits, dict):
            number = as_number(limits.get("nvidia.com/gpu"))
            if number is UNKNOWN:
                return UNKNOWN
            total += number or 0
    return int(total) if float(total).is_integer() else total


def container_signals(containers: list[dict] | Any, signals: Signals) -> None:
    """Add images, commands and environment variables of containers to the role signals."""
    if containers is UNKNOWN:
        return
    for container in containers:
        image = get(container, "image")
        if isinstance(image, str):
            signals.add_image(image)
        for key in ("command", "entry_point"):
            words = get(container, key)
            if isinstance(words, list):
                signals.commands.append(" ".join(w for w in words if isinstance(w, str)))
            elif isinstance(words, str):
                signals.commands.append(words)
        environment = get(container, "environment")
        if isinstance(environment, list):
            for pair in environment:
                name = get(pair, "name")
                if isinstance(name, str):
                    signals.env[name] = get(pair, "value")
        elif isinstance(environment, dict):
            signals.env.update({k: v for k, v in environment.items() if isinstance(k, str)})
        labels = get(container, "docker_labels")
        if isinstance(labels, dict):
            signals.tags.update({k: str(v) for k, v in labels.items() if isinstance(v, str)})
