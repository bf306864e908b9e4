"""Facts of Lambda functions (plain, SAM and container-image functions)."""
from __future__ import annotations

from typing import Any

from mllint.facts.access import as_number, as_str_list, first_of, get
from mllint.facts.signals import Signals
from mllint.graph import UnitGraph
from mllint.records import UNKNOWN, Resource

# Lambda's defaults when a setting is left out (Lambda developer guide).
DEFAULT_TIMEOUT_S = 3
DEFAULT_MEMORY_MB = 128
DEFAULT_EPHEMERAL_MB = 512
# Limits of standard (not Managed Instances) functions: fact, label, unit, minimum, maximum
# (Lambda quotas; CreateFunction Timeout >= 1, MemorySize 128-10240, EphemeralStorage 512-10240).
LIMITS = (
    ("timeout_seconds", "timeout", "s", 1, 900),
    ("memory_mb", "memory", "MB", 128, 10240),
    ("ephemeral_storage_mb", "/tmp storage", "MB", 512, 10240),
)


def function_facts(fn: Resource, graph: UnitGraph, signals: Signals) -> dict:
    props = fn.props
    image = first_of(props, "image_uri", default=get(props, "code", "image_uri"))
    if isinstance(image, str):
        signals.add_image(image)
    handler = get(props, "handler")
    if isinstance(handler, str):
        signals.commands.append(handler)
    for key in ("command", "entry_point"):
        words = get(props, "image_config", key)
        if isinstance(words, list):
            signals.commands.append(" ".join(w for w in words if isinstance(w, str)))
    variables = get(props, "environment", "variables")
    if isinstance(variables, dict):
        signals.env.update({k: v for k, v in variables.items() if isinstance(k, str)})
    layers = as_str_list(get(props, "layers"))
    if isinstance(layers, list):
        signals.layers.extend(layers)
    facts = {
        "timeout_seconds": _setting(get(props, "timeout"), DEFAULT_TIMEOUT_S),
        "memory_mb": _setting(get(props, "memory_size"), DEFAULT_MEMORY_MB),
        "ephemeral_storage_mb": _setting(get(props, "ephemeral_storage", "size"), DEFAULT_EPHEMERAL_MB),
        "managed_instances": get(props, "capacity_provider_config") is not None,
    }
    if not facts["managed_instances"]:
        facts.update(limit_facts(facts, durable=get(props, "durable_config") is not None))
    return facts


def limit_facts(settings: dict, durable: bool) -> dict:
    """`lambda_limit_violations` and `lambda_at_limits` of a standard function.

    A durable function's timeout is left out: its execution has its own timeout
    (durable_config), so the per-invocation ceiling is not what bounds its work.
    """
    violations: list[str] = []
    at_limits: list[str] = []
    unknown = False
    for key, label, unit, low, high in LIMITS:
        value = settings[key]
        if key == "timeout_seconds" and durable:
            continue
        if value is UNKNOWN:
            unknown = True
        elif value < low:
            violations.append(f"{label} {_amount(value)} {unit} is below the {_amount(low)} {unit} minimum")
        elif value > high:
            violations.append(f"{label} {_amount(value)} {unit} is over the {_amount(high)} {unit} maximum")
        elif value == high:
            at_limits.append(f"{label} {_amount(value)} {unit}")
    return {
        "lambda_limit_violations": UNKNOWN if unknown and not violations else violations,
        "lambda_at_limits": at_limits,
    }


def _amount(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,}"


def _setting(value: Any, default: int) -> Any:
    number = as_number(value)
    return default if number is None else number


KINDS = {
    "aws_lambda_function": ("lambda-function", function_facts),
    "AWS::Lambda::Function": ("lambda-function", function_facts),
    "AWS::Serverless::Function": ("lambda-function", function_facts),
}
