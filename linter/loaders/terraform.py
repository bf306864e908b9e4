"""Load one Terraform root module with tfparse and turn its blocks into `Resource`s.

`load_module` runs inside a worker process (see `mllint.workers`): tfparse is
native Go code that can panic or never return, so the parent never imports it.
The value conventions (UNKNOWN, Link, nested blocks as lists) are those of
`mllint.records`.
"""
from __future__ import annotations

import os
import re
import stat
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

from mllint.discover import MAX_TF_BYTES as MAX_FILE_BYTES
from mllint.loaders.files import NOT_REGULAR, cannot_read
from mllint.loaders import cdktf, tf_json
from mllint.loaders.tf_registry import registry_resources
from mllint.loaders.tf_suppressions import read_suppressions
from mllint.loaders.tf_modules import MANIFEST, downloaded_modules, local_module_calls, source_errors
from mllint.loaders.tf_types import variable_type_errors
from mllint.loaders.tf_standins import without_stand_ins
from mllint.records import UNKNOWN, LoadError, LoadResult, Link, Resource

MAX_NESTING = 500  # brackets; from ~1,000 tfparse's output is too deep to decode, at ~100,000 its Go stack overflows
_BRACKET = re.compile(rb"[()\[\]{}]")
# Terraform's reserved meta-arguments: they steer Terraform, they are not resource settings.
META_ARGUMENTS = {"count", "for_each", "depends_on", "provider", "lifecycle", "provisioner", "connection"}
_CHECKED_SUFFIXES = (".tf", ".tf.json", ".tfvars", ".tfvars.json")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_EMBEDDED_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# The `module.a[0].module.b["k"].` part of an address.
_MODULE_PREFIX = re.compile(r'^(?:module\.[^.\[]+(?:\[(?:\d+|"(?:[^"\\]|\\.)*")\])?\.)*')
# An unresolved reference as tfparse spells it: `aws_x.y.attr`, `aws_x.y[0].attr`, `aws_x.y.[0].attr`.
_REFERENCE = re.compile(r'^(?P<type>[A-Za-z][\w-]*)\.(?P<name>[A-Za-z_][\w-]*)\.?(?P<key>\[[^\]]*\])?(?:\.(?P<attr>.+))?$')
# A `${...}` left in a string by tfparse: an expression it could not evaluate (not `$${X}`,
# which evaluates to a literal `${X}` such as a shell variable in user data).
_TEMPLATE_EXPRESSION = re.compile(r"\$\{\s*((?:var|local|data|module|each|count|path|self|[a-z][a-z0-9]*_[a-z0-9_]+)\.[^}]*?)\s*\}")
# Data source attributes that follow from the data source's own arguments, with no call to AWS
# (the account and region parts stay placeholders): (data type, attribute) -> format string.
DERIVED_DATA_ATTRIBUTES = {
    ("aws_sagemaker_prebuilt_ecr_image", "registry_path"): "${{registry}}/{repository_name}:{image_tag}",
}
DERIVED_DATA_DEFAULTS = {"aws_sagemaker_prebuilt_ecr_image": {"image_tag": "1"}}  # the provider's default tag
_INSTANCE_KEY = re.compile(r'\[(?:\d+|"(?:[^"\\]|\\.)*")\]$')
_NOT_RESOURCES = {"var", "local", "data", "module", "each", "count", "path", "self", "terraform"}
# `main.tf:12,3-4: Summary; detail` (the range may span lines: `b.tf:2,10-3,1:`).
_DIAGNOSTIC = re.compile(
    r"(?P<file>[^\s:][^:\n]*?\.(?:tf|tf\.json|tfvars|tfvars\.json)):(?P<line>\d+),\d+(?:-\d+(?:,\d+)?)?: (?P<message>.+)",
    re.DOTALL,
)
_ERROR_PREFIX = "unable to create TerraformConverter: "
_MORE_DIAGNOSTICS = re.compile(r"\.?, and (\d+) other diagnostic\(s\)$")


