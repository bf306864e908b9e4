"""The configuration: `.mllint.yaml` or `[tool.mllint]` in pyproject.toml, merged with the command line.

The file is the first one found walking up from the scanned paths' common
directory, stopping at the repository root (the directory holding `.git`);
`--config FILE` names one instead. It is validated against
`schemas/config.schema.json`; a bad file is a `ConfigError` naming the file and
the key. Precedence: command line > file > defaults, per setting; `--ignore`
and `--policy-dir` add to the file's lists, the other options replace the
file's value. `Settings.origins` records where each value came from.
"""
from __future__ import annotations

import difflib
import json
import os
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from mllint.globs import matches_any
from mllint.paths import schema_path
from mllint.policy import Policy, matches_selector
from mllint.records import Finding
from mllint.yamlio import YamlFileError, load_file

CONFIG_NAMES = (".mllint.yaml", ".mllint.yml")
PYPROJECT = "pyproject.toml"
DEFAULT, COMMAND_LINE = "default", "command line"
KEYS = ("select", "ignore", "fail_on", "severity", "policy_dirs", "exclude", "baseline", "overrides")


class ConfigError(Exception):
    """A configuration that cannot be used; str() is one line naming the file and the key."""


@dataclass(frozen=True)
class Override:
    """Settings for the findings in files matching `paths` (globs relative to the config's directory)."""

    paths: tuple[str, ...]
    ignore: tuple[str, ...] = ()
    severity: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Rules:
    """The path-dependent settings of one config file, applied to discovery and to findings."""

    base: Path | None = None  # the config file's directory; None = no file
    exclude: tuple[str, ...] = ()
    severity: tuple[tuple[str, str], ...] = ()
    overrides: tuple[Override, ...] = ()
    selectors: tuple[tuple[str, str], ...] = ()  # (key, selector) of the file, checked against the policies
    source: str = ""  # the file as shown in messages

    def excluded(self, path: Path) -> bool:
        """True when the absolute `path` matches an `exclude` glob."""
        if not self.exclude:
            return False
        rel = self._relative(path)
        return rel is not None and matches_any(self.exclude, rel)

    def check(self, policies: list[Policy]) -> None:
        """Reject a selector in the file that names no loaded policy (a typo would silently do nothing)."""
        for key, selector in self.selectors:
            if not any(matches_selector(p, selector) for p in policies):
                raise ConfigError(f"{self.source}: key {key}: {selector!r} matches no policy")

    def apply(self, findings: list[Finding], root: Path, policies: list[Policy]) -> list[Finding]:
        """Drop findings in excluded files or ignored by an override; apply severity overrides."""
        if self.base is None:
            return findings
        by_id = {p.id: p for p in policies}
        kept = []
        for finding in findings:
            rel = self._relative(root / finding.file)
            if rel is not None and matches_any(self.exclude, rel):
                continue
            overrides = [o for o in self.overrides if rel is not None and matches_any(o.paths, rel)]
            policy = by_id[finding.policy_id]
            if any(matches_selector(policy, s) for o in overrides for s in o.ignore):
                continue
            severity = _severity_for(policy, [self.severity, *(o.severity for o in overrides)])
            kept.append(replace(finding, severity=severity) if severity and severity != finding.severity else finding)
        return kept

    def _relative(self, path: Path) -> str | None:
        if self.base is None:
            return None
        try:
            return path.resolve().relative_to(self.base).as_posix()
        except ValueError:
            return None


def _severity_for(policy: Policy, layers: list[tuple[tuple[str, str], ...]]) -> str | None:
    """The severity the most specific selector gives; a later layer beats an earlier one."""
    chosen = None
    for layer in layers:
        best = max(((_specificity(policy, s), level) for s, level in layer if matches_selector(policy, s)), default=None)
        if best:
            chosen = best[1]
    return chosen


def _specificity(policy: Policy, selector: str) -> int:
    exact = selector.upper() == policy.id or selector.lower() == policy.name
    return 1000 if exact else len(selector)


@dataclass(frozen=True)
class Settings:
    """The effective settings of one run, and where each came from (for `mllint config show`)."""

    select: tuple[str, ...]
    ignore: tuple[str, ...]
    fail_on: str
    policy_dirs: tuple[Path, ...]
    baseline: Path | None
    rules: Rules
    origins: tuple[tuple[str, Any, str], ...] = ()  # (key, value, origin)


def display(path: Path) -> str:
    """`path` relative to the working directory when inside it, else absolute."""
    path = path.resolve()
    try:
        return path.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def start_directory(paths: list[Path]) -> Path:
    """Where the search for a config file begins: the scanned paths' common directory."""
    dirs = [str(p.resolve() if p.is_dir() else p.resolve().parent) for p in paths or [Path(".")]]
    return Path(os.path.commonpath(dirs))


def find_config(start: Path) -> Path | None:
    """The first config file from `start` upwards; the search stops at the directory holding `.git`."""
    for directory in [start, *start.parents]:
        for name in CONFIG_NAMES:
            if (directory / name).is_file():
                return directory / name
        pyproject = directory / PYPROJECT
        if pyproject.is_file() and _pyproject_table(pyproject) is not None:
            return pyproject
        if (directory / ".git").exists():
            return None
    return None


def _pyproject_table(path: Path) -> Any:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{display(path)}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{display(path)}: invalid TOML: {exc}") from None
    return document.get("tool", {}).get("mllint")


