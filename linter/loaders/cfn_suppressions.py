"""Read the suppressions of one CloudFormation template and attach them to its resources.

A resource's `Metadata: {mllint: {ignore: [{id, reason}]}}` and the template's own
`Metadata` (the whole file); YAML comments `# mllint: ignore[...] -- reason`
inside a resource (indented under its logical id, or after a value on one of its
lines) and `# mllint: ignore-file[...] -- reason` anywhere. A comment inside an
`Fn::ForEach` loop covers every resource the loop generates.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mllint.directives import attach, parse_comment, parse_metadata, place
from mllint.loaders.cfn_yaml import key_line
from mllint.loaders.comments import Comment, yaml_comments
from mllint.records import Resource, Suppression

NOT_IN_RESOURCE = "suppression comment is not inside a resource (indent it under the logical id), so it suppresses nothing"


@dataclass(frozen=True)
class _Span:
    logical_id: str
    start: int  # line of the logical id
    end: int  # first line after the resource
    column: int  # indentation of the logical id


def read_suppressions(template: dict, text: str, resources: list[Resource], rel: str,
                      bodies: dict | None = None, origins: dict[str, str] | None = None) -> tuple[list[Resource], list[Suppression]]:
    """The resources with the suppressions that cover them, and every suppression read.
    `bodies` are the resources with `Fn::ForEach` expanded, `origins` the `Resources` key
    each was written under (default: the template's own)."""
    section = template["Resources"]
    origins = origins or {}
    everything = [r.address for r in resources]
    generated: dict[str, list[str]] = {}
    for logical_id, origin in origins.items():
        generated.setdefault(origin, []).append(logical_id)
    placed = []
    for directive, where in parse_metadata(template.get("Metadata")):
        placed.append((place(directive, "metadata", "file", rel, rel, _line(where, key_line(template, "Metadata"))), everything))
    for logical_id, body in (section if bodies is None else bodies).items():
        metadata = body.get("Metadata") if isinstance(body, dict) else None
        for directive, where in parse_metadata(metadata):
            line = _line(where, key_line(section, origins.get(logical_id, logical_id)))
            placed.append((place(directive, "metadata", "resource", logical_id, rel, line), [logical_id]))
    if "mllint" in text:
        placed.extend(_comments(template, text, everything, rel, generated))
    return attach(resources, placed)


def _comments(template: dict, text: str, everything: list[str], rel: str,
              generated: dict[str, list[str]]) -> list[tuple[Suppression, list[str]]]:
    spans = _spans(template, text)
    placed = []
    for comment in yaml_comments(text):
        directive = parse_comment(comment.text)
        if directive is None:
            continue
        if directive.file_level:
            placed.append((place(directive, "comment", "file", rel, rel, comment.line), everything))
            continue
        span = _owner(spans, comment)
        if span is None:
            placed.append((place(directive, "comment", "resource", rel, rel, comment.line, NOT_IN_RESOURCE), []))
        else:
            covered = generated.get(span.logical_id, [span.logical_id])
            placed.append((place(directive, "comment", "resource", span.logical_id, rel, comment.line), covered))
    return placed


def _spans(template: dict, text: str) -> list[_Span]:
    """Each resource's lines: from its logical id to the next one (or the next top-level key)."""
    lines = text.splitlines()
    section_line = key_line(template, "Resources")
    after = [line for line in getattr(template, "lines", {}).values() if line > section_line]
    section_end = min(after, default=len(lines) + 1)
    keys = sorted((line, logical_id) for logical_id, line in getattr(template["Resources"], "lines", {}).items())
    spans = []
    for index, (line, logical_id) in enumerate(keys):
        end = keys[index + 1][0] if index + 1 < len(keys) else section_end
        source = lines[line - 1] if 0 < line <= len(lines) else ""
        spans.append(_Span(logical_id, line, end, len(source) - len(source.lstrip())))
    return spans


def _owner(spans: list[_Span], comment: Comment) -> _Span | None:
    """The resource a comment sits in: a comment alone on its line must be indented
    deeper than the logical id; one after a value belongs to that value's resource."""
    for span in spans:
        if span.start <= comment.line < span.end:
            inside = comment.line == span.start or not comment.alone or comment.column > span.column
            return span if inside else None
    return None


def _line(where: Any, fallback: int) -> int:
    """The line of a Metadata entry (its first key), else `fallback`."""
    lines = getattr(where, "lines", None)
    if lines:
        return lines.get("id", lines.get("mllint", min(lines.values())))
    return fallback
