"""Read native properties the same way for Terraform and CloudFormation.

Terraform writes `requires_compatibilities`, CloudFormation `RequiresCompatibilities`,
and container JSON `resourceRequirements`: keys are matched ignoring case and
underscores. A Terraform block is a list of dicts, a CloudFormation property a
dict: `block()` and `blocks()` accept both. UNKNOWN propagates.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any, Iterable

from mllint.records import UNKNOWN, Link, Resource

_NUMBER = re.compile(r"^\s*-?\d+(\.\d+)?\s*$")


@lru_cache(maxsize=8192)  # property names repeat: one normalisation each
def _norm(key: str) -> str:
    return key.replace("_", "").replace("-", "").lower()


def get(obj: Any, *keys: str, default: Any = None) -> Any:
    """Walk `keys` through dicts (and one-element block lists); UNKNOWN propagates."""
    current = obj
    for key in keys:
        if current is UNKNOWN:
            return UNKNOWN
        if isinstance(current, list):
            current = current[0] if len(current) == 1 else None
        if not isinstance(current, dict):
            return default
        wanted = _norm(key)
        for candidate, value in current.items():
            if isinstance(candidate, str) and _norm(candidate) == wanted:
                current = value
                break
        else:
            return default
    return current


def first_of(obj: Any, *keys: str, default: Any = None) -> Any:
    """The value of the first of several alternative keys that is present."""
    for key in keys:
        value = get(obj, key)
        if value is not None:
            return value
    return default


def blocks(value: Any) -> list | Any:
    """A Terraform block list or CloudFormation dict/list as a list of dicts (or UNKNOWN)."""
    if value is UNKNOWN:
        return UNKNOWN
    if value is None:
        return []
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return value
    return UNKNOWN


def decode_json(value: Any) -> Any:
    """Terraform JSON-string attributes (container_definitions) as data; UNKNOWN if undecodable.

    tfparse writes a value it could not evaluate inside `jsonencode` as `null`, so a
    JSON null is UNKNOWN, never "not set"; a whole-string `${aws_x.y}` (a resource
    reference the Terraform loader found inside the JSON) is a Link.
    """
    if isinstance(value, str):
        try:
            return _nulls_unknown(json.loads(value))
        except ValueError:
            return UNKNOWN
    return value


# A Terraform resource reference the loader found inside a JSON string: `${aws_batch_job_queue.gpu}`.
_EMBEDDED_REFERENCE = re.compile(r"^\$\{((?:module\.[^}]+\.)?[a-z][a-z0-9]*_[a-z0-9_]+\.[^}.]+(?:\[[^\]]*\])?)\}$")
_EMBEDDED_OTHER = re.compile(r"^\$\{(?:module\.[^}]+\.)?(?:data|var|local|module)\.[^}]+\}$")


def _nulls_unknown(value: Any) -> Any:
    if value is None:
        return UNKNOWN
    if isinstance(value, str) and value.startswith("${"):
        reference = _EMBEDDED_REFERENCE.match(value)
        if reference:
            return Link(reference.group(1))
        if _EMBEDDED_OTHER.match(value):
            return UNKNOWN
    if isinstance(value, list):
        return [_nulls_unknown(item) for item in value]
    if isinstance(value, dict):
        return {key: _nulls_unknown(item) for key, item in value.items()}
    return value


def as_number(value: Any) -> float | int | Any:
    """A number from a number or numeric string; UNKNOWN otherwise (None stays None)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return UNKNOWN
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str) and _NUMBER.match(value):
        number = float(value)
        return int(number) if number.is_integer() else number
    return UNKNOWN


def as_str_list(value: Any) -> list[str] | Any:
    """A list of strings (a scalar becomes a one-item list); UNKNOWN if any item is unknown."""
    if value is None:
        return []
    if value is UNKNOWN:
        return UNKNOWN
    items = value if isinstance(value, list) else [value]
    if any(not isinstance(item, str) for item in items):
        return UNKNOWN
    return items


def tags_of(props: dict) -> dict[str, str]:
    """Resource tags as a str->str map, from a Terraform map or a CloudFormation list."""
    raw = get(props, "tags")
    result: dict[str, str] = {}
    if isinstance(raw, dict):
        items: Iterable = raw.items()
    elif isinstance(raw, list):
        items = ((get(tag, "key"), get(tag, "value")) for tag in raw if isinstance(tag, dict))
    else:
        return result
    for key, value in items:
        if isinstance(key, str) and isinstance(value, (str, int, float, bool)) and value is not UNKNOWN:
            result[key] = str(value).lower() if isinstance(value, bool) else str(value)
    return result


def spelled(resource: Resource, snake_name: str) -> str:
    """A property name as the resource's framework spells it (`RequiresCompatibilities` in CloudFormation)."""
    if resource.framework == "terraform":
        return snake_name
    return "".join(word.capitalize() for word in snake_name.split("_"))


def link_target(value: Any) -> str | None:
    """The address a Link points at, else None."""
    return value.address if isinstance(value, Link) else None
