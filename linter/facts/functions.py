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
    return {
        "timeout_seconds": _setting(get(props, "timeout"), DEFAULT_TIMEOUT_S),
        "memory_mb": _setting(get(props, "memory_size"), DEFAULT_MEMORY_MB),
        "ephemeral_storage_mb": _setting(get(props, "ephemeral_storage", "size"), DEFAULT_EPHEMERAL_MB),
        "managed_instances": get(props, "capacity_provider_config") is not None,
    }


def _setting(value: Any, default: int) -> Any:
    number = as_number(value)
    return default if number is None else number


KINDS = {
    "aws_lambda_function": ("lambda-function", function_facts),
    "AWS::Lambda::Function": ("lambda-function", function_facts),
    "AWS::Serverless::Function": ("lambda-function", function_facts),
}
