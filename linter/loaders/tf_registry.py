"""Resources of well-known registry modules that `terraform init` has not downloaded.

tfparse evaluates a registry or git module only when its code is on disk (listed in
`.terraform/modules/modules.json`); otherwise it returns the `module` block alone. For the
modules described in `policies/evidence/registry_modules.yaml`, this module builds the
resources the module would create from the block's inputs and the module's defaults, with
the addresses Terraform gives them (`module.batch.aws_batch_compute_environment.this["gpu"]`),
the module block's file and line, and the note `module input: module.batch (<source>)`.
Values that cannot be known stay UNKNOWN; a resource whose existence cannot be known is left
out. Any other module still produces nothing.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Mapping

from mllint.paths import policies_dir
from mllint.records import UNKNOWN, Link, Resource
from mllint.yamlio import load_file

ABSENT = object()  # an input that is not set (Terraform's null for an optional input)
_LAST_MODULE = re.compile(r'module\.[^.\[]+(?:\[(?:\d+|"(?:[^"\\]|\\.)*")\])?$')
_REGISTRY_HOST = re.compile(r"^(?:registry\.terraform\.io|registry\.opentofu\.org)/")
# github.com/<owner>/terraform-<provider>-<name>, in any of the URL forms Terraform accepts.
_GITHUB = re.compile(r"^(?:git::)?(?:https://|ssh://git@|git@)?github\.com[/:](?P<owner>[^/]+)/terraform-(?P<provider>[a-z0-9]+)-(?P<name>[^/?]+?)(?:\.git)?$")


@lru_cache(maxsize=1)
def catalogue() -> Mapping[str, dict]:
    """Module address (`owner/name/provider[//subdir]`) -> its description."""
    return load_file(policies_dir() / "evidence" / "registry_modules.yaml")["modules"]


def module_address(source: Any) -> str | None:
    """`terraform-aws-modules/batch/aws` for the registry and GitHub forms of the module's
    source (version pins, `?ref=` and `//subdir` handled); None for anything else."""
    if not isinstance(source, str):
        return None
    source = source.split("?", 1)[0]
    path, _, subdir = source.partition("//") if not source.startswith(("https://", "ssh://", "git::")) else _split_url(source)
    path = _REGISTRY_HOST.sub("", path)
    github = _GITHUB.match(path)
    if github:
        path = f"{github['owner']}/{github['name']}/{github['provider']}"
    address = path + (f"//{subdir.strip('/')}" if subdir.strip("/") else "")
    return address if address in catalogue() else None


def _split_url(source: str) -> tuple[str, str, str]:
    """A URL source's repository and `//subdir` (the scheme's `//` is not a subdir)."""
    scheme, _, rest = source.partition("://")
    path, sep, subdir = rest.partition("//")
    return f"{scheme}://{path}", sep, subdir


def registry_resources(module_blocks: list[dict], converter: Any) -> list[Resource]:
    """Resources of every recognised module call whose code tfparse did not load.

    `converter` is the Terraform loader's converter: it turns the block's arguments into
    props (`arguments`) and knows the module directory, scan root and unit.
    """
    loaded = {b["__tfmeta"].get("path", "") for b in converter.blocks}
    found: list[Resource] = []
    for block in module_blocks:
        meta = block.get("__tfmeta") if isinstance(block, dict) else None
        address = module_address(block.get("source")) if meta else None
        path = meta.get("path") if meta else None
        if address is None or not path or any(p.startswith(path + ".") for p in loaded):
            continue  # not recognised, or downloaded (tfparse evaluated its code)
        inputs, refs = converter.arguments(block, _LAST_MODULE.sub("", path))  # read in the caller's scope
        file = Path(os.path.normpath(converter.module_dir / meta["filename"]))
        site = _Site(
            file=os.path.relpath(file, converter.root).replace(os.sep, "/"),
            line=meta["line_start"],
            unit=converter.unit,
            refs=refs,
            note=f"module input: {path} ({block.get('source')})",
        )
        found.extend(_expand(address, inputs, path + ".", site))
    return found


@dataclass(frozen=True)
class _Site:
    """Where a module call is written, shared by every resource it expands to."""

    file: str
    line: int
    unit: str
    refs: tuple[str, ...]  # caller resources its inputs reference
    note: str


def _expand(address: str, inputs: dict, prefix: str, site: _Site) -> list[Resource]:
    spec = catalogue()[address]
    if any(_condition(name, _reader(inputs)) is not True for name in spec.get("switches", ())):
        return []
    found: list[Resource] = []
    for resource in spec.get("resources", ()):
        found.extend(_instances(resource, inputs, prefix, site))
    for call in spec.get("calls", ()):
        items = _read(inputs, call["for_each"])
        for key, item in sorted(items.items()) if isinstance(items, dict) else ():
            if not isinstance(item, dict):
                continue
            scope = _Scope(inputs, item, key, prefix)
            callee = dict(item)
            for name, value_spec in call.get("inputs", {}).items():
                value = _value(value_spec, scope)
                if value is not ABSENT:
                    callee[name] = value
            found.extend(_expand(call["module"], callee, f'{prefix}module.{call["name"]}[{_key(key)}].', site))
    return found


def _instances(spec: dict, inputs: dict, prefix: str, site: _Site) -> list[Resource]:
    """The instances of one resource block of the module, with their props."""
    conditions = spec.get("count", spec.get("when", ()))
    if any(_condition(c, _reader(inputs)) is not True for c in conditions):
        return []
    suffix = "[0]" if "count" in spec else ""
    if "for_each" not in spec:
        return [_resource(spec, _Scope(inputs, inputs, None, prefix), prefix + spec["address"] + suffix, site)]
    items = _read(inputs, spec["for_each"])
    if items is ABSENT:
        items = spec.get("for_each_default", {})
    if not isinstance(items, dict):
        return []  # the keys cannot be known, so neither can the addresses
    found = []
    for key, item in sorted(items.items()):
        if not isinstance(item, dict) or any(_condition(c, _reader(item)) is not True for c in spec.get("where", ())):
            continue
        found.append(_resource(spec, _Scope(inputs, item, key, prefix), f"{prefix}{spec['address']}[{_key(key)}]", site))
    return found


def _resource(spec: dict, scope: "_Scope", address: str, site: _Site) -> Resource:
    props = {}
    for name, value_spec in spec.get("props", {}).items():
        value = _value(value_spec, scope)
        if value is not ABSENT:
            props[name] = value
    links = {v.address for v in _walk(props) if isinstance(v, Link)}
    kind, _, _ = spec["address"].partition(".")
    return Resource(
        framework="terraform",
        type=kind,
        address=address,
        file=site.file,
        line=site.line,
        unit=site.unit,
        props=props,
        refs=tuple(sorted(links | set(site.refs) - {address})),
        notes=(site.note,),
    )


class _Scope:
    """What a value spec reads: the module's inputs, the current item (for_each entry or
    nested object) and its key, and the module instance's address prefix."""

    def __init__(self, inputs: dict, item: Any, key: Any, prefix: str):
        self.inputs, self.item, self.key, self.prefix = inputs, item, key, prefix

    def read(self, path: str) -> Any:
        """`var.x` reads the module's inputs; any other path reads the item."""
        if path.startswith("var."):
            return _read(self.inputs, path[4:])
        return _read(self.item, path)

    def within(self, item: Any, key: Any = None) -> "_Scope":
        return _Scope(self.inputs, item, key, self.prefix)