def load_module(module_dir: Path, root: Path, var_files: Sequence[Path] = ()) -> LoadResult:
    """Evaluate the root module in `module_dir` (with the local modules it calls).

    Variable files load as Terraform loads them: `terraform.tfvars[.json]`, then
    `*.auto.tfvars[.json]`, then `var_files` (relative to the working directory or
    absolute); later files win. Paths in the result are relative to `root`.
    """
    module_dir, root = Path(module_dir).resolve(), Path(root).resolve()
    unit = _rel(module_dir, root)
    result = LoadResult(unit)
    try:
        names = sorted(os.listdir(module_dir))
    except OSError as exc:
        result.errors.append(LoadError(unit, 0, f"cannot read directory: {exc.strerror or exc}"))
        return result
    result.errors = _check_files(module_dir, names, root) + _check_manifest(module_dir, root) + _check_called_modules(module_dir, root)
    vars_paths = _auto_var_files(names)
    for var_file in var_files:
        path = Path(var_file).resolve()
        if not path.is_file():
            result.errors.append(LoadError(_rel(path, root), 0, "variable file not found"))
        vars_paths.append(os.path.relpath(path, module_dir))  # tfparse joins every path onto the module dir
    cycle = _module_cycle(module_dir)
    if cycle:
        chain = " -> ".join(_rel(d, root) for d in cycle)
        result.errors.append(LoadError(unit, 0, f"local modules call each other in a cycle ({chain}); the module was not evaluated"))
    if result.errors:
        return result

    import tfparse

    try:
        data = tfparse.load_from_path(
            str(module_dir), stop_on_hcl_error=True, allow_downloads=False, vars_paths=vars_paths
        )
    except tfparse.ParseError as exc:
        result.errors.append(_parse_error(str(exc), module_dir, root, unit))
        return result
    converter = _Converter(data, module_dir, root, unit)
    resources = converter.resources() + registry_resources(data.get("module", []), converter)
    result.resources, result.suppressions = read_suppressions(data, resources, module_dir, root)
    result.errors.extend(_local_module_errors(module_dir, root))
    return result


def _called_modules(module_dir: Path) -> list[Path]:
    """Every local module directory `module_dir` calls, directly or through other local modules."""
    seen: list[Path] = []
    pending = [module_dir]
    while pending:
        for callee in sorted(local_module_calls(pending.pop())):
            if callee != module_dir and callee not in seen and callee.is_dir():
                seen.append(callee)
                pending.append(callee)
    return seen


def _module_cycle(module_dir: Path) -> list[Path] | None:
    """A chain of local module calls that returns to a directory already on it (tfparse would loop forever)."""

    def walk(current: Path, chain: list[Path]) -> list[Path] | None:
        for callee in sorted(local_module_calls(current)):
            if callee in chain:
                return chain + [callee]
            if callee.is_dir():
                found = walk(callee, chain + [callee])
                if found:
                    return found
        return None

    return walk(module_dir, [module_dir])


def _local_module_errors(module_dir: Path, root: Path) -> list[LoadError]:
    """Syntax errors in called local modules, which tfparse drops silently when it evaluates the caller."""
    import tfparse

    errors = []
    for callee in _called_modules(module_dir):
        try:
            tfparse.load_from_path(str(callee), stop_on_hcl_error=True, allow_downloads=False)
        except tfparse.ParseError as exc:
            errors.append(_parse_error(str(exc), callee, root, _rel(callee, root)))
    return errors


def _auto_var_files(names: list[str]) -> list[str]:
    """The variable files Terraform loads by itself, in its order (later files win)."""
    auto = [n for n in names if n.endswith((".auto.tfvars", ".auto.tfvars.json"))]
    return [n for n in ("terraform.tfvars", "terraform.tfvars.json") if n in names] + auto


def _check_manifest(module_dir: Path, root: Path) -> list[LoadError]:
    """An error when `.terraform/modules/modules.json` is there but not a regular file (tfparse
    reads it and would wait forever on a pipe)."""
    path = module_dir / MANIFEST
    try:
        regular = stat.S_ISREG(path.stat().st_mode)
    except FileNotFoundError:
        return []
    except OSError as exc:
        return [LoadError(_rel(path, root), 0, cannot_read(path, exc))]
    return [] if regular else [LoadError(_rel(path, root), 0, NOT_REGULAR)]


def _check_called_modules(module_dir: Path, root: Path) -> list[LoadError]:
    """`_check_files` for the Terraform files of every local module `module_dir` calls and of
    every downloaded module (`.terraform/modules`) it calls: tfparse reads them too."""
    errors = []
    called = _called_modules(module_dir)
    for callee in called + [d for d in downloaded_modules(module_dir) if d not in called]:
        try:
            names = sorted(os.listdir(callee))
        except OSError as exc:
            errors.append(LoadError(_rel(callee, root), 0, f"cannot read directory: {exc.strerror or exc}"))
            continue
        errors.extend(_check_files(callee, names, root, suffixes=(".tf", ".tf.json")))
    return errors


