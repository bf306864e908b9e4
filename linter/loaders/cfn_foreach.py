"""Expand `Fn::ForEach` loops (the `AWS::LanguageExtensions` transform) in a template mapping.

`Fn::ForEach::Name: [Identifier, Collection, {OutputKey: OutputValue}]` repeats its fragment
once per item of the collection. In every key of the fragment and in `Fn::Sub` strings,
`${Identifier}` becomes the item and `&{Identifier}` the item without its non-alphanumeric
characters; `Ref: Identifier` becomes the item. Loops nest. The caller evaluates collections
(a literal list, a `Ref` to a list parameter, `Fn::FindInMap`, ...): one it can't evaluate
makes the loop's output unknown, which the caller reports as it sees fit.
"""
from __future__ import annotations

import re
from typing import Any, Callable

PREFIX = "Fn::ForEach::"
MAX_ENTRIES = 5000  # per mapping; a template holds at most 500 resources
_NOT_ALPHANUMERIC = re.compile(r"[^0-9A-Za-z]+")

# Evaluates a collection (with the enclosing loops' identifiers already bound): its items
# as strings, or None when they can't be known statically.
Collection = Callable[[Any], "list[str] | None"]


class LoopError(Exception):
    """A malformed loop, or one that generates a key twice; the message names the loop."""


def is_loop(key: Any) -> bool:
    return isinstance(key, str) and key.startswith(PREFIX)


def expand(mapping: dict, items_of: Collection) -> tuple[list[tuple[str, Any, str]], bool]:
    """The entries of `mapping` with its loops expanded, each as (key, value, the key of
    `mapping` it came from), in template order; and False when a loop's collection is unknown
    (its entries are then missing). Raises LoopError."""
    entries: list[tuple[str, Any, str]] = []
    complete = True
    seen: dict[str, str] = {}
    for origin, value in mapping.items():
        if is_loop(origin):
            generated, known = _loop(origin, value, items_of, {})
            complete = complete and known
        else:
            generated = [(origin, value)]
        for key, item in generated:
            if key in seen:
                raise LoopError(_duplicate(origin, seen[key], key))
            seen[key] = origin
            entries.append((key, item, origin))
    return entries, complete


def _duplicate(origin: str, first: str, key: str) -> str:
    if first == origin:
        return f"{origin} generates {key} more than once"
    return f"{origin} generates {key}, which {first if is_loop(first) else 'the template'} already defines"


def _loop(name: str, spec: Any, items_of: Collection, bindings: dict[str, str]) -> tuple[list[tuple[str, Any]], bool]:
    """The (key, value) pairs one loop generates, with `bindings` from the enclosing loops."""
    if not (isinstance(spec, list) and len(spec) == 3 and isinstance(spec[0], str) and spec[0]
            and isinstance(spec[2], dict) and spec[2]):
        raise LoopError(f"{name} must be a list of [identifier, collection, {{output key: value}}]")
    identifier, collection, fragment = spec
    items = items_of(bind(collection, bindings))
    if items is None:
        return [], False
    generated: list[tuple[str, Any]] = []
    complete = True
    for item in items:
        inner = {**bindings, identifier: item}
        for key, value in fragment.items():
            if is_loop(key):
                pairs, known = _loop(key, value, items_of, inner)
                generated.extend(pairs)
                complete = complete and known
            else:
                generated.append((_replace(key, inner), bind(value, inner)))
        if len(generated) > MAX_ENTRIES:
            raise LoopError(f"{name} generates more than {MAX_ENTRIES} entries")
    return generated, complete


def bind(value: Any, bindings: dict[str, str]) -> Any:
    """`value` with the loop identifiers in `bindings` replaced (a copy)."""
    if not bindings:
        return value
    if isinstance(value, list):
        return [bind(item, bindings) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        name, args = next(iter(value.items()))
        if name == "Ref" and isinstance(args, str) and args in bindings:
            return bindings[args]
        if name == "Fn::Sub" and isinstance(args, str):
            return {name: _replace(args, bindings)}
        if name == "Fn::Sub" and isinstance(args, list) and args and isinstance(args[0], str):
            return {name: [_replace(args[0], bindings)] + bind(args[1:], bindings)}
    return {_replace(key, bindings) if isinstance(key, str) else key: bind(item, bindings) for key, item in value.items()}


def _replace(text: str, bindings: dict[str, str]) -> str:
    for identifier, item in bindings.items():
        text = text.replace("${" + identifier + "}", item)
        text = text.replace("&{" + identifier + "}", _NOT_ALPHANUMERIC.sub("", item))
    return text
