"""Decide a resource's workload role (and GPU intent) from evidence kept as data.

The evidence items live in `policies/evidence/roles.yaml`. An explicit tag
`mllint:workload=<role|none>` wins over everything; otherwise the weighted
evidence must reach a threshold and lead the runner-up by a margin, or no role
is decided (and role-gated policies stay silent).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any


from mllint.facts.signals import Signals
from mllint.paths import policies_dir
from mllint.records import UNKNOWN
from mllint.yamlio import safe_load

ROLES = ("training", "realtime-inference", "batch-inference", "data-processing")
ML_ROLES = ("training", "realtime-inference", "batch-inference")  # data processing need not be ML


@dataclass(frozen=True)
class Item:
    id: str
    label: str
    where: str
    pattern: re.Pattern
    weights: dict
    ml: float
    points: float


@dataclass(frozen=True)
class Evidence:
    scoring: dict
    workload_keys: frozenset
    workload_values: dict  # spelling -> role (or "none")
    gpu_keys: frozenset
    roles: tuple[Item, ...]
    gpu: tuple[Item, ...]


def _item(raw: dict) -> Item:
    return Item(
        id=raw["id"],
        label=raw["label"],
        where=raw["where"],
        pattern=re.compile(raw["pattern"], re.IGNORECASE),
        weights=dict(raw.get("weights", {})),
        ml=float(raw.get("ml", 0)),
        points=float(raw.get("points", 0)),
    )


@lru_cache(maxsize=None)
def load_evidence() -> Evidence:
    with open(policies_dir() / "evidence" / "roles.yaml", encoding="utf-8") as handle:
        raw = safe_load(handle)
    explicit = raw["explicit"]
    values = {spelling.lower(): role for role, spellings in explicit["workload_values"].items() for spelling in spellings}
    return Evidence(
        scoring=raw["scoring"],
        workload_keys=frozenset(k.lower() for k in explicit["workload_keys"]),
        workload_values=values,
        gpu_keys=frozenset(k.lower() for k in explicit["gpu_keys"]),
        roles=tuple(_item(item) for item in raw["evidence"]),
        gpu=tuple(_item(item) for item in raw["gpu"]),
    )


def _candidates(signals: Signals, where: str) -> list[str]:
    """The strings an evidence item of kind `where` is matched against."""
    if where == "tags":
        return [f"{k}={v}" for k, v in signals.tags.items()]
    if where == "name":
        return [_words(name) for name in signals.names]
    if where == "image":
        return signals.images
    if where == "command":
        return signals.commands
    if where == "env":
        return list(signals.env)
    if where == "env_value":
        return [f"{k}={v}" for k, v in signals.env.items() if isinstance(v, (str, int)) and v is not UNKNOWN]
    if where == "instance_type":
        return signals.instance_types
    if where == "lambda_layers":
        return signals.layers
    if where == "resource_type":
        return [signals.resource_type]
    if where == "trigger":
        return sorted({t.kind for t in signals.triggers})
    raise ValueError(f"unknown evidence source {where!r}")


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def _words(name: str) -> str:
    """`TrainModelFunction` as `Train-Model-Function`, so CloudFormation logical ids read like names."""
    return _CAMEL.sub("-", name)


def _matches(items: tuple[Item, ...], signals: Signals) -> list[tuple[Item, str]]:
    """Each item that matches, with the first value it matched."""
    found = []
    candidates: dict[str, list[str]] = {}  # per source, computed once for all its items
    for item in items:
        if item.where not in candidates:
            candidates[item.where] = _candidates(signals, item.where)
        for value in candidates[item.where]:
            if item.pattern.search(value):
                found.append((item, value))
                break
    return found


def _describe(item: Item, value: str, signals: Signals) -> str:
    if item.where == "trigger":
        sources = ", ".join(t.source for t in signals.triggers if t.kind == value)
        return f"{item.label} ({sources})"
    return f"{item.label}: {value}"


def classify(signals: Signals) -> dict[str, Any]:
    """Facts `role`, `role_evidence`, `ml`, `gpu_intent` and `gpu_evidence` for one resource."""
    evidence = load_evidence()
    facts: dict[str, Any] = {}
    facts.update(_gpu_intent(signals, evidence))
    explicit = _explicit_role(signals, evidence)
    matches = _matches(evidence.roles, signals)
    scores = {role: 0.0 for role in ROLES}
    ml_points = 0.0
    for item, _ in matches:
        ml_points += item.ml
        for role, weight in item.weights.items():
            scores[role] += weight
    best = max(ROLES, key=lambda r: (scores[r], -ROLES.index(r)))
    runner_up = max(scores[r] for r in ROLES if r != best)
    facts["ml"] = ml_points >= evidence.scoring["ml_threshold"] or facts.get("gpu_intent") is True
    if explicit:
        role, tag = explicit
        facts["role"] = role
        facts["role_evidence"] = [f"tag {tag}"]
        facts["ml"] = role != "none"
        return facts
    scoring = evidence.scoring
    decided = scores[best] >= scoring["role_threshold"] and scores[best] - runner_up >= scoring["role_margin"]
    if best in ML_ROLES and ml_points <= 0:
        decided = False  # an API in front of something without ML evidence is not model serving
    if decided:
        facts["role"] = best
        facts["role_evidence"] = [_describe(item, value, signals) for item, value in matches if item.weights.get(best, 0) > 0]
        facts["ml"] = facts["ml"] or best in ML_ROLES
    return facts


def _explicit_role(signals: Signals, evidence: Evidence) -> tuple[str, str] | None:
    for key, value in sorted(signals.tags.items()):
        if key.lower() in evidence.workload_keys:
            role = evidence.workload_values.get(value.strip().lower())
            if role:
                return role, f"{key}={value}"
    return None


def _gpu_intent(signals: Signals, evidence: Evidence) -> dict[str, Any]:
    for key, value in sorted(signals.tags.items()):
        if key.lower() in evidence.gpu_keys and value.strip().lower() in ("true", "false"):
            return {"gpu_intent": value.strip().lower() == "true", "gpu_evidence": [f"tag {key}={value}"]}
    matches = _matches(evidence.gpu, signals)
    points = sum(item.points for item, _ in matches)
    intent = points >= evidence.scoring["gpu_threshold"]
    return {
        "gpu_intent": intent,
        "gpu_evidence": [_describe(item, value, signals) for item, value in matches if item.points > 0] if intent else [],
    }
