"""Load a CloudFormation, SAM or CDK-synthesised template into `Resource` records.

Problems with the file become `LoadError`s, never exceptions: a file-level
problem yields no resources, a resource-level problem skips that resource.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from mllint.loaders.cfn_intrinsics import Resolver, intrinsic_name
from mllint.loaders.cfn_suppressions import read_suppressions
from mllint.loaders.cfn_yaml import TemplateError, key_line, parse_template
from mllint.records import LoadError, LoadResult, Resource

MAX_BYTES = 20 * 1024 * 1024
SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
SAM_FUNCTION = "AWS::Serverless::Function"


def load_template(path: Path, root: Path) -> LoadResult:
    """Load one template file; `root` is the scan root that paths are relative to."""
    try:
        rel = path.relative_to(root).as_posix()
    except ValueError:
        rel = path.as_posix()
    result = LoadResult(unit=rel)
    try:
        template, text = _read_template(path)
    except TemplateError as exc:
        result.errors.append(LoadError(rel, exc.line, exc.message))
        return result

    resources = template["Resources"]
    resolver = Resolver(template)
    function_globals = _sam_function_globals(template)
    for logical_id, body in resources.items():
        line = key_line(resources, logical_id)
        problem = _resource_problem(logical_id, body)
        if problem:
            result.errors.append(LoadError(rel, line, f"resource {logical_id}: {problem}"))
            continue
        properties = body.get("Properties") or {}
        if function_globals and body["Type"] == SAM_FUNCTION:
            properties = merge_sam_globals(function_globals, properties)
        props, refs = resolver.resolve_properties(properties)
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
        ))
    result.resources, result.suppressions = read_suppressions(template, text, result.resources, rel)
    return result


def _read_template(path: Path) -> tuple[dict, str]:
    """The parsed template, checked to have a `Resources` mapping, and its text; raises TemplateError."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise TemplateError(f"file too large ({size / 1024 / 1024:.1f} MB > 20 MB)")
        data = path.read_bytes()
    except OSError as exc:
        raise TemplateError(f"cannot read file: {exc.strerror or exc}") from None
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


def _resource_problem(logical_id: str, body: Any) -> str | None:
    """Why this `Resources` entry can't be loaded, or None."""
    if logical_id.startswith("Fn::ForEach::"):
        return "Fn::ForEach is not supported; the resources it generates are not checked"
    if not isinstance(body, dict):
        return f"must be a mapping, not {_kind(body)}"
    if not isinstance(body.get("Type"), str):
        return "Type is missing or not a string"
    if not isinstance(body.get("Properties") or {}, dict) or intrinsic_name(body.get("Properties")):
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