def _reader(obj: Any) -> Callable[[str], Any]:
    """Reads paths in `obj` (a `var.` prefix is allowed: the module's inputs are `obj`)."""
    return lambda path: _read(obj, path[4:] if path.startswith("var.") else path)


def _read(obj: Any, path: str) -> Any:
    """The value at a dotted path: ABSENT when unset, UNKNOWN when it cannot be known."""
    if path == ".":
        return obj
    current = obj
    for part in path.split("."):
        if current is UNKNOWN:
            return UNKNOWN
        if not isinstance(current, dict) or part not in current:
            return ABSENT
        current = current[part]
    return current


def _condition(condition: Any, read: Callable[[str], Any]) -> Any:
    """True / False / UNKNOWN: one condition, its paths read with `read`."""
    if isinstance(condition, str):
        condition = {"input": condition}
    if "any" in condition:
        verdicts = [_condition(c, read) for c in condition["any"]]
        return True if True in verdicts else UNKNOWN if UNKNOWN in verdicts else False
    for test, check in _TESTS.items():
        if test in condition:
            value = read(condition[test])
            return UNKNOWN if value is UNKNOWN else check(value)
    value = read(condition["input"])
    if value is ABSENT:
        value = condition.get("default", True)
    if value is UNKNOWN:
        return UNKNOWN
    return value == condition["equals"] if "equals" in condition else value is True


_TESTS: dict[str, Callable[[Any], bool]] = {
    "present": lambda value: value is not ABSENT,
    "absent": lambda value: value is ABSENT,
    "nonempty": lambda value: value is not ABSENT and bool(value),
}


def _value(spec: Any, scope: _Scope) -> Any:
    """The value one spec gives in `scope` (ABSENT: the attribute is not set)."""
    if isinstance(spec, str):
        spec = {"input": spec}
    if any(_condition(c, scope.read) is not True for c in spec.get("when", ())):
        return ABSENT
    for form, build in _FORMS.items():
        if form in spec:
            return build(spec, scope)
    raise ValueError(f"unknown value spec {spec!r}")


