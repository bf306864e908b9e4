"""Load policies from YAML and validate them before anything runs.

A malformed policy is a `PolicyError` naming the file and the field; a policy
that reads a fact the facts schema doesn't define, or reads a fact without
requiring it, is rejected too (so a typo never becomes a policy that silently
never fires, and an unknown fact never produces a finding).
"""
from __future__ import annotations

import json
import string
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Iterator

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from mllint import __version__
from mllint.paths import policies_dir, schema_path
from mllint.yamlio import YamlFileError, load_file

DOCS_BASE = f"https://github.com/mllint/mllint/blob/v{__version__}/policies/docs"
SCHEMA_KEYWORDS_WITH_SUBSCHEMAS = ("allOf", "anyOf", "oneOf")
SCHEMA_KEYWORDS_WITH_SUBSCHEMA = ("not", "if", "then", "else")


class PolicyError(Exception):
    """A policy file that cannot be used; str() is one line naming file and field."""


@dataclass(frozen=True)
class Policy:
    id: str
    name: str
    title: str
    severity: str
    kinds: tuple[str, ...]
    when: dict
    message: str
    fix: str
    evidence: tuple[str, ...]
    sources: tuple[str, ...]
    description: str
    path: Path
    help_uri: str
    ignorable: bool = True  # False: inline suppressions of it are refused (and reported)

    @property
    def code(self) -> str:
        return f"{self.id} {self.name}"

    @cached_property
    def validator(self) -> Draft202012Validator:
        return _validator(json.dumps(self.when, sort_keys=True))

    @cached_property
    def _role_validators(self) -> tuple[Draft202012Validator, ...]:
        return tuple(_validator(json.dumps(s, sort_keys=True)) for s in _role_schemas(self.when))

    def role_decided(self, facts: dict) -> bool:
        """True when the policy constrains `role` and this resource's role satisfies it."""
        if "role" not in facts:
            return False
        return any(v.is_valid(facts["role"]) for v in self._role_validators)

    def __getstate__(self) -> dict:
        """Pickled without the compiled validators (a worker compiles its own)."""
        return {k: v for k, v in self.__dict__.items() if k not in ("validator", "_role_validators")}


@lru_cache(maxsize=None)
def _validator(when_json: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads(when_json))


@lru_cache(maxsize=None)
def _schema(name: str) -> dict:
    with open(schema_path(name), encoding="utf-8") as handle:
        return json.load(handle)


def _field(path) -> str:
    return ".".join(str(part) for part in path) or "(top level)"


def load_policy(path: Path) -> Policy:
    """Read, validate and compile one policy file."""
    try:
        raw = load_file(path)
    except YamlFileError as exc:
        raise PolicyError(str(exc)) from None
    errors = sorted(Draft202012Validator(_schema("policy")).iter_errors(raw), key=lambda e: list(e.path))
    if errors:
        error = errors[0]
        raise PolicyError(f"{path}: field {_field(error.path)}: {error.message}")
    try:
        Draft202012Validator.check_schema(raw["when"])
    except SchemaError as exc:
        raise PolicyError(f"{path}: field when.{_field(exc.path)}: not valid JSON Schema: {exc.message}") from None
    facts = _schema("facts")["properties"]
    _check_reads(raw["when"], facts, path, "when")
    for name in raw.get("evidence", []):
        if name not in facts:
            raise PolicyError(f"{path}: field evidence: unknown fact {name!r}")
    kinds = facts["kind"]["enum"]
    for kind in raw["kinds"]:
        if kind not in kinds:
            raise PolicyError(f"{path}: field kinds: unknown kind {kind!r} (known: {', '.join(kinds)})")
    _check_placeholders(raw["message"], facts, path)
    return Policy(
        id=raw["id"],
        name=raw["name"],
        title=raw["title"],
        severity=raw["severity"],
        kinds=tuple(raw["kinds"]),
        when=raw["when"],
        message=" ".join(raw["message"].split()),
        fix=" ".join(raw["fix"].split()),
        evidence=tuple(raw.get("evidence", [])),
        sources=tuple(raw["sources"]),
        description=" ".join(raw.get("description", "").split()),
        path=path,
        help_uri=raw.get("help_uri") or _help_uri(path, raw["id"], raw["name"]),
        ignorable=raw.get("ignorable", True),
    )


