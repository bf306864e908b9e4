"""Find the units to scan: Terraform module directories and CloudFormation templates.

A Terraform unit is one directory holding `.tf` / `.tf.json` files (one root
module; local modules it calls are evaluated with it). A CloudFormation unit is
one YAML or JSON file recognised by its content, not its extension.
Anything else is skipped quietly and listed in `skipped` for `--verbose`.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from mllint.records import LoadError

SKIP_DIRS = {".git", ".terraform", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".mypy_cache"}
CFN_SUFFIXES = {".yaml", ".yml", ".json", ".template"}
TF_SUFFIXES = (".tf", ".tf.json")
SNIFF_BYTES = 64 * 1024

_CFN_VERSION = re.compile(r"""["']?AWSTemplateFormatVersion["']?\s*:""")
_CFN_RESOURCE_TYPE = re.compile(r"""["']?Type["']?\s*:\s*["']?(AWS|Custom)::[A-Za-z0-9]+""")
_CFN_RESOURCES = re.compile(r"""(^|[{,\s])["']?Resources["']?\s*:""", re.MULTILINE)


@dataclass(frozen=True, order=True)
class Unit:
    """One thing to load: a Terraform module directory or a CloudFormation file."""

    kind: str  # "terraform" | "cloudformation"
    path: Path  # absolute
    rel: str  # posix path relative to the scan root ("." for the root itself)
    files: int = 1  # IaC files it holds (Terraform files directly in the module directory)


@dataclass
class Discovery:
    units: list[Unit] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    errors: list[LoadError] = field(default_factory=list)


def looks_like_cloudformation(head: str) -> bool:
    """True when the text reads like a CloudFormation / SAM template."""
    if _CFN_VERSION.search(head):
        return True
    return bool(_CFN_RESOURCES.search(head) and _CFN_RESOURCE_TYPE.search(head))


def _rel(path: Path, root: Path) -> str:
    try:
        rel = path.relative_to(root)
    except ValueError:
        return path.as_posix()
    return rel.as_posix() or "."


def _is_virtualenv(directory: Path) -> bool:
    """A Python virtualenv (any name): installed packages are not the user's infrastructure."""
    return (directory / "pyvenv.cfg").is_file()


def _is_tf_file(name: str) -> bool:
    return name.endswith(TF_SUFFIXES)


def discover(paths: list[Path], root: Path, exclude: Callable[[Path], bool] = lambda path: False) -> Discovery:
    """Walk `paths` (files or directories) and return the units in stable order.

    `exclude(absolute path)` true leaves a file or directory out, even one named in `paths`.
    """
    found = Discovery()
    tf_dirs: dict[Path, set[Path]] = {}  # module directory -> its Terraform files seen
    cfn_files: set[Path] = set()
    for given in paths:
        path = given.resolve() if given.exists() else given
        if not given.exists():
            found.errors.append(LoadError(_rel(path, root), 0, "no such file or directory"))
            continue
        if exclude(path):
            continue
        if given.is_file():
            _classify_file(path, root, tf_dirs, cfn_files, found, explicit=True)
            continue
        for dirpath, dirnames, filenames in os.walk(path, followlinks=False):
            dirnames[:] = sorted(
                d for d in dirnames
                if d not in SKIP_DIRS and not _is_virtualenv(Path(dirpath) / d) and not exclude(Path(dirpath) / d)
            )
            for name in sorted(n for n in filenames if not exclude(Path(dirpath) / n)):
                _classify_file(Path(dirpath) / name, root, tf_dirs, cfn_files, found, explicit=False)
    found.units = sorted(
        [Unit("terraform", d, _rel(d, root), len(tf_dirs[d])) for d in root_modules(set(tf_dirs))]
        + [Unit("cloudformation", f, _rel(f, root)) for f in cfn_files],
        key=lambda u: (u.rel, u.kind),
    )
    found.skipped = sorted(set(found.skipped))
    return found


_LOCAL_SOURCE = re.compile(r'\bsource\s*=\s*"(\.{1,2}(?:/[^"]*)?)"')


def local_module_calls(module_dir: Path) -> set[Path]:
    """Directories of local modules (`source = "./..."`) that the .tf files in `module_dir` call."""
    called = set()
    for tf_file in sorted(module_dir.glob("*.tf")):
        try:
            text = tf_file.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue  # reported when the module is loaded
        for source in _LOCAL_SOURCE.findall(text):
            called.add((module_dir / source).resolve())
    return called


def root_modules(tf_dirs: set[Path]) -> set[Path]:
    """The directories to evaluate as root modules.

    A directory that another scanned module calls as a local module is
    evaluated through its caller (so its resources get module addresses), unless
    it is only reachable through a cycle of calls with no root above it.
    """
    calls = {d: local_module_calls(d) & tf_dirs - {d} for d in tf_dirs}
    called = set().union(*calls.values()) if calls else set()
    roots = {d for d in tf_dirs if d not in called}
    reached: set[Path] = set()
    pending = list(roots)
    while pending:
        for callee in calls[pending.pop()]:
            if callee not in reached:
                reached.add(callee)
                pending.append(callee)
    return {d for d in tf_dirs if d in roots or d not in reached}


def _classify_file(path: Path, root: Path, tf_dirs: dict, cfn_files: set, found: Discovery, explicit: bool) -> None:
    name = path.name
    if _is_tf_file(name):
        tf_dirs.setdefault(path.parent, set()).add(path)
        return
    if path.suffix.lower() not in CFN_SUFFIXES and not explicit:
        return
    try:
        with open(path, "rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError as exc:
        found.errors.append(LoadError(_rel(path, root), 0, f"cannot read file: {exc.strerror or exc}"))
        return
    text = head.decode("utf-8", errors="replace")
    if looks_like_cloudformation(text):
        cfn_files.add(path)
    else:
        found.skipped.append(_rel(path, root))
