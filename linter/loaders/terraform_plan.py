"""Load a Terraform plan or state as JSON (`terraform show -json`) into `Resource`s.

A plan's resources come from `planned_values` (managed resources only, through
every `child_modules` level, with Terraform's addresses). Their values are the
`resource_changes[].change.after` objects, where `after_unknown` marks what is
known only after apply: UNKNOWN, or a `Link` when the resource's `configuration`
expression reads exactly one resource of the plan (directly, or through a module
input or output). Instances that the plan deletes are left out. A state
(`values.root_module`) is fully known and has no configuration.

Values follow the conventions of `mllint.records` and of the Terraform loader: a
known `null`, an empty block list `[]` or an empty string (what the AWS provider
stores for an argument left out) drops the key, so AWS defaults apply; nested
blocks are lists of dicts; JSON-string attributes stay strings.
"""
from __future__ import annotations

import bisect
import json
import re
from pathlib import Path
from typing import Any, Iterator

from mllint.directives import attach
from mllint.loaders.tf_suppressions import without_keys
from mllint.records import UNKNOWN, LoadError, LoadResult, Link, Resource

MAX_BYTES = 200 * 1024 * 1024
SUPPORTED_MAJOR = ("0", "1")
_NOT_RESOURCES = {"var", "local", "data", "module", "each", "count", "path", "self", "terraform"}
_KEY = r'\[(?:\d+|"(?:[^"\\]|\\.)*")\]'
# `aws_x.y`, `aws_x.y[0]`, `aws_x.y["k"].arn` as Terraform lists them in `references`.
_RESOURCE_REF = re.compile(rf'^(?P<type>[A-Za-z][\w-]*)\.(?P<name>[A-Za-z_][\w-]*)(?P<key>{_KEY})?(?:\.(?P<attr>[A-Za-z_][\w-]*))?')
_VARIABLE_REF = re.compile(r"^var\.(?P<name>[A-Za-z_][\w-]*)")
_OUTPUT_REF = re.compile(rf"^module\.(?P<call>[A-Za-z_][\w-]*)(?P<key>{_KEY})?\.(?P<output>[A-Za-z_][\w-]*)")
_INSTANCE_KEY = re.compile(rf"{_KEY}$")
_MODULE_STEP = re.compile(rf"module\.(?P<call>[A-Za-z_][\w-]*)(?:{_KEY})?\.")
_ADDRESS_KEY = re.compile(r'(?<!\\)"address"\s*:\s*(?P<address>"(?:[^"\\]|\\.)*")')
_DROP = object()  # a value that means "not set": its key is left out
# PowerShell's `>` writes UTF-16: `terraform show -json plan.out > plan.json` on Windows.
_BOMS = ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
MAX_DEPTH = 32  # module inputs and outputs followed through at most this many steps


class PlanError(Exception):
    """The file is not a readable plan or state; `line` is 1-based, 0 when unknown."""

    def __init__(self, message: str, line: int = 0):
        super().__init__(message)
        self.message, self.line = message, line


def load_plan(path: Path, root: Path) -> LoadResult:
    """Load one `terraform show -json` file; paths in the result are relative to `root`."""
    path, root = Path(path), Path(root)
    try:
        rel = path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        rel = path.as_posix()
    result = LoadResult(unit=rel)
    try:
        text = _read(path)
        document = _parse(text)
        resources = list(_Plan(document, text, rel).resources())
    except PlanError as exc:
        result.errors.append(LoadError(rel, exc.line, exc.message))
        return result
    result.resources, result.suppressions = attach(resources, [], target=lambda r: without_keys(r.address))
    return result


