"""The baseline: findings accepted as they are, so that a scan reports only new ones.

`.mllint-baseline.json` (schemas/baseline.schema.json) lists entries keyed by
policy id, file (relative to the baseline's directory) and resource address —
no line numbers, so edits elsewhere in a file keep an entry matching. A scan
with a baseline marks the matching findings suppressed (reason "baseline")
instead of dropping them. `update` merges: entries whose finding is still there
are kept, new findings are added, and an entry whose finding is gone is
removed only when this scan covered its file and ran its policy.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from mllint.config import display
from mllint.paths import schema_path
from mllint.records import Finding, Suppression

if TYPE_CHECKING:
    from mllint.scan import ScanReport

BASELINE_FILE = ".mllint-baseline.json"
FORMAT_VERSION = 1
SOURCE = REASON = "baseline"  # a baselined finding's suppression source and reason


class BaselineError(Exception):
    """A baseline file that cannot be used; str() is one line naming the file."""


@dataclass(frozen=True, order=True)
class Entry:
    file: str  # relative to the baseline's directory, posix
    address: str
    policy: str


@dataclass(frozen=True)
class Baseline:
    path: Path
    entries: frozenset[Entry] = field(default_factory=frozenset)

    @classmethod
    def read(cls, path: Path) -> "Baseline":
        """Load and validate a baseline file."""
        shown = display(path)
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise BaselineError(f"{shown}: no such baseline file (write one with `mllint baseline create`)") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise BaselineError(f"{shown}: cannot read baseline: {exc}") from None
        except json.JSONDecodeError as exc:
            raise BaselineError(f"{shown}:{exc.lineno}: not a baseline: invalid JSON: {exc.msg}") from None
        error = best_match(Draft202012Validator(_schema()).iter_errors(document))
        if error is not None:
            where = ".".join(str(p) for p in error.absolute_path) or "(top level)"
            raise BaselineError(f"{shown}: not a valid mllint baseline: {where}: {error.message}")
        entries = frozenset(Entry(e["file"], e["address"], e["policy"]) for e in document["findings"])
        return cls(path, entries)

    def render(self) -> str:
        """The file's text: sorted entries, stable key order, a trailing newline."""
        findings = [{"policy": e.policy, "file": e.file, "address": e.address} for e in sorted(self.entries)]
        return json.dumps({"version": FORMAT_VERSION, "findings": findings}, indent=2) + "\n"

    def write(self) -> None:
        self.path.write_text(self.render(), encoding="utf-8")

    def entry(self, finding: Finding, root: Path) -> Entry:
        """The key of `finding` (whose file is relative to the scan `root`)."""
        file = Path(os.path.relpath((root / finding.file).resolve(), self.path.resolve().parent)).as_posix()
        return Entry(file, finding.address, finding.policy_id)

    def apply(self, findings: list[Finding], root: Path) -> list[Finding]:
        """Mark the unsuppressed findings that the baseline lists as suppressed, source "baseline"."""
        file = Path(os.path.relpath(self.path.resolve(), root.resolve())).as_posix()
        return [
            replace(f, suppressed=True, suppression=Suppression((f.policy_id,), REASON, SOURCE, "resource", f.address, file, 0))
            if not f.suppressed and self.entry(f, root) in self.entries
            else f
            for f in findings
        ]


@lru_cache(maxsize=None)
def _schema() -> dict:
    with open(schema_path("baseline"), encoding="utf-8") as handle:
        return json.load(handle)


@dataclass(frozen=True)
class Change:
    """What `create` or `update` did to a baseline."""

    baseline: Baseline
    added: tuple[Entry, ...]
    kept: tuple[Entry, ...]
    removed: tuple[Entry, ...]

    def summary(self) -> str:
        """What was written, and each removed entry on its own line."""
        total = len(self.baseline.entries)
        lines = [
            f"Wrote {display(self.baseline.path)}: {total} finding{'' if total == 1 else 's'} "
            f"({len(self.added)} added, {len(self.kept)} kept, {len(self.removed)} removed)."
        ]
        lines.extend(f"  removed (no longer found): {e.policy} {e.address}  {e.file}" for e in self.removed)
        return "\n".join(lines)


def _found(path: Path, report: ScanReport, root: Path) -> set[Entry]:
    """The entries for the unsuppressed findings of `report`."""
    empty = Baseline(path)
    return {empty.entry(f, root) for f in report.findings if not f.suppressed}


def create(path: Path, report: ScanReport, root: Path) -> Change:
    """A baseline of every unsuppressed finding in `report`."""
    entries = _found(path, report, root)
    return Change(Baseline(path, frozenset(entries)), tuple(sorted(entries)), (), ())


def update(old: Baseline, report: ScanReport, root: Path, scanned: list[Path]) -> Change:
    """Merge `report` into `old`: keep what still matches or was not covered, add what is new."""
    found = _found(old.path, report, root)
    base = old.path.resolve().parent
    policies = {p.id for p in report.policies}
    covered_files = {(root / file).resolve() for file, _, _ in report.modelled}
    dirs = [p.resolve() for p in scanned if p.is_dir()]

    def covered(entry: Entry) -> bool:
        path = (base / entry.file).resolve()
        in_scope = path in covered_files or any(d == path or d in path.parents for d in dirs)
        return entry.policy in policies and in_scope

    removed = {e for e in old.entries if e not in found and covered(e)}
    entries = (old.entries - removed) | found
    return Change(
        Baseline(old.path, frozenset(entries)),
        added=tuple(sorted(found - old.entries)),
        kept=tuple(sorted(old.entries - removed)),
        removed=tuple(sorted(removed)),
    )