def _help_uri(path: Path, policy_id: str, name: str) -> str:
    """Shipped policies link to their doc in the repository at this version; a custom
    policy without `help_uri` links to its local doc, `docs/<ID>-<name>.md` beside it."""
    doc = f"{policy_id}-{name}.md"
    if path.parent.resolve() == policies_dir().resolve():
        return f"{DOCS_BASE}/{doc}"
    return (path.parent / "docs" / doc).resolve().as_uri()


def _check_placeholders(message: str, facts: dict, path: Path) -> None:
    """Every `{placeholder}` in the message is `address` or a fact."""
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(message) if name is not None]
    except ValueError as exc:
        raise PolicyError(f"{path}: field message: {exc} (write {{{{ and }}}} for literal braces)") from None
    for name in names:
        if name != "address" and name not in facts:
            raise PolicyError(f"{path}: field message: unknown placeholder {{{name}}} (use {{address}} or a fact)")


def _check_reads(schema: Any, facts: dict, path: Path, where: str) -> None:
    """Reject a `when` that reads an undefined fact, or reads a fact without requiring it."""
    if not isinstance(schema, dict):
        return
    properties = schema.get("properties", {})
    required = set(schema.get("required", []))
    for name in sorted(set(properties) | required):
        if name not in facts:
            raise PolicyError(f"{path}: field {where}.properties.{name}: unknown fact {name!r}")
        if name in properties and name not in required:
            raise PolicyError(f"{path}: field {where}.properties.{name}: fact is read but not listed in `required`")
    for keyword in SCHEMA_KEYWORDS_WITH_SUBSCHEMAS:
        for index, sub in enumerate(schema.get(keyword, [])):
            _check_reads(sub, facts, path, f"{where}.{keyword}.{index}")
    for keyword in SCHEMA_KEYWORDS_WITH_SUBSCHEMA:
        if keyword in schema:
            _check_reads(schema[keyword], facts, path, f"{where}.{keyword}")


def _role_schemas(schema: Any) -> Iterator[dict]:
    """Every subschema a `when` applies to the `role` fact."""
    if not isinstance(schema, dict):
        return
    if "role" in schema.get("properties", {}):
        yield schema["properties"]["role"]
    for keyword in SCHEMA_KEYWORDS_WITH_SUBSCHEMAS:
        for sub in schema.get(keyword, []):
            yield from _role_schemas(sub)
    for keyword in SCHEMA_KEYWORDS_WITH_SUBSCHEMA:
        yield from _role_schemas(schema.get(keyword))


def load_policies(directories: list[Path] | None = None, installed: bool = True) -> list[Policy]:
    """Every policy in the shipped directory, the installed packs (entry point group
    `mllint.policies`, unless `installed` is false) and `directories`, sorted by id;
    ids must be unique. A directory reached twice is read once."""
    from mllint.packs import installed_pack_dirs

    found: dict[str, Policy] = {}
    packs = installed_pack_dirs() if installed else []
    read: set[Path] = set()
    for directory in [policies_dir(), *packs, *(directories or [])]:
        if directory.resolve() in read:
            continue
        read.add(directory.resolve())
        if not directory.is_dir():
            raise PolicyError(f"{directory}: policy directory does not exist")
        for path in sorted(directory.glob("*.yaml")):
            policy = load_policy(path)
            if policy.id in found:
                raise PolicyError(f"{path}: field id: {policy.id} is already defined in {found[policy.id].path}")
            found[policy.id] = policy
    return [found[key] for key in sorted(found)]


def matches_selector(policy: Policy, selector: str) -> bool:
    """`--select` / `--ignore` match an id, an id prefix (ML1) or a name."""
    return policy.id.startswith(selector.upper()) or policy.name == selector.lower()
