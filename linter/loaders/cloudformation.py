"""Load a CloudFormation, SAM or CDK-synthesised template into `Resource` records.

Problems with the file become `LoadError`s, never exceptions: a file-level
problem yields no resources, a resource-level problem skips that resource.
"""
from __future__ import annotations

import stat
from pathlib import Path
from typing import Any, Mapping

from mllint.loaders.cfn_foreach import LoopError
from mllint.loaders.cdk import construct_notes
from mllint.loaders.cfn_intrinsics import NO_VALUE, Resolver, intrinsic_name
from mllint.loaders.cfn_suppressions import read_suppressions
from mllint.loaders.cfn_yaml import RAIN_HINT, TemplateError, key_line, parse_template
from mllint.loaders.files import NOT_REGULAR, cannot_read
from mllint.records import UNKNOWN, LoadError, LoadResult, Resource

MAX_BYTES = 20 * 1024 * 1024
SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
SAM_FUNCTION = "AWS::Serverless::Function"


def load_template(path: Path, root: Path, parameters: Mapping[str, Any] | None = None) -> LoadResult:
    """Load one template file; `root` is the scan root that paths are relative to;
    `parameters` override the parameters' defaults (a nested stack's values)."""
    return load_with_template(path, root, parameters)[0]


def load_with_template(path: Path, root: Path, parameters: Mapping[str, Any] | None = None) -> tuple[LoadResult, dict | None]:
    """`load_template`, and the parsed template (None when it can't be read) for a caller that
    reads more of it (nested stacks), so the file is parsed once."""
    try:
        rel = path.relative_to(root).as_posix()
    except ValueError:
        rel = path.as_posix()
    result = LoadResult(unit=rel)
    try:
        template, text = _read_template(path)
    except TemplateError as exc:
        result.errors.append(LoadError(rel, exc.line, exc.message))
        return result, None

    resources = template["Resources"]
    resolver = Resolver(template, parameters)
    for origin, message in resolver.problems:
        result.errors.append(LoadError(rel, key_line(resources, origin), f"resource {message}"))
    function_globals = _sam_function_globals(template)
    for logical_id, body in resolver.bodies.items():
        line = key_line(resources, resolver.origins[logical_id])
        problem = _resource_problem(body)
        if problem:
            result.errors.append(LoadError(rel, line, f"resource {logical_id}: {problem}"))
            continue
        properties = body.get("Properties")
        if function_globals and body["Type"] == SAM_FUNCTION:
            properties = merge_sam_globals(function_globals, properties or {})
        try:
            props, refs, notes = resolver.resolve_properties(properties or {}, body.get("Condition"))
        except LoopError as exc:
            result.errors.append(LoadError(rel, line, f"resource {logical_id}: {exc}"))
            continue
        if props is NO_VALUE:  # `Properties: !If [C, {...}, !Ref AWS::NoValue]` with C false
            props = {}
        elif not isinstance(props, dict) and props is not UNKNOWN:
            result.errors.append(LoadError(rel, line, f"resource {logical_id}: Properties must be a mapping"))
            continue
        depends_on = _as_list(body.get("DependsOn", []))
        refs.update(name for name in depends_on if isinstance(name, str) and name in resolver.resources)
        result.resources.append(Resource(
            framework="cloudformation",
            type=body["Type"],
            address=logical_id,
            file=rel,
            line=line,
            unit=rel,
            props=props,
            refs=tuple(sorted(refs)),
            condition=body.get("Condition"),
            notes=(*construct_notes(body), *notes),
        ))
    result.errors.sort()  # loop problems were found first: template order
    result.resources, result.suppressions = read_suppressions(
        template, text, result.resources, rel, resolver.bodies, resolver.origins)
    return result, template


def _read_template(path: Path) -> tuple[dict, str]:
    """The parsed template, checked to have a `Resources` mapping, and its text; raises TemplateError."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise TemplateError(NOT_REGULAR)  # reading a pipe would wait forever
        size = info.st_size
        if size > MAX_BYTES:
            raise TemplateError(f"file too large ({size / 1024 / 1024:.1f} MB > 20 MB)")
        data = path.read_bytes()
    except OSError as exc:
        raise TemplateError(cannot_read(path, exc)) from None
    if b"\0" in data:
        raise TemplateError("not a UTF-8 text file (contains NUL bytes)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise TemplateError(f"not valid UTF-8 (byte 0x{data[exc.start]:02x})", line) from None
    if not text.strip():
        raise TemplateError("empty file")

    template = parse_template(text)
    if template is None:
        raise TemplateError("empty template")
    if not isinstance(template, dict):
        raise TemplateError(f"template must be a mapping at the top level, not {_kind(template)}", 1)
    if "Resources" not in template:
        raise TemplateError("template has no Resources section", 1)
    if not isinstance(template["Resources"], dict):
        line = key_line(template, "Resources")
        raise TemplateError(f"Resources must be a mapping, not {_kind(template['Resources'])}", line)
    return template, text


def _resource_problem(body: Any) -> str | None:
    """Why this `Resources` entry can't be loaded, or None. `Properties` may be an intrinsic
    function (`Fn::If`); what it resolves to is checked once resolved."""
    if not isinstance(body, dict):
        return f"must be a mapping, not {_kind(body)}"
    if isinstance(body.get("Type"), dict) and any(str(k).startswith("Rain::") for k in body["Type"]):
        return f"Type {{{next(iter(body['Type']))}: ...}} is {RAIN_HINT}"
    if not isinstance(body.get("Type"), str):
        return "Type is missing or not a string"
    if not isinstance(body.get("Properties") or {}, dict):
        return "Properties must be a mapping"
    if not isinstance(body.get("Condition", ""), str):
        return "Condition must be a condition name"
    return None


def _sam_function_globals(template: dict) -> dict:
    """`Globals.Function` of a SAM template, or {}."""
    transforms = _as_list(template.get("Transform"))
    sections = template.get("Globals")
    if SAM_TRANSFORM not in transforms or not isinstance(sections, dict):
        return {}
    function = sections.get("Function")
    return function if isinstance(function, dict) else {}


def merge_sam_globals(global_value: Any, local_value: Any) -> Any:
    """SAM's Globals merge: maps merge key by key, lists concatenate (globals first),
    anything else (scalars, intrinsics, mismatched types) takes the resource's value."""
    if _is_map(global_value) and _is_map(local_value):
        merged = dict(global_value)
        for key, value in local_value.items():
            merged[key] = merge_sam_globals(merged[key], value) if key in merged else value
        return merged
    if isinstance(global_value, list) and isinstance(local_value, list):
        return global_value + local_value
    return local_value


def _is_map(value: Any) -> bool:
    return isinstance(value, dict) and intrinsic_name(value) is None


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _kind(value: Any) -> str:
    if value is None:
        return "empty"
    return {list: "a list", str: "a string", bool: "a boolean"}.get(type(value), "a number")
