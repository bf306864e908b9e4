"""The suppression grammar, one for every framework (docs/suppressions.md).

    # mllint: ignore[ML101,batch-job-without-retry] -- reason     (comment in a block)
    # mllint: ignore-file[ML302] -- reason                        (comment anywhere in a file)
    tag  mllint:ignore = "ML101 ML302 -- reason"
    Metadata: {mllint: {ignore: [{id: ML101, reason: "..."}]}}    (CloudFormation)

Ids are policy ids or names, separated by commas or spaces. The loaders read
directives with these functions, place them (`Suppression`) and `attach` them to
the resources they cover; `mllint.suppress` judges and applies them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, Iterable

from mllint.facts.access import tags_of
from mllint.records import Resource, Suppression

TAG = "mllint:ignore"
# A comment whose text starts like this is meant as a directive: it is parsed or reported.
_INTENT = re.compile(r"^mllint\s*:\s*ignore", re.IGNORECASE)
_COMMENT = re.compile(
    r"^mllint\s*:\s*(?P<kind>ignore-file|ignore)\s*\[(?P<ids>[^\]]*)\]\s*(?:--\s*(?P<reason>.*?))?\s*$",
    re.IGNORECASE,
)
_IDS_AND_REASON = re.compile(r"^(?P<ids>.*?)\s*(?:--\s*(?P<reason>.*?))?\s*$")
_SEPARATORS = re.compile(r"[\s,]+")
MALFORMED_COMMENT = "malformed suppression comment: expected `mllint: ignore[ID,...] -- reason`"


@dataclass(frozen=True)
class Directive:
    """What one directive says, before a loader places it."""

    ids: tuple[str, ...]
    reason: str
    file_level: bool = False
    problem: str = ""


def split_ids(text: str) -> tuple[str, ...]:
    return tuple(part for part in _SEPARATORS.split(text) if part)


def _checked(ids: tuple[str, ...], reason: str, file_level: bool = False, problem: str = "") -> Directive:
    if not problem and not ids:
        problem = "suppression names no policy"
    return Directive(ids, reason, file_level, problem)


def parse_comment(text: str) -> Directive | None:
    """The directive in a comment's text (without `#`, `//`, `/* */`), or None when the
    comment is not meant as one. Whitespace inside the comment is collapsed."""
    text = " ".join(text.split())
    if not _INTENT.match(text):
        return None
    match = _COMMENT.match(text)
    if match is None:
        return Directive((), "", False, MALFORMED_COMMENT)
    return _checked(split_ids(match["ids"]), match["reason"] or "", match["kind"].lower() == "ignore-file")


def parse_tag(props: Any) -> Directive | None:
    """The `mllint:ignore` tag of a resource (`"ML101 ML302 -- reason"`), or None."""
    value = tags_of(props).get(TAG) if isinstance(props, dict) else None
    if value is None:
        return None
    match = _IDS_AND_REASON.match(" ".join(value.split()))
    return _checked(split_ids(match["ids"]), match["reason"] or "")


def parse_metadata(metadata: Any) -> list[tuple[Directive, Any]]:
    """The directives in a CloudFormation `Metadata` mapping's `mllint` key, each with
    the mapping it came from (for its line): `{mllint: {ignore: [{id, reason}, ...]}}`."""
    if not isinstance(metadata, dict) or "mllint" not in metadata:
        return []
    section = metadata["mllint"]
    entries = section.get("ignore") if isinstance(section, dict) else None
    if not isinstance(entries, list) or not entries:
        return [(Directive((), "", False, "Metadata mllint must be {ignore: [{id: ID, reason: REASON}, ...]}"), metadata)]
    found = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            found.append((Directive((), "", False, "each Metadata mllint.ignore entry needs an `id` (and a `reason`)"), entry))
            continue
        reason = entry.get("reason")
        found.append((_checked(split_ids(entry["id"]), " ".join(reason.split()) if isinstance(reason, str) else ""), entry))
    return found


def place(directive: Directive, source: str, scope: str, target: str, file: str, line: int, problem: str = "") -> Suppression:
    """A directive at its place in the source."""
    return Suppression(directive.ids, directive.reason, source, scope, target, file, line, directive.problem or problem)


def attach(resources: list[Resource], placed: Iterable[tuple[Suppression, Iterable[str]]], target=lambda r: r.address) -> tuple[list[Resource], list[Suppression]]:
    """Resources with the suppressions covering them (each `placed` suppression with the
    addresses it covers, plus each resource's own `mllint:ignore` tag), most specific
    first; and every suppression, once, in source order. `target` names a resource in a
    tag's suppression."""
    covering: dict[str, list[Suppression]] = {}
    every: dict[Suppression, None] = {}
    for suppression, addresses in placed:
        every[suppression] = None
        for address in addresses:
            covering.setdefault(address, []).append(suppression)
    attached = []
    for resource in resources:
        own = list(covering.get(resource.address, ()))
        tag = parse_tag(resource.props)
        if tag is not None:
            suppression = place(tag, "tag", "resource", target(resource), resource.file, resource.line)
            every[suppression] = None
            own.append(suppression)
        own.sort(key=_specificity)
        attached.append(replace(resource, suppressions=tuple(own)) if own else resource)
    return attached, sorted(every, key=lambda s: (s.file, s.line, s.source, s.ids))


def _specificity(suppression: Suppression) -> tuple:
    """Resource comments and Metadata, then tags, then the innermost module, then the file."""
    return ({"resource": 0, "module": 1, "file": 2}[suppression.scope], suppression.source == "tag", -len(suppression.target))
