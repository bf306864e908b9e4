"""Parse CloudFormation template text (YAML or JSON) into plain Python values.

Mappings come back as `LineDict`s that remember the 1-based line of each key.
Short-form intrinsic tags become their long forms (`!Ref X` -> `{"Ref": "X"}`).
The YAML event stream is turned into values by hand, without recursion: that
keeps line numbers, refuses unknown tags (nothing is ever constructed from a
tag), and bounds nesting depth and alias expansion before they cost anything.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import yaml

MAX_NODES = 2_000_000
MAX_DEPTH = 100

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_YAML_TAG = "tag:yaml.org,2002:"
_RESOLVER = yaml.resolver.Resolver()
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_CONSTRUCT = {
    _YAML_TAG + "null": _CONSTRUCTOR.construct_yaml_null,
    _YAML_TAG + "bool": _CONSTRUCTOR.construct_yaml_bool,
    _YAML_TAG + "int": _CONSTRUCTOR.construct_yaml_int,
    _YAML_TAG + "float": _CONSTRUCTOR.construct_yaml_float,
}
_FUNCTIONS = (
    "And", "Base64", "Cidr", "Equals", "FindInMap", "ForEach", "GetAtt", "GetAZs", "If",
    "ImportValue", "Join", "Length", "Not", "Or", "Select", "Split", "Sub", "ToJsonString",
    "Transform",
    # Rule functions (the Rules section's assertions); never evaluated, only read.
    "Contains", "EachMemberEquals", "EachMemberIn", "RefAll", "ValueOf", "ValueOfAll",
)
SHORT_FORMS = {"!Ref": "Ref", "!Condition": "Condition", **{f"!{n}": f"Fn::{n}" for n in _FUNCTIONS}}
# Characters YAML 1.1 does not allow in a stream.
_UNPRINTABLE = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


RAIN_HINT = "a rain directive: scan the template `rain pkg` writes"


class TemplateError(Exception):
    """A problem with the template text, at a 1-based line (0 when unknown)."""

    def __init__(self, message: str, line: int = 0):
        super().__init__(message)
        self.message = message
        self.line = line


class LineDict(dict):
    """A mapping that remembers the 1-based line of each of its keys."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: dict[str, int] = {}


def key_line(mapping: Any, key: str, default: int = 1) -> int:
    """The line of `key` in `mapping`, or `default` when unknown."""
    return getattr(mapping, "lines", {}).get(key, default)


def parse_template(text: str) -> Any:
    """The template's top-level value (None for an empty document); raises TemplateError."""
    bad = _UNPRINTABLE.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        raise TemplateError(f"invalid YAML: unacceptable character #x{ord(bad.group()):04x}", line)
    try:
        return _Builder().build(text)
    except yaml.YAMLError as exc:
        if text.lstrip().startswith("{"):
            return _parse_json(text)
        raise _yaml_error(exc) from None


def _yaml_error(exc: yaml.YAMLError) -> TemplateError:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        return TemplateError(f"invalid YAML: {exc.problem or exc.context}", mark.line + 1 if mark else 0)
    return TemplateError(f"invalid YAML: {str(exc).splitlines()[0]}")


def _scalar(event: yaml.ScalarEvent, line: int) -> Any:
    tag = event.tag
    if tag in (None, "!"):
        tag = _RESOLVER.resolve(yaml.ScalarNode, event.value, event.implicit)
    if tag in SHORT_FORMS:
        return _short_form(tag, event.value)
    construct = _CONSTRUCT.get(tag)
    if construct is not None:
        try:
            return construct(yaml.ScalarNode(tag, event.value))
        except (ValueError, KeyError):
            raise TemplateError(f"invalid {tag.rsplit(':', 1)[-1]} value {event.value!r}", line) from None
    if tag.startswith(_YAML_TAG):
        return event.value  # str, timestamp, binary...: kept as text
    raise TemplateError(f"unsupported tag {_tag_name(tag)}", line)


def _tag_name(tag: str) -> str:
    if tag.startswith("!Rain::"):  # a directive of the rain CLI, resolved by `rain pkg`
        return f"{tag} ({RAIN_HINT})"
    return "!!" + tag[len(_YAML_TAG):] if tag.startswith(_YAML_TAG) else tag


def _short_form(tag: str, value: Any) -> dict:
    if tag == "!GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {SHORT_FORMS[tag]: value}


@dataclass
class _Frame:
    """A sequence or mapping still being read."""

    value: Any
    line: int
    tag: str | None
    anchor: str | None
    key: str | None = None  # mappings: the key waiting for its value
    count: int = 1  # nodes in this collection, aliases expanded
    height: int = 1  # nesting levels in this collection, aliases expanded


