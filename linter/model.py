"""The model stage: per workload-bearing resource, a flat dict of normalised facts.

Facts are documented in `schemas/facts.schema.json`. A fact whose value cannot
be known is absent, never guessed, so a policy that requires it stays silent.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable

from mllint.facts.access import tags_of
from mllint.facts.signals import Signals
from mllint.facts.triggers import find_triggers
from mllint.graph import UnitGraph, label_of, own_name
from mllint.records import UNKNOWN, Resource
from mllint.roles import classify

Builder = Callable[[Resource, UnitGraph, Signals], dict]

# Each module declares `KINDS = {native type: (kind, builder)}` for the resources it models.
FACT_MODULES = (
    "ecs",
    "batch",
    "functions",
    "emr",
    "sagemaker",
    "instances",
    "services",
)


def _kinds() -> dict[str, tuple[str, Builder]]:
    kinds: dict[str, tuple[str, Builder]] = {}
    for name in FACT_MODULES:
        kinds.update(importlib.import_module(f"mllint.facts.{name}").KINDS)
    return kinds


KINDS = _kinds()
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
