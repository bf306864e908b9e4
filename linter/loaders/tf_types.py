"""Check the type constraints of `variable` blocks before tfparse evaluates a module.

An invalid constraint (`type = strng`, `type = list("string")`, `type = object`) makes
tfparse's Go code dereference a nil pointer and abort the whole process; Terraform
itself rejects it. Reading it here turns that crash into an error with file and line.
Only a constraint this grammar reads as certainly invalid is reported; anything it
cannot follow (an unusual layout) is left to tfparse.
"""
from __future__ import annotations

import json
import re

from mllint.loaders.hcl_scan import attribute, block_tokens, blocks, tokens_of
from mllint.loaders.tf_json import block_bodies

_KEYWORDS = {"string", "number", "bool", "any", "list", "map", "set"}
_COLLECTIONS = {"list", "map", "set"}
_LEGACY_BARE = {"list", "map"}  # accepted without an element type, as the whole constraint


class _Invalid(Exception):
    pass


def variable_type_errors(text: str, filename: str = "variables.tf") -> list[tuple[int, str]]:
    """(line, message) for each `variable` whose `type` is certainly not a type constraint;
    `filename` tells HCL (`.tf`) from Terraform JSON (`.tf.json`, where the type is a string)."""
    if filename.endswith(".tf.json"):
        return [
            (_json_line(text, name), _message(name))
            for name, body in block_bodies(text, "variable")
            if isinstance(body.get("type"), str) and "${" not in body["type"] and not _valid(tokens_of(body["type"]))
        ]
    errors = []
    for name, start in blocks(text, "variable"):
        found = attribute(text, block_tokens(text, start), "type")
        if found is not None and not _valid(found[1]):
            errors.append((text.count("\n", 0, found[0]) + 1, _message(name)))
    return errors


def _message(name: str) -> str:
    return f'variable "{name}": invalid type constraint; the module was not evaluated'


def _valid(expression: list[str]) -> bool:
    try:
        return _type(expression, 0, top=True) == len(expression)
    except _Invalid:
        return False


def _json_line(text: str, name: str) -> int:
    """The line of the variable's `"type"` key (its first mention after `"variable"`), or 1."""
    start = text.find('"variable"')
    label = text.find(json.dumps(name), max(start, 0))
    key = text.find('"type"', max(label, 0))
    return text.count("\n", 0, key) + 1 if min(start, label, key) >= 0 else 1


def _is_name(token: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z_][\w-]*", token))


def _type(tokens: list[str], i: int, top: bool = False) -> int:
    """Read one type at `tokens[i]`; return the index after it or raise _Invalid.
    `top`: the whole constraint, where the legacy quoted form (`"string"`) is allowed."""
    token = _at(tokens, i)
    if token.startswith('"'):
        if not top or token[1:-1] not in _KEYWORDS:
            raise _Invalid
        return i + 1
    if token in _COLLECTIONS and _peek(tokens, i + 1) == "(":
        i = _type(tokens, i + 2)
        return _close(tokens, i, ")")
    if token in _COLLECTIONS:  # Terraform's legacy `type = list` / `type = map`: the whole constraint only
        if top and token in _LEGACY_BARE:
            return i + 1
        raise _Invalid
    if token in _KEYWORDS:
        return i + 1
    if token == "tuple":
        i = _expect(tokens, _expect(tokens, i + 1, "("), "[")
        while _at(tokens, i) != "]":
            i = _type(tokens, i)
            if _at(tokens, i) == ",":
                i += 1
            elif _at(tokens, i) != "]":
                raise _Invalid
        return _expect(tokens, i + 1, ")")
    if token == "object":
        return _object(tokens, _expect(tokens, _expect(tokens, i + 1, "("), "{"))
    raise _Invalid


def _object(tokens: list[str], i: int) -> int:
    names = set()
    while _at(tokens, i) != "}":
        name = _at(tokens, i)
        if not _is_name(name) or name in names:
            raise _Invalid
        names.add(name)
        if _at(tokens, i + 1) not in ("=", ":"):
            raise _Invalid
        i = _attribute(tokens, i + 2)
        if _at(tokens, i) == ",":
            i += 1
    return _expect(tokens, i + 1, ")")


def _attribute(tokens: list[str], i: int) -> int:
    """An object attribute's type, `optional(type)` or `optional(type, default)`."""
    if _at(tokens, i) != "optional" or _peek(tokens, i + 1) != "(":
        return _type(tokens, i)
    i = _type(tokens, i + 2)
    if _at(tokens, i) == ",":
        depth, i = 0, i + 1
        while depth or _at(tokens, i) not in (")", ","):  # the default: any balanced expression
            depth += {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}.get(_at(tokens, i), 0)
            i += 1
    return _close(tokens, i, ")")


def _close(tokens: list[str], i: int, closer: str) -> int:
    """`closer`, after an optional trailing comma."""
    if _peek(tokens, i) == ",":
        i += 1
    return _expect(tokens, i, closer)


def _expect(tokens: list[str], i: int, token: str) -> int:
    if _at(tokens, i) != token:
        raise _Invalid
    return i + 1


def _at(tokens: list[str], i: int) -> str:
    if i >= len(tokens):
        raise _Invalid
    return tokens[i]


def _peek(tokens: list[str], i: int) -> str | None:
    return tokens[i] if i < len(tokens) else None