class _Builder:
    """Turns the YAML event stream into values, counting expanded nodes and depth."""

    def __init__(self) -> None:
        self.stack: list[_Frame] = []
        self.anchors: dict[str, tuple[Any, int, int]] = {}  # anchor -> (value, count, height)
        self.nodes = 0
        self.documents = 0
        self.root: Any = None

    def build(self, text: str) -> Any:
        for event in yaml.parse(text, Loader=_LOADER):
            line = event.start_mark.line + 1
            if isinstance(event, yaml.ScalarEvent):
                self._count(1, 0, line)
                value = _scalar(event, line)
                if event.anchor:
                    self.anchors[event.anchor] = (value, 1, 0)
                self._attach(value, line, 1, 0, None if isinstance(value, dict) else event.value)
            elif isinstance(event, yaml.CollectionStartEvent):
                self._open(event, line)
            elif isinstance(event, yaml.CollectionEndEvent):
                self._close()
            elif isinstance(event, yaml.AliasEvent):
                self._alias(event.anchor, line)
            elif isinstance(event, yaml.DocumentStartEvent):
                self.documents += 1
                if self.documents > 1:
                    raise TemplateError("a template must be a single YAML document", line)
        return self.root

    def _count(self, count: int, height: int, line: int) -> None:
        self.nodes += count
        if self.nodes > MAX_NODES:
            raise TemplateError("YAML expands to too many nodes (alias bomb?)", line)
        if len(self.stack) + height > MAX_DEPTH:
            raise TemplateError(f"template nests deeper than {MAX_DEPTH} levels", line)

    def _open(self, event: yaml.CollectionStartEvent, line: int) -> None:
        self._count(1, 1, line)
        tag = event.tag
        if tag in (None, "!", _YAML_TAG + "seq", _YAML_TAG + "map"):
            tag = None
        elif tag not in SHORT_FORMS:
            raise TemplateError(f"unsupported tag {_tag_name(tag)}", line)
        value = [] if isinstance(event, yaml.SequenceStartEvent) else LineDict()
        self.stack.append(_Frame(value, line, tag, event.anchor))

    def _close(self) -> None:
        frame = self.stack.pop()
        value, height = frame.value, frame.height
        if frame.tag is not None:
            value, height = _short_form(frame.tag, value), height + 1
            self._count(0, height, frame.line)
        if frame.anchor:
            self.anchors[frame.anchor] = (value, frame.count, height)
        self._attach(value, frame.line, frame.count, height, None)

    def _alias(self, anchor: str, line: int) -> None:
        if anchor not in self.anchors:
            recursive = any(frame.anchor == anchor for frame in self.stack)
            raise TemplateError(f"{'recursive' if recursive else 'undefined'} alias *{anchor}", line)
        value, count, height = self.anchors[anchor]
        self._count(count, height, line)
        self._attach(value, line, count, height, value if isinstance(value, str) else None)

    def _attach(self, value: Any, line: int, count: int, height: int, key: str | None) -> None:
        """Put a finished value into its parent (as a key or a value) or make it the root."""
        if not self.stack:
            self.root = value
            return
        parent = self.stack[-1]
        parent.count += count
        parent.height = max(parent.height, height + 1)
        container = parent.value
        if isinstance(container, list):
            container.append(value)
        elif parent.key is None:
            if key is None:
                raise TemplateError("mapping keys must be plain strings", line)
            if key in container.lines:
                raise TemplateError(f"duplicate key {key!r}", line)
            container.lines[key] = line
            parent.key = key
        else:
            container[parent.key] = value
            parent.key = None


def _parse_json(text: str) -> Any:
    """Strict JSON, for the rare JSON template YAML cannot read; resource lines found by search."""
    try:
        data = json.loads(text, object_pairs_hook=_json_object)
    except json.JSONDecodeError as exc:
        raise TemplateError(f"invalid JSON: {exc.msg}", exc.lineno) from None
    except RecursionError:
        raise TemplateError(f"template nests deeper than {MAX_DEPTH} levels") from None
    if _height(data) > MAX_DEPTH:
        raise TemplateError(f"template nests deeper than {MAX_DEPTH} levels")
    _locate_resources(data, text)
    return data


def _json_object(pairs: list[tuple[str, Any]]) -> LineDict:
    mapping = LineDict()
    for key, value in pairs:
        if key in mapping:
            raise TemplateError(f"duplicate key {key!r}")
        mapping[key] = value
    return mapping


def _height(value: Any) -> int:
    """Nesting levels of dicts and lists in `value`, without recursion."""
    deepest, todo = 0, [(value, 0)]
    while todo:
        value, depth = todo.pop()
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else None
        if children is not None:
            deepest = max(deepest, depth + 1)
            todo.extend((child, depth + 1) for child in children)
    return deepest


def _locate_resources(data: Any, text: str) -> None:
    """Record the lines of `"Resources"` and of each logical id after it."""
    found = re.search(r'"Resources"\s*:', text)
    if not isinstance(data, LineDict) or not found:
        return
    pos, line = found.start(), text.count("\n", 0, found.start()) + 1
    data.lines["Resources"] = line
    resources = data.get("Resources")
    if not isinstance(resources, LineDict):
        return
    for logical_id in resources:
        found = re.compile(re.escape(json.dumps(logical_id)) + r"\s*:").search(text, pos)
        if found:
            line += text.count("\n", pos, found.start())
            pos = found.start()
            resources.lines[logical_id] = line