def read_config(path: Path) -> dict:
    """The validated contents of a config file (a `.yaml`/`.yml` file or a pyproject.toml)."""
    shown = display(path)
    if not path.is_file():
        raise ConfigError(f"{shown}: no such config file")
    prefix = ""
    if path.suffix == ".toml":
        raw, prefix = _pyproject_table(path), "tool.mllint."
        if raw is None:
            raise ConfigError(f"{shown}: has no [tool.mllint] table")
    else:
        try:
            raw = load_file(path, shown)
        except YamlFileError as exc:
            raise ConfigError(str(exc)) from None
    raw = {} if raw is None else raw
    error = best_match(Draft202012Validator(_schema()).iter_errors(raw))
    if error is not None:
        key, message = _describe(error)
        raise ConfigError(f"{shown}: key {prefix}{key}: {message}" if key else f"{shown}: {message}")
    return raw


@lru_cache(maxsize=None)
def _schema() -> dict:
    with open(schema_path("config"), encoding="utf-8") as handle:
        return json.load(handle)


def _describe(error) -> tuple[str, str]:
    """(dotted key, message) for a schema error; an unknown key is named with a suggestion."""
    key = ".".join(str(part) for part in error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = sorted(error.schema.get("properties", {}))
        unknown = sorted(k for k in error.instance if k not in known)[0]
        hint = difflib.get_close_matches(unknown, known, n=1)
        suggestion = f"; did you mean {hint[0]!r}?" if hint else f" (known keys: {', '.join(known)})"
        return (f"{key}.{unknown}" if key else unknown), f"unknown key{suggestion}"
    if error.validator == "type" and not key:
        return "", "the configuration must be a mapping of settings"
    if error.validator == "pattern":
        return key, f"{error.instance!r} is not a policy id, id prefix or name"
    if error.validator == "propertyNames":
        return key, f"{error.instance!r}: keys must be policy ids, id prefixes or names"
    return key, error.message


def resolve(
    paths: list[Path],
    *,
    config: Path | None = None,
    select: tuple[str, ...] = (),
    ignore: tuple[str, ...] = (),
    fail_on: str | None = None,
    policy_dirs: tuple[Path, ...] = (),
    baseline: Path | None = None,
) -> Settings:
    """The settings for scanning `paths`: command line > config file > defaults."""
    file = config if config is not None else find_config(start_directory(paths))
    raw = read_config(file) if file is not None else {}
    base = file.resolve().parent if file is not None else None
    source = display(file) if file is not None else ""
    prefix = "tool.mllint." if file is not None and file.suffix == ".toml" else ""
    origins: list[tuple[str, Any, str]] = []

    def pick(key: str, cli_value: Any, default: Any) -> Any:
        """A setting that comes from exactly one place."""
        if cli_value:
            origins.append((key, cli_value, COMMAND_LINE))
            return cli_value
        if key in raw:
            origins.append((key, raw[key], source))
            return raw[key]
        origins.append((key, default, DEFAULT))
        return default

    def merge(key: str, cli_value: list) -> list:
        """A list setting that the command line adds to."""
        parts = [(raw.get(key, []), source), (cli_value, COMMAND_LINE)]
        parts = [(value, origin) for value, origin in parts if value]
        origins.extend((key, value, origin) for value, origin in parts or [([], DEFAULT)])
        return [item for value, _ in parts for item in value]

    chosen_select = pick("select", list(select), [])
    chosen_ignore = merge("ignore", list(ignore))
    chosen_fail_on = pick("fail_on", fail_on, "warning")
    severity = pick("severity", None, {})
    merge("policy_dirs", [str(d) for d in policy_dirs])
    file_dirs = [_directory(base, d, f"{source}: key {prefix}policy_dirs.{i}") for i, d in enumerate(raw.get("policy_dirs", []))]
    exclude = pick("exclude", None, [])
    pick("baseline", str(baseline) if baseline else None, None)
    overrides = pick("overrides", None, [])
    rules = Rules(
        base=base,
        exclude=tuple(exclude),
        severity=tuple(severity.items()),
        overrides=tuple(
            Override(tuple(o["paths"]), tuple(o.get("ignore", [])), tuple(o.get("severity", {}).items())) for o in overrides
        ),
        selectors=tuple(_selectors(raw, prefix)),
        source=source,
    )
    return Settings(
        select=tuple(chosen_select),
        ignore=tuple(chosen_ignore),
        fail_on=chosen_fail_on,
        policy_dirs=tuple(file_dirs) + tuple(policy_dirs),
        baseline=baseline or ((base / raw["baseline"]) if "baseline" in raw else None),
        rules=rules,
        origins=tuple(origins),
    )


def _directory(base: Path, value: str, where: str) -> Path:
    path = base / value
    if not path.is_dir():
        raise ConfigError(f"{where}: {value!r} is not a directory")
    return path


def _selectors(raw: dict, prefix: str):
    """Every (key, selector) of the file, to check against the loaded policies."""
    for key in ("select", "ignore"):
        for index, selector in enumerate(raw.get(key, [])):
            yield f"{prefix}{key}.{index}", selector
    for selector in raw.get("severity", {}):
        yield f"{prefix}severity.{selector}", selector
    for number, override in enumerate(raw.get("overrides", [])):
        for index, selector in enumerate(override.get("ignore", [])):
            yield f"{prefix}overrides.{number}.ignore.{index}", selector
        for selector in override.get("severity", {}):
            yield f"{prefix}overrides.{number}.severity.{selector}", selector