def _check_files(module_dir: Path, names: list[str], root: Path, suffixes: tuple[str, ...] = _CHECKED_SUFFIXES) -> list[LoadError]:
    """Errors for module files that are too large, unreadable, not regular files or not UTF-8."""
    errors = []
    for name in names:
        if not name.endswith(suffixes):
            continue
        path = module_dir / name
        rel = _rel(path, root)
        try:
            info = path.stat()
            if stat.S_ISDIR(info.st_mode):
                continue  # Terraform ignores a directory named like a file
            if not stat.S_ISREG(info.st_mode):
                errors.append(LoadError(rel, 0, NOT_REGULAR))
                continue
            if info.st_size > MAX_FILE_BYTES:
                errors.append(LoadError(rel, 0, "file is larger than 20 MB; the module was not evaluated"))
                continue
            data = path.read_bytes()
        except OSError as exc:
            errors.append(LoadError(rel, 0, cannot_read(path, exc)))
            continue
        if b"\0" in data:
            errors.append(LoadError(rel, data.count(b"\n", 0, data.index(b"\0")) + 1, "not a text file (contains NUL bytes)"))
            continue
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            errors.append(LoadError(rel, line, "file is not valid UTF-8"))
            continue
        line = _too_deep(data)
        if line:
            errors.append(LoadError(rel, line, f"brackets nest deeper than {MAX_NESTING} levels; the module was not evaluated"))
        else:
            found = []
            if name.endswith((".tf", ".tf.json")):
                found = variable_type_errors(text, name) + source_errors(name, text)
            errors.extend(LoadError(rel, line, message) for line, message in sorted(found))
    return errors


def _too_deep(data: bytes) -> int:
    """The line where `(`, `[` and `{` first nest deeper than MAX_NESTING (counted in strings
    and comments too), or 0. Deeper nesting overflows tfparse's stack or its JSON decoding."""
    if data.count(b"(") + data.count(b"[") + data.count(b"{") <= MAX_NESTING:
        return 0
    depth = 0
    for match in _BRACKET.finditer(data):
        depth += 1 if match.group() in b"([{" else -1
        if depth > MAX_NESTING:
            return data.count(b"\n", 0, match.start()) + 1
    return 0


def _parse_error(message: str, module_dir: Path, root: Path, unit: str) -> LoadError:
    """One LoadError from a tfparse error message, located when the message says where."""
    match = _DIAGNOSTIC.search(message)
    if match is None:
        text = message.removeprefix(_ERROR_PREFIX)
        return LoadError(unit, 0, " ".join(text.split()))
    path = Path(os.path.normpath(module_dir / match["file"]))
    text = _MORE_DIAGNOSTICS.sub(r" (and \1 more)", " ".join(match["message"].split()))
    return LoadError(_rel(path, root), int(match["line"]), text)


def _reference_ids(block: dict) -> set[str]:
    """Ids of every block that `block` or one of its nested blocks references."""
    found = {ref.get("id") for ref in block["__tfmeta"].get("references", ())}
    for value in block.values():
        for item in value if isinstance(value, list) else [value]:
            if _is_block(item):
                found |= _reference_ids(item)
    return found


def _is_block(value: Any) -> bool:
    return isinstance(value, dict) and "__tfmeta" in value


@lru_cache(maxsize=4096)  # every resource of a file asks for the same path
def _rel(path: Path, root: Path) -> str:
    rel = os.path.relpath(path, root) if path.drive == root.drive else str(path)
    return Path(rel).as_posix()


