"""Nested stacks: a template's `AWS::CloudFormation::Stack` (and SAM
`AWS::Serverless::Application`) resources whose template is a local file are
loaded with the template, with the parameter values the parent passes.

Where the child template is, as `aws cloudformation package` and `sam` read it:
a literal `TemplateURL` (`Location` for SAM) that is a path relative to the
parent template (`./training.yaml`, `nested/training.yaml`) or absolute; for a
CDK nested stack, the `aws:asset:path` metadata (the `*.nested.template.json`
beside its parent in `cdk.out/`). An `https://` or `s3://` URL, a dynamic
reference (`{{resolve:ssm:...}}`), an intrinsic function and a Serverless
Application Repository application are remote: not loaded, quietly.

A child resource's address is the nested stack's logical id, a slash, and its own
logical id (`TrainingStack/TrainTaskDefinition`; one more level per nesting), its
file and line are the child's, and it notes the nesting ("nested stack
TrainingStack in parent.yaml"). A parameter the parent passes a value for takes
that value (UNKNOWN when the value can't be known, never the child's default); one
it does not pass keeps its default. Discovery (`nested_templates`) treats a
template that a scanned template nests as part of its parent, not as a unit of
its own.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterator, Mapping

from mllint.loaders.cdk import NESTED_SUFFIX, construct_notes
from mllint.loaders.cfn_yaml import TemplateError, key_line, parse_template
from mllint.loaders.cloudformation import MAX_BYTES, load_with_template
from mllint.records import UNKNOWN, Link, LoadError, LoadResult, Resource

NESTING = {"AWS::CloudFormation::Stack": "TemplateURL", "AWS::Serverless::Application": "Location"}
ASSET_PATH = "aws:asset:path"
MAX_STACKS = 200  # nested stacks loaded for one root template (a template nesting another twice, repeatedly)
_REMOTE = re.compile(r"^(https?|s3)://", re.IGNORECASE)
_DYNAMIC = "{{resolve:"  # a dynamic reference, resolved by CloudFormation at deploy time
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_NESTED_ADDRESS = re.compile(r"[A-Za-z0-9]+(?:/[A-Za-z0-9]+)+")  # logical ids are alphanumeric


@dataclass(frozen=True)
class StackLink:
    """A nested stack resource of a template and the local template it names."""

    logical_id: str
    line: int  # of the key that names the template
    written: str  # the location as written
    path: Path | None  # the child template; None when the location is not a usable path
    problem: str = ""  # why it can't be used


def stack_links(template: Any, path: Path) -> Iterator[StackLink]:
    """The nested stacks of a parsed `template` read from `path` whose template is local."""
    resources = template.get("Resources") if isinstance(template, dict) else None
    for logical_id, body in (resources.items() if isinstance(resources, dict) else ()):
        if not isinstance(body, dict) or body.get("Type") not in NESTING:
            continue
        metadata = body.get("Metadata")
        asset = metadata.get(ASSET_PATH) if isinstance(metadata, dict) else None
        if isinstance(asset, str) and asset.endswith(NESTED_SUFFIX):
            yield StackLink(logical_id, key_line(metadata, ASSET_PATH), asset, _join(path, asset))
            continue
        properties, key = body.get("Properties"), NESTING[body["Type"]]
        location = properties.get(key) if isinstance(properties, dict) else None
        if not isinstance(location, str) or not location.strip() or _REMOTE.match(location) or _DYNAMIC in location:
            continue
        line = key_line(properties, key)
        if _SCHEME.match(location):
            problem = f"{key} {location} is neither a path relative to the template nor an https:// or s3:// URL"
            yield StackLink(logical_id, line, location, None, problem)
        else:
            yield StackLink(logical_id, line, location, _join(path, location))


def nested_templates(path: Path) -> set[Path]:
    """The local templates that the template at `path` nests (for discovery; a template
    that can't be read nests nothing here, its loader reports why)."""
    try:
        if not path.is_file() or path.stat().st_size > MAX_BYTES:
            return set()
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return set()
    if not any(kind in text for kind in NESTING):
        return set()
    try:
        template = parse_template(text)
    except TemplateError:
        return set()
    return {link.path for link in stack_links(template, path) if link.path is not None}


def template_address(address: str) -> str:
    """The logical id a nested stack's resource has in its own template
    (`TrainingStack/TrainTaskDefinition` -> `TrainTaskDefinition`); any other address as it is."""
    return address.rsplit("/", 1)[-1] if _NESTED_ADDRESS.fullmatch(address) else address


def load_stack(path: Path, root: Path) -> LoadResult:
    """Load the template at `path` with every nested stack below it, as one unit."""
    unit = _rel(path, root)
    result = LoadResult(unit=unit)
    _Nesting(result, root).load(Path(os.path.normpath(path)), None, "", (), ())
    result.errors = list(dict.fromkeys(result.errors))
    result.suppressions = list(dict.fromkeys(result.suppressions))
    return result


class _Nesting:
    """Loads one root template and its nested stacks into one `LoadResult`."""

    def __init__(self, result: LoadResult, root: Path):
        self.result, self.root, self.loaded = result, root, 0

    def load(self, path: Path, parameters: Mapping[str, Any] | None, prefix: str, context: tuple[str, ...], chain: tuple[Path, ...]) -> None:
        """Load `path` with `parameters` (None: its defaults); its resources' addresses
        start with `prefix` and their notes with `context`."""
        loaded, template = load_with_template(path, self.root, parameters)
        self.result.errors.extend(loaded.errors)
        self.result.suppressions.extend(loaded.suppressions)
        self.result.resources.extend(_nested(r, prefix, context, self.result.unit) for r in loaded.resources)
        stacks = {r.address: r for r in loaded.resources if r.type in NESTING}
        if not stacks:
            return
        rel = _rel(path, self.root)
        for link in stack_links(template, path):
            stack = stacks.get(link.logical_id)
            if stack is None:
                continue  # the resource itself could not be loaded; its error is reported
            if link.path is None:
                self._error(rel, link, link.problem)
            elif not link.path.exists():
                self._error(rel, link, f"{link.written} not found")
            elif not link.path.is_file():
                self._error(rel, link, f"{link.written} is not a file")
            elif link.path in chain + (path,):
                cycle = " -> ".join(_rel(p, self.root) for p in (*chain, path, link.path))
                self._error(rel, link, f"templates nest each other in a cycle ({cycle}); {link.written} is not loaded again")
            elif self.loaded >= MAX_STACKS:
                self._error(rel, link, f"more than {MAX_STACKS} nested stacks below {self.result.unit}; the rest are not loaded")
            else:
                self.loaded += 1
                own = [n for n in stack.notes if n not in construct_notes(template["Resources"][link.logical_id])]
                notes = (*context, f"nested stack {stack.address} in {rel}", *own)
                self.load(link.path, passed_parameters(stack.props), f"{prefix}{stack.address}/", notes, (*chain, path))

    def _error(self, rel: str, link: StackLink, message: str) -> None:
        self.result.errors.append(LoadError(rel, link.line, f"nested stack {link.logical_id}: {message}"))


def passed_parameters(props: Any) -> Mapping[str, Any]:
    """The child's parameter values a nested stack resource passes: known scalars and lists
    as they are, anything else UNKNOWN; every parameter UNKNOWN when `Parameters` is."""
    given = props.get("Parameters", {}) if isinstance(props, dict) else UNKNOWN
    if not isinstance(given, dict):
        return _Unknowable()
    return {name: _passed(value) for name, value in given.items()}


class _Unknowable(dict):
    """Parameters that are all passed, with values that can't be known."""

    def __contains__(self, name: object) -> bool:
        return True

    def __getitem__(self, name: str) -> Any:
        return UNKNOWN

    def __bool__(self) -> bool:
        return True


def _passed(value: Any) -> Any:
    scalar = (str, int, float, bool)
    if isinstance(value, scalar) or (isinstance(value, list) and all(isinstance(v, scalar) for v in value)):
        return value
    return UNKNOWN


def _nested(resource: Resource, prefix: str, context: tuple[str, ...], unit: str) -> Resource:
    """`resource` as part of the root template's unit: addressed and noted below its nested stack."""
    if not prefix:
        return resource
    return replace(
        resource,
        address=prefix + resource.address,
        unit=unit,
        props=_prefixed(resource.props, prefix),
        refs=tuple(prefix + ref for ref in resource.refs),
        notes=tuple(dict.fromkeys((*context, *resource.notes))),
    )


def _prefixed(value: Any, prefix: str) -> Any:
    """`value` with each Link pointing at the same resource under its nested address."""
    if isinstance(value, Link):
        return Link(prefix + value.address, value.attr)
    if isinstance(value, dict):
        return {key: _prefixed(item, prefix) for key, item in value.items()}
    if isinstance(value, list):
        return [_prefixed(item, prefix) for item in value]
    return value


def _join(path: Path, location: str) -> Path:
    return Path(os.path.normpath(path.parent / location))


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()