def _input(spec: dict, scope: _Scope) -> Any:
    value = scope.read(spec["input"])
    if value is ABSENT:
        if spec.get("or_key") and scope.key is not None:
            return scope.key
        value = spec.get("default", ABSENT)
    if "format" in spec and value is not ABSENT:
        return UNKNOWN if value is UNKNOWN or isinstance(value, Link) else spec["format"].format(value)
    return value


def _block(spec: dict, scope: _Scope) -> Any:
    obj = scope.read(spec["block"]) if spec["block"] != "." else scope.item
    if obj is ABSENT:
        obj = spec.get("default", ABSENT)
    if obj is ABSENT or obj is UNKNOWN:
        return obj
    if not isinstance(obj, dict):
        return UNKNOWN
    fields = _fields(spec, obj, scope.within(obj, scope.key))
    return fields if spec.get("single") else [fields]


def _blocks(spec: dict, scope: _Scope) -> Any:
    items = scope.read(spec["blocks"])
    if items is ABSENT or items is UNKNOWN:
        return items
    pairs = sorted(items.items()) if isinstance(items, dict) else list(enumerate(items)) if isinstance(items, list) else None
    if pairs is None:
        return UNKNOWN
    found = []
    for key, item in pairs:
        if not isinstance(item, dict):
            return UNKNOWN
        if any(_condition(c, _reader(item)) is not True for c in spec.get("where", ())):
            continue
        found.append(_fields(spec, item, scope.within(item, key if isinstance(items, dict) else None)))
    return found


def _fields(spec: dict, obj: dict, scope: _Scope) -> dict:
    """A nested block's arguments: the object's own (with `pass`), then the spec's props."""
    fields = {}
    if spec.get("pass"):
        dropped = set(spec.get("drop", ()))
        fields = {k: v for k, v in obj.items() if k not in dropped and not (spec.get("drop_snake") and "_" in k)}
    for name, value_spec in spec.get("props", {}).items():
        value = _value(value_spec, scope)
        if value is not ABSENT:
            fields[name] = value
        else:
            fields.pop(name, None)
    return fields


def _link(spec: dict, scope: _Scope) -> Any:
    key = scope.read(spec["link"])
    if key is ABSENT or key is UNKNOWN or not isinstance(key, str):
        return UNKNOWN if key is not ABSENT else ABSENT
    return Link(f"{scope.prefix}{spec['to']}[{_key(key)}]", spec.get("attr"))


def _links(spec: dict, scope: _Scope) -> Any:
    if scope.read(spec["unless"]) is not ABSENT if "unless" in spec else False:
        return ABSENT
    keys = scope.read(spec["links"])
    if keys is ABSENT and "keys_of" in spec:
        targets = scope.read(spec["keys_of"])
        keys = sorted(targets)[:3] if isinstance(targets, dict) else targets  # the module takes at most 3
    if keys is ABSENT or keys is UNKNOWN or not isinstance(keys, list):
        return UNKNOWN if keys is not ABSENT else ABSENT
    return [Link(f"{scope.prefix}{spec['to']}[{_key(k)}]", spec.get("attr")) if isinstance(k, str) else UNKNOWN for k in keys]


def _ref(spec: dict, scope: _Scope) -> Any:
    return Link(scope.prefix + spec["ref"], spec.get("attr"))


def _merge(spec: dict, scope: _Scope) -> Any:
    merged: dict = {}
    for path in spec["merge"]:
        value = scope.read(path)
        if value is UNKNOWN or (value is not ABSENT and not isinstance(value, dict)):
            return UNKNOWN
        merged.update(value if isinstance(value, dict) else {})
    return merged


def _first(spec: dict, scope: _Scope) -> Any:
    for option in spec["first"]:
        value = _value(option, scope)
        if value is not ABSENT:
            return value
    return ABSENT


_FORMS: dict[str, Callable[[dict, _Scope], Any]] = {
    "input": _input,
    "const": lambda spec, scope: spec["const"],
    "unknown": lambda spec, scope: UNKNOWN,
    "block": _block,
    "blocks": _blocks,
    "link": _link,
    "links": _links,
    "ref": _ref,
    "merge": _merge,
    "first": _first,
}


def _key(key: Any) -> str:
    """An instance key as Terraform writes it: `0` or `"gpu"`."""
    return str(key) if isinstance(key, int) else json.dumps(str(key))


def _walk(value: Any):
    if isinstance(value, dict):
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)
    else:
        yield value