class _Converter:
    """Turns tfparse's output for one module into normalised `Resource` records."""

    def __init__(self, data: dict, module_dir: Path, root: Path, unit: str):
        self.blocks = [b for blocks in data.values() for b in blocks if _is_block(b)]
        self.module_dir, self.root, self.unit = module_dir, root, unit
        self.json_bodies = tf_json.JsonBodies(module_dir)
        self.addresses = {b["id"]: b["__tfmeta"]["path"] for b in self.blocks if b["__tfmeta"].get("type") == "resource"}
        self.other_ids = {b.get("id") for b in self.blocks} - set(self.addresses)
        self.paths = {b["id"]: b["__tfmeta"].get("path", "?") for b in self.blocks if isinstance(b.get("id"), str)}
        self.data_blocks = {b["__tfmeta"].get("path"): b for b in self.blocks if b["__tfmeta"].get("type") == "data"}
        self.known = set(self.addresses.values())
        # A data source that looks a resource up (an instance filtered on a cluster id) links
        # whoever reads it to that resource.
        self.through_data = {
            b["id"]: {self.addresses[i] for i in _reference_ids(b) if i in self.addresses}
            for b in self.blocks
            if b["__tfmeta"].get("type") == "data"
        }

    def resources(self) -> list[Resource]:
        found = [self._resource(b) for b in self.blocks if b["id"] in self.addresses]
        return sorted(found, key=lambda r: (r.file, r.line))  # stable: keeps count/for_each order

    def arguments(self, block: dict, prefix: str) -> tuple[dict, tuple[str, ...]]:
        """A block's arguments (a `module` call's inputs) as props, and the resources they
        reference; `prefix` is the address of the module instance the block is written in."""
        self.prefix, self.refs = prefix, set()
        props = {k: v for k, v in self._block(block).items() if k not in META_ARGUMENTS}
        return props, tuple(sorted(self.refs))

    def _resource(self, block: dict) -> Resource:
        meta = block["__tfmeta"]
        address = meta["path"]
        self.prefix = _MODULE_PREFIX.match(address).group(0)
        self.refs: set[str] = set()
        raw = self._json_body(meta)
        if raw is not None:
            block = tf_json.restore(block, raw)
        props = {k: v for k, v in self._block(block).items() if k not in META_ARGUMENTS}
        self.refs.discard(address)
        return Resource(
            framework="terraform",
            type=meta["label"],
            address=address,
            file=_rel(Path(os.path.normpath(self.module_dir / meta["filename"])), self.root),
            line=meta["line_start"],
            unit=self.unit,
            props=props,
            refs=tuple(sorted(self.refs)),
            notes=cdktf.construct_notes(raw),
        )

    def _json_body(self, meta: dict) -> dict | None:
        """The resource's own JSON object when it is written in a `.tf.json` file."""
        if not tf_json.is_json_file(meta["filename"]):
            return None
        written = _INSTANCE_KEY.sub("", meta["path"][len(self.prefix):])  # `type.name`
        return self.json_bodies.body(meta["filename"], meta["label"], written.partition(".")[2])

    def _block(self, block: dict) -> dict:
        """A block's arguments without tfparse's bookkeeping; notes the resources it references."""
        for ref in block["__tfmeta"].get("references", ()):
            if ref.get("id") in self.addresses:
                self.refs.add(self.addresses[ref["id"]])
            self.refs.update(self.through_data.get(ref.get("id"), ()))
        return {
            key: self._value(value)
            for key, value in block.items()
            if key != "__tfmeta" and not (key == "id" and isinstance(value, str) and _UUID.match(value))
        }

    def _value(self, value: Any) -> Any:
        if value is None:
            return UNKNOWN
        if isinstance(value, str):
            return self._string(value)
        if isinstance(value, list):
            return [self._block(v) if _is_block(v) else self._value(v) for v in value]
        if _is_block(value):
            return [self._block(value)]  # a block that appears once
        if isinstance(value, dict):
            if "__attribute__" in value:
                return self._reference(value["__attribute__"])
            return {k: self._value(v) for k, v in value.items()}
        return value

    def _string(self, value: str) -> Any:
        if value in self.addresses:
            address = self.addresses[value]
            self.refs.add(address)
            return Link(address)
        if value in self.other_ids:
            return UNKNOWN
        expressions = _TEMPLATE_EXPRESSION.findall(value)
        if expressions:
            # tfparse leaves a template it could not evaluate as raw text; a template that
            # only reads one resource (`${aws_ecs_task_definition.t.family}:${...revision}`)
            # refers to that resource, anything else is unknown.
            targets = {self._reference(expression) for expression in expressions}
            links = {t.address for t in targets if isinstance(t, Link)}
            return Link(links.pop()) if len(links) == 1 and UNKNOWN not in targets else UNKNOWN
        return without_stand_ins(_EMBEDDED_ID.sub(self._embedded, value))

    def _derived_data(self, data_type: str, rest: str) -> Any:
        """`data.<type>.<name>.<attribute>` when DERIVED_DATA_ATTRIBUTES knows how to compute it."""
        name, _, attribute = rest.partition(".")
        template = DERIVED_DATA_ATTRIBUTES.get((data_type, attribute))
        block = self.data_blocks.get(f"{self.prefix}data.{data_type}.{name}")
        if template is None or block is None:
            return UNKNOWN
        arguments = {key: value for key, value in block.items() if isinstance(value, (str, int, float))}
        try:
            return template.format_map({**DERIVED_DATA_DEFAULTS.get(data_type, {}), **arguments})
        except KeyError:
            return UNKNOWN

    def _embedded(self, match: re.Match) -> str:
        """A block id inside a longer string (a reference inside `jsonencode` or a template) as
        `${address}`, which mllint.facts.access.decode_json reads back as a Link."""
        block_id = match.group(0)
        if block_id in self.addresses:
            self.refs.add(self.addresses[block_id])
        return "${" + self.paths[block_id] + "}" if block_id in self.paths else block_id

    def _reference(self, expression: Any) -> Any:
        """An unresolved reference: a Link when it names a resource of this module instance,
        a value when it reads a data source attribute that follows from its arguments."""
        match = _REFERENCE.match(expression) if isinstance(expression, str) else None
        if match is not None and match["type"] == "data":
            return self._derived_data(match["name"], match["attr"] or "")
        if match is None or match["type"] in _NOT_RESOURCES:
            return UNKNOWN
        address = f"{self.prefix}{match['type']}.{match['name']}{match['key'] or ''}"
        if address not in self.known:
            return UNKNOWN
        self.refs.add(address)
        return Link(address, match["attr"])
