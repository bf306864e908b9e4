"""Load one Terraform root module with tfparse and turn its blocks into `Resource`s.

`load_module` runs inside a worker process (see `mllint.workers`): tfparse is
native Go code that can panic or never return, so the parent never imports it.
The value conventions (UNKNOWN, Link, nested blocks as lists) are those of
`mllint.records`.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Sequence

from mllint.discover import local_module_calls
from mllint.loaders.tf_suppressions import read_suppressions
from mllint.records import UNKNOWN, LoadError, LoadResult, Link, Resource

MAX_FILE_BYTES = 20 * 1024 * 1024
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
_NOT_RESOURCES = {"var", "local", "data", "module", "each", "count", "path", "self", "terraform"}
# `main.tf:12,3-4: Summary; detail` (the range may span lines: `b.tf:2,10-3,1:`).
_DIAGNOSTIC = re.compile(
    r"(?P<file>[^\s:][^:\n]*?\.(?:tf|tf\.json|tfvars|tfvars\.json)):(?P<line>\d+),\d+(?:-\d+(?:,\d+)?)?: (?P<message>.+)",
    re.DOTALL,
)
_ERROR_PREFIX = "unable to create TerraformConverter: "


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
    result.errors = _check_files(module_dir, names, root)
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
    resources = _Converter(data, module_dir, root, unit).resources()
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


def _check_files(module_dir: Path, names: list[str], root: Path) -> list[LoadError]:
    """Errors for module files that are too large, unreadable or not UTF-8."""
    errors = []
    for name in names:
        if not name.endswith(_CHECKED_SUFFIXES):
            continue
        path = module_dir / name
        rel = _rel(path, root)
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                errors.append(LoadError(rel, 0, "file is larger than 20 MB; the module was not evaluated"))
                continue
            data = path.read_bytes()
        except OSError as exc:
            errors.append(LoadError(rel, 0, f"cannot read file: {exc.strerror or exc}"))
            continue
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            errors.append(LoadError(rel, line, "file is not valid UTF-8"))
    return errors


def _parse_error(message: str, module_dir: Path, root: Path, unit: str) -> LoadError:
    """One LoadError from a tfparse error message, located when the message says where."""
    match = _DIAGNOSTIC.search(message)
    if match is None:
        text = message.removeprefix(_ERROR_PREFIX)
        return LoadError(unit, 0, " ".join(text.split()))
    path = Path(os.path.normpath(module_dir / match["file"]))
    return LoadError(_rel(path, root), int(match["line"]), " ".join(match["message"].split()))


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


def _rel(path: Path, root: Path) -> str:
    rel = os.path.relpath(path, root) if path.drive == root.drive else str(path)
    return Path(rel).as_posix()


class _Converter:
    """Turns tfparse's output for one module into normalised `Resource` records."""

    def __init__(self, data: dict, module_dir: Path, root: Path, unit: str):
        self.blocks = [b for blocks in data.values() for b in blocks if _is_block(b)]
        self.module_dir, self.root, self.unit = module_dir, root, unit
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

    def _resource(self, block: dict) -> Resource:
        meta = block["__tfmeta"]
        address = meta["path"]
        self.prefix = _MODULE_PREFIX.match(address).group(0)
        self.refs: set[str] = set()
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
        )

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
        return _EMBEDDED_ID.sub(self._embedded, value)

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