def _read(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise PlanError(f"file too large ({size / 1024 / 1024:.1f} MB > {MAX_BYTES // 1024 // 1024} MB)")
        data = path.read_bytes()
    except OSError as exc:
        raise PlanError(f"cannot read file: {exc.strerror or exc}") from None
    codec = next((codec for bom, codec in _BOMS if data.startswith(bom)), "utf-8-sig")
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        raise PlanError(f"file is not valid {codec.removesuffix('-sig').upper()}", data[: exc.start].count(b"\n") + 1) from None


def _parse(text: str) -> dict:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanError(f"invalid JSON: {exc.msg}", exc.lineno) from None
    except RecursionError:
        raise PlanError("invalid JSON: nested too deeply", 1) from None
    if not isinstance(document, dict):
        raise PlanError("a Terraform plan or state must be a JSON object", 1)
    version = document.get("format_version")
    if not isinstance(version, str) or version.split(".")[0] not in SUPPORTED_MAJOR:
        raise PlanError(f"unsupported format_version {version!r} (expected 1.x from `terraform show -json`)", 1)
    return document


def _given(value: Any, default: Any) -> Any:
    """`value`, or `default` when the key is absent or null."""
    return default if value is None else value


def _expect(value: Any, kind: type, where: str, line: int) -> Any:
    if not isinstance(value, kind):
        wanted = {dict: "an object", list: "an array", str: "a string"}[kind]
        raise PlanError(f"{where} must be {wanted}", line)
    return value


class _Text:
    """Line numbers of places in the JSON text (the parser keeps none)."""

    def __init__(self, text: str):
        self.text = text
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def line(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)

    def key(self, name: str, start: int = 0) -> int:
        """Offset of the first `"name":` at or after `start`, or -1."""
        match = re.compile(rf'(?<!\\)"{re.escape(name)}"\s*:').search(self.text, start)
        return match.start() if match else -1

    def address_lines(self, start: int) -> dict[str, int]:
        """Line of the first `"address": "..."` of each address after `start`."""
        lines: dict[str, int] = {}
        for match in _ADDRESS_KEY.finditer(self.text, max(start, 0)):
            try:
                address = json.loads(match["address"])
            except ValueError:
                continue
            lines.setdefault(address, self.line(match.start()))
        return lines


class _Module:
    """One module instance of the plan: its address prefix and its configuration."""

    def __init__(self, prefix: str, config: dict | None, parent: "_Module | None", call: str | None):
        self.prefix = prefix  # "" or `module.a["k"].module.b.`
        self.config = config  # the configuration representation of the module, if the plan has it
        self.parent = parent
        self.call = call  # the module call name in the parent

        resources = (config or {}).get("resources")
        self.resources = {
            (entry.get("type"), entry.get("name")): entry
            for entry in (resources if isinstance(resources, list) else [])
            if isinstance(entry, dict) and entry.get("mode", "managed") == "managed"
        }

    def call_config(self, name: str) -> dict | None:
        calls = (self.config or {}).get("module_calls")
        call = calls.get(name) if isinstance(calls, dict) else None
        return call if isinstance(call, dict) else None


class _Plan:
    def __init__(self, document: dict, text: str, rel: str):
        self.document, self.rel, self.text = document, rel, _Text(text)
        self.is_plan = "planned_values" in document or "resource_changes" in document
        section = "planned_values" if self.is_plan else "values"
        self.section_offset = self.text.key(section)
        line = self.text.line(self.section_offset) if self.section_offset >= 0 else 1
        values = _expect(_given(document.get(section), {}), dict, section, line)
        self.root_module = _expect(_given(values.get("root_module"), {}), dict, f"{section}.root_module", line)
        self.changes = self._changes() if self.is_plan else {}
        configuration = document.get("configuration")
        root_config = configuration.get("root_module") if isinstance(configuration, dict) else None
        self.root_config = root_config if isinstance(root_config, dict) else None
        self.entries = list(self._entries(self.root_module, f"{section}.root_module", line))
        self.instances = {entry["address"] for entry, _ in self.entries}
        self.by_base: dict[str, list[str]] = {}  # `aws_x.y` -> its instances `aws_x.y[0]`, ...
        for address in sorted(self.instances):
            self.by_base.setdefault(_INSTANCE_KEY.sub("", address), []).append(address)
        self.prefixes = {prefix for _, prefix in self.entries}
        self.lines = self.text.address_lines(self.section_offset)
        self.modules: dict[str, _Module] = {}

    def _changes(self) -> dict[str, dict]:
        changes = _given(self.document.get("resource_changes"), [])
        offset = self.text.key("resource_changes")
        _expect(changes, list, "resource_changes", self.text.line(offset) if offset >= 0 else 1)
        found = {}
        for change in changes:
            if isinstance(change, dict) and isinstance(change.get("address"), str) and "deposed" not in change:
                found[change["address"]] = change
        return found

    def _entries(self, module: dict, where: str, line: int) -> Iterator[tuple[dict, str]]:
        """(resource entry, module prefix) for every managed resource, depth first."""
        for entry in _expect(_given(module.get("resources"), []), list, f"{where}.resources", line):
            if not isinstance(entry, dict) or not isinstance(entry.get("address"), str) or not isinstance(entry.get("type"), str):
                raise PlanError(f"{where}.resources: every resource needs a string address and type", line)
            if entry.get("mode", "managed") == "managed":
                yield entry, _module_prefix(entry["address"])
        for child in _expect(_given(module.get("child_modules"), []), list, f"{where}.child_modules", line):
            if not isinstance(child, dict):
                raise PlanError(f"{where}.child_modules: every module must be an object", line)
            yield from self._entries(child, f"{where}.child_modules", line)

    def resources(self) -> Iterator[Resource]:
        for entry, prefix in self.entries:
            address = entry["address"]
            change = self.changes.get(address)
            if change is not None:
                body = change.get("change")
                if not isinstance(body, dict):
                    raise PlanError(f"resource_changes: {address} has no change object", self.text.line(max(self.text.key("resource_changes"), 0)))
                actions = body.get("actions") or []
                if "create" not in actions and ("delete" in actions or "forget" in actions):
                    continue  # gone after apply
                values, unknown = body.get("after"), body.get("after_unknown")
            else:
                values, unknown = entry.get("values"), None
            if not isinstance(values, dict):
                raise PlanError(f"{address} has no values after apply", self.lines.get(address, 1))
            yield self._resource(entry, prefix, values, unknown, known=change is not None or not self.is_plan)

    def _resource(self, entry: dict, prefix: str, values: dict, unknown: Any, known: bool) -> Resource:
        address = entry["address"]
        module = self._module(prefix)
        config = module.resources.get((entry["type"], entry.get("name")))
        expressions = config.get("expressions") if config else None
        builder = _Builder(self, module, address, known)
        props = builder.object(values, unknown, [expressions] if isinstance(expressions, dict) else [])
        builder.refs.update(self._references(expressions, module))
        builder.refs.discard(address)
        return Resource(
            framework="terraform",
            type=entry["type"],
            address=address,
            file=self.rel,
            line=self.lines.get(address, 1),
            unit=self.rel,
            props=props,
            refs=tuple(sorted(builder.refs)),
        )

    def _module(self, prefix: str) -> _Module:
        """The module instance whose addresses start with `prefix` (configuration found by call names)."""
        if prefix not in self.modules:
            if not prefix:
                self.modules[prefix] = _Module("", self.root_config, None, None)
            else:
                steps = list(_MODULE_STEP.finditer(prefix))
                parent = self._module(prefix[: steps[-1].start()])
                call = steps[-1]["call"]
                called = parent.call_config(call)
                child = called.get("module") if called else None
                self.modules[prefix] = _Module(prefix, child if isinstance(child, dict) else None, parent, call)
        return self.modules[prefix]

    def _called(self, module: _Module, call: str, key: str | None) -> _Module | None:
        """The one instance of module call `call` (with instance `key`, if given) that `module` makes."""
        found = set()
        for prefix in self.prefixes:
            step = _MODULE_STEP.match(prefix, len(module.prefix)) if prefix.startswith(module.prefix) else None
            if step is not None and step["call"] == call:
                found.add(prefix[: step.end()])
        if key:
            found &= {f"{module.prefix}module.{call}{key}."}
        return self._module(found.pop()) if len(found) == 1 else None

    def _references(self, expressions: Any, module: _Module) -> set[str]:
        """Every resource the resource's arguments read, where the reference names one instance."""
        found: set[str] = set()
        for references in _all_references(expressions):
            found.update(self.resolve(references, module, 0))
        return found

    def resolve(self, references: list, module: _Module, depth: int) -> dict[str, set[str]]:
        """Resource instances (address -> attributes read) that an expression's references name
        unambiguously; module inputs and outputs are followed into the calling or called module."""
        found: dict[str, set[str]] = {}
        if depth > MAX_DEPTH:
            return found
        for reference in references:
            if not isinstance(reference, str):
                continue
            for address, attr in self._resolve_one(reference, module, depth):
                attrs = found.setdefault(address, set())
                if attr:
                    attrs.add(attr)
        return found

    def _resolve_one(self, reference: str, module: _Module, depth: int) -> list[tuple[str, str | None]]:
        variable = _VARIABLE_REF.match(reference)
        if variable:
            if module.parent is None:
                return []
            called = module.parent.call_config(module.call)
            expressions = called.get("expressions") if called else None
            expression = expressions.get(variable["name"]) if isinstance(expressions, dict) else None
            return _flatten(self.resolve(_own_references(expression), module.parent, depth + 1))
        output = _OUTPUT_REF.match(reference)
        if output:
            child = self._called(module, output["call"], output["key"])
            outputs = (child.config or {}).get("outputs") if child else None
            declared = outputs.get(output["output"]) if isinstance(outputs, dict) else None
            expression = declared.get("expression") if isinstance(declared, dict) else None
            return _flatten(self.resolve(_own_references(expression), child, depth + 1)) if child else []
        match = _RESOURCE_REF.match(reference)
        if match is None or match["type"] in _NOT_RESOURCES:
            return []
        base = f"{module.prefix}{match['type']}.{match['name']}"
        if match["key"]:
            candidates = {base + match["key"]} & self.instances
        elif base in self.instances:
            candidates = {base}
        else:
            candidates = set(self.by_base.get(base, ()))
        return [(candidates.pop(), match["attr"])] if len(candidates) == 1 else []


def _module_prefix(address: str) -> str:
    """`module.a["k"].module.b.` of `module.a["k"].module.b.aws_x.y[0]`."""
    end = 0
    while True:
        step = _MODULE_STEP.match(address, end)
        if step is None:
            return address[:end]
        end = step.end()


def _flatten(found: dict[str, set[str]]) -> list[tuple[str, str | None]]:
    return [(address, next(iter(attrs)) if len(attrs) == 1 else None) for address, attrs in found.items()]


def _own_references(expression: Any) -> list:
    references = expression.get("references") if isinstance(expression, dict) else None
    return references if isinstance(references, list) else []


def _all_references(expressions: Any) -> Iterator[list]:
    """The `references` list of every expression inside a block expressions representation."""
    if isinstance(expressions, list):
        for item in expressions:
            yield from _all_references(item)
    elif isinstance(expressions, dict):
        references = expressions.get("references")
        if isinstance(references, list):
            yield references
        for key, value in expressions.items():
            if key not in ("references", "constant_value") and isinstance(value, (dict, list)):
                yield from _all_references(value)


class _Builder:
    """Turns one resource's `after` value (with `after_unknown`) into normalised props."""

    def __init__(self, plan: _Plan, module: _Module, address: str, known: bool):
        self.plan, self.module, self.address = plan, module, address
        self.known = known  # False: a null may be a value known only after apply
        self.refs: set[str] = set()

    def object(self, values: dict, unknown: Any, expressions: list, keys: str = "argument") -> dict:
        """A block's arguments (`keys` "argument") or a map's entries ("map"): unset values drop their key."""
        props = {}
        for key, value in values.items():
            converted = self.value(value, _at(unknown, key), [e.get(key) for e in expressions if isinstance(e, dict)], keys)
            if converted is not _DROP:
                props[key] = converted
        for key in unknown if isinstance(unknown, dict) else ():
            if key not in values and unknown[key] is True:
                props[key] = self.unknown([e.get(key) for e in expressions if isinstance(e, dict)])
        return props

    def value(self, value: Any, unknown: Any, expressions: list, where: str) -> Any:
        """`where`: "argument" of a block, "map" entry or list "item" (where unset means nothing)."""
        if unknown is True:
            return self.unknown(expressions)
        if value is None:
            return _DROP if self.known and where != "item" else UNKNOWN
        if isinstance(value, list):
            if not value and where == "argument":
                return _DROP
            return [self.value(item, _at(unknown, index), _matching(item, expressions), "item") for index, item in enumerate(value)]
        if isinstance(value, dict):
            # a dict in a list is a nested block; as an argument's value, a map (or object)
            keys = "argument" if where == "item" else "map"
            return self.object(value, unknown, [e for e in expressions if isinstance(e, dict)], keys)
        if value == "" and where == "argument":
            return _DROP
        return value

    def unknown(self, expressions: list) -> Any:
        """A value known only after apply: a Link when its expression reads exactly one resource."""
        found: dict[str, set[str]] = {}
        for expression in expressions:
            for address, attrs in self.plan.resolve(_own_references(expression), self.module, 0).items():
                found.setdefault(address, set()).update(attrs)
        found.pop(self.address, None)
        if len(found) != 1:
            return UNKNOWN
        address, attrs = found.popitem()
        self.refs.add(address)
        return Link(address, next(iter(attrs)) if len(attrs) == 1 else None)


def _at(unknown: Any, key: Any) -> Any:
    """The part of an `after_unknown` value at a key or index (True: unknown as a whole)."""
    if unknown is True:
        return True
    if isinstance(unknown, dict) and isinstance(key, str):
        return unknown.get(key)
    if isinstance(unknown, list) and isinstance(key, int) and key < len(unknown):
        return unknown[key]
    return None


def _matching(item: Any, expressions: list) -> list:
    """The configuration blocks that a nested block of `after` may come from.

    Block lists hold one expressions object per block as written; sets come back
    in another order, so a block is matched by the constant arguments it agrees
    on, and stays ambiguous (several candidates) when they don't decide.
    """
    whole = [e for e in expressions if isinstance(e, dict)]  # a list argument's expression reads for every element
    blocks = [block for expression in expressions if isinstance(expression, list) for block in expression if isinstance(block, dict)]
    if not isinstance(item, dict) or len(blocks) <= 1:
        return whole + blocks
    agreeing = [block for block in blocks if _agrees(item, block)]
    return whole + (agreeing or blocks)


def _agrees(item: dict, block: dict) -> bool:
    for key, expression in block.items():
        if isinstance(expression, dict) and "constant_value" in expression and key in item:
            constant, value = expression["constant_value"], item[key]
            if isinstance(constant, (str, int, float, bool)) and isinstance(value, (str, int, float, bool)) and constant != value:
                return False
    return True
