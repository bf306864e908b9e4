"""Which findings a scan reports: everything under the directories it was given,
and only the named files for the files it was given.

`mllint scan infra/main.tf` evaluates the whole module directory `infra/` (so
variables, locals and modules resolve) but reports only what sits in
`infra/main.tf` - the behaviour pre-commit needs (checkov#3517) and what a
person naming one file expects. A unit that a directory argument also covers is
reported in full.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mllint.discover import Unit, _rel


@dataclass(frozen=True)
class Scope:
    files: frozenset[str]  # explicit file arguments, relative to the scan root
    directories: tuple[Path, ...]  # explicit directory arguments, resolved

    @classmethod
    def of(cls, paths: list[Path], root: Path) -> "Scope":
        files, directories = set(), []
        for path in paths:
            if path.is_file():
                files.add(_rel(path.resolve(), root))
            elif path.is_dir():
                directories.append(path.resolve())
        return cls(frozenset(files), tuple(directories))

    def narrows(self, unit: Unit) -> bool:
        """True when only file arguments brought this unit in: report just those files."""
        if not self.files:
            return False
        return not any(unit.path == d or d in unit.path.parents for d in self.directories)

    def subjects(self, unit: Unit, subjects: list) -> list:
        """The modelled resources of `unit` whose findings are reported."""
        if not self.narrows(unit):
            return subjects
        return [s for s in subjects if s.resource.file in self.files]
