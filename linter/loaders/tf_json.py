"""What tfparse loses from Terraform JSON (`*.tf.json`, CDK for Terraform's `cdk.tf.json`).

tfparse evaluates `.tf.json` like `.tf`, with three differences this module makes up for,
reading the file's own JSON again:

* A template it cannot evaluate (`"${aws_ecs_task_definition.t.family}:${...revision}"`)
  comes back as `null`, where from HCL it comes back as text the loader reads as a
  reference; `restore` puts such a string back when it only reads references.
* Without a schema it cannot tell a nested block from a map, so `"//"` comment keys
  inside nested objects survive and `dynamic` blocks are not expanded; `restore` drops
  the comments and makes a dynamic block's value unknown.
* CDK for Terraform's construct path (`"//": {"metadata": {"path": ...}}`) is dropped;
  `JsonBodies.body` gives the loader the resource's JSON to read it from
  (`mllint.loaders.cdktf.construct_notes`).
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

COMMENT_KEY = "//"
# A string whose every `${...}` is a plain reference (`aws_x.y.attr`, `var.v`, `x.y[0].z`).
_REFERENCE = r'[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*|\[(?:\d+|"[^"\\]*")\])*'
_INTERPOLATION = re.compile(r"(?<!\$)\$\{([^}]*)\}")
_PLAIN_REFERENCE = re.compile(rf"\s*{_REFERENCE}\s*")


def is_json_file(filename: str) -> bool:
    return filename.endswith(".tf.json")


class JsonBodies:
    """The raw bodies of resource blocks in a module's `.tf.json` files, each file read once."""

    def __init__(self, module_dir: Path):
        self.module_dir = module_dir
        self._documents: dict[str, Any] = {}

    def body(self, filename: str, resource_type: str, name: str) -> dict | None:
        """The JSON object that defines `resource_type.name` in `filename` (relative to the module)."""
        if filename not in self._documents:
            self._documents[filename] = _read(self.module_dir / filename)
        for by_type in _objects(self._documents[filename], "resource"):
            for by_name in _objects(by_type, resource_type):
                for body in _objects(by_name, name):
                    return body
        return None


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # the loader reports unreadable or invalid files


def _objects(container: Any, key: str) -> list[dict]:
    """`container[key]` as a list of objects: Terraform JSON allows an array of objects
    wherever it allows an object, to repeat keys."""
    parts = container if isinstance(container, list) else [container]
    found = []
    for part in parts:
        value = part.get(key) if isinstance(part, dict) else None
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict):
                found.append(item)
    return found


def restore(block: dict, raw: dict) -> dict:
    """tfparse's `block` for a resource with what `raw` (its JSON body) says tfparse lost."""
    restored = {
        key: value if key == "__tfmeta" else _restore(value, raw.get(key))
        for key, value in block.items()
        if key != COMMENT_KEY
    }
    dynamic = restored.pop("dynamic", None)
    if isinstance(dynamic, dict):
        for name in dynamic:
            if name != COMMENT_KEY:
                restored[name] = None  # the blocks it generates are not known: unknown, not absent
    return restored


def _restore(value: Any, raw: Any) -> Any:
    if value is None and isinstance(raw, str) and _only_references(raw):
        return raw
    if isinstance(value, dict):
        raw_dict = raw if isinstance(raw, dict) else {}
        return {k: _restore(v, raw_dict.get(k)) for k, v in value.items() if k != COMMENT_KEY}
    if isinstance(value, list):
        raw_list = raw if isinstance(raw, list) and len(raw) == len(value) else [None] * len(value)
        return [_restore(v, r) for v, r in zip(value, raw_list)]
    return value


def _only_references(text: str) -> bool:
    expressions = _INTERPOLATION.findall(text)
    return bool(expressions) and all(_PLAIN_REFERENCE.fullmatch(e) for e in expressions)


def block_bodies(text: str, kind: str) -> list[tuple[str, dict]]:
    """(label, body) of every `kind` block (`module`, `variable`) in a Terraform JSON document
    ([] if it is not valid JSON)."""
    try:
        document = json.loads(text)
    except ValueError:
        return []
    return [
        (name, body)
        for by_name in _objects(document, kind)
        for name in by_name
        if name != COMMENT_KEY
        for body in _objects(by_name, name)
    ]
