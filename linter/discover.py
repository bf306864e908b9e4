"""Find the units to scan: Terraform module directories, plan JSON and CloudFormation templates.

A Terraform unit is one directory holding `.tf` / `.tf.json` files (one root
module; local modules it calls are evaluated with it); a CDK for Terraform stack
is one too, without its assets (`mllint.loaders.cdktf`). A CloudFormation unit is
one YAML or JSON file recognised by its content, not its extension, with the
templates it nests (`mllint.loaders.cfn_nested`); in a CDK output folder
(`mllint.loaders.cdk`), the stack templates only. A Terraform plan or state as JSON
(`terraform show -json`) is one unit too, recognised by its content.
Anything else is skipped quietly and listed in `skipped` for `--verbose`, as are
CodeDeploy AppSpec files and macro events, which only read like templates
(`mllint.loaders.cfn_lookalikes`).
"""
from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from mllint.loaders import cdktf
from mllint.loaders.cdk import cloud_assembly
from mllint.loaders.cfn_lookalikes import not_a_template
from mllint.loaders.cfn_nested import nested_templates
from mllint.loaders.files import NOT_REGULAR, cannot_read
from mllint.records import LoadError

SKIP_DIRS = {".git", ".terraform", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".mypy_cache"}
CFN_SUFFIXES = {".yaml", ".yml", ".json", ".template"}
TF_SUFFIXES = (".tf", ".tf.json")
SNIFF_BYTES = 64 * 1024
MAX_TF_BYTES = 20 * 1024 * 1024  # a larger Terraform file is reported, not read

_CFN_VERSION = re.compile(r"""["']?AWSTemplateFormatVersion["']?\s*:""")
_CFN_RESOURCE_TYPE = re.compile(r"""["']?Type["']?\s*:\s*["']?(AWS|Custom)::[A-Za-z0-9]+""")
_CFN_RESOURCES = re.compile(r"""(^|[{,\s])["']?Resources["']?\s*:""", re.MULTILINE)
# `terraform show -json` output: an object with a format_version and a plan's or a state's keys
# (an escaped `\"key\":` inside a string value doesn't count).
_TF_SHOW_START = re.compile(r"^\ufeff?\s*\{")
_TF_SHOW_VERSION = re.compile(r'(?<!\\)"format_version"\s*:\s*"\d')
_TF_SHOW_KEYS = re.compile(r'(?<!\\)"(?:terraform_version|planned_values|resource_changes)"\s*:')
_CFN_JSON_VERSION = re.compile(r'(?<!\\)"AWSTemplateFormatVersion"\s*:')


@dataclass(frozen=True, order=True)
class Unit:
    """One thing to load: a Terraform module directory or a CloudFormation file."""

    kind: str  # "terraform" | "cloudformation" | "terraform-plan" (plan or state JSON)
    path: Path  # absolute
    rel: str  # posix path relative to the scan root ("." for the root itself)
    files: int = 1  # IaC files it holds (Terraform files directly in the module directory)


@dataclass
class Discovery:
    units: list[Unit] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    errors: list[LoadError] = field(default_factory=list)
    plans: set[Path] = field(default_factory=set)  # Terraform plan / state JSON files seen


def looks_like_cloudformation(head: str) -> bool:
    """True when the text reads like a CloudFormation / SAM template."""
    if _CFN_VERSION.search(head):
        return True
    return bool(_CFN_RESOURCES.search(head) and _CFN_RESOURCE_TYPE.search(head))


def looks_like_terraform_plan(head: str) -> bool:
    """True when the text reads like `terraform show -json` output (a plan or a state)."""
    return bool(
        _TF_SHOW_START.match(head) and _TF_SHOW_VERSION.search(head) and _TF_SHOW_KEYS.search(head)
        and not _CFN_JSON_VERSION.search(head)
    )


def _rel(path: Path, root: Path) -> str:
    try:
        rel = path.relative_to(root)
    except ValueError:
        return path.as_posix()
    return rel.as_posix() or "."


def _is_virtualenv(directory: Path) -> bool:
    """A Python virtualenv (any name): installed packages are not the user's infrastructure."""
    try:
        return (directory / "pyvenv.cfg").is_file()
    except OSError:
        return False  # an unreadable directory: os.walk reports it


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
        if not given.is_dir():
            _classify_file(path, root, tf_dirs, cfn_files, found, explicit=True)
            continue

        def unreadable_dir(exc: OSError) -> None:
            found.errors.append(LoadError(_rel(Path(exc.filename), root), 0, f"cannot read directory: {exc.strerror}"))

        for dirpath, dirnames, filenames in os.walk(path, onerror=unreadable_dir, followlinks=False):
            dirnames[:] = sorted(
                d for d in dirnames
                if d not in SKIP_DIRS and not _is_virtualenv(Path(dirpath) / d) and not exclude(Path(dirpath) / d)
            )
            assets = cdktf.asset_folders(Path(dirpath), dirnames + filenames)
            if assets:  # a CDK for Terraform stack's assets: code and files, never read (modules are)
                found.skipped.extend(_rel(Path(dirpath) / name, root) for name in assets)
                dirnames[:] = [d for d in dirnames if d not in assets]
                filenames = [n for n in filenames if n not in assets]
            assembly = cloud_assembly(Path(dirpath), filenames)
            if assembly is not None:  # cdk.out: its stack templates only, never its assets
                found.skipped.extend(_rel(Path(dirpath) / d, root) for d in dirnames if assembly.is_asset(d))
                dirnames[:] = [d for d in dirnames if not assembly.is_asset(d)]
            for name in sorted(n for n in filenames if not exclude(Path(dirpath) / n)):
                if assembly is not None and name not in assembly.templates:
                    found.skipped.append(_rel(Path(dirpath) / name, root))
                elif assembly is not None and (Path(dirpath) / name).is_file():
                    cfn_files.add(Path(dirpath) / name)  # a template by the manifest's word, whatever it holds
                else:
                    _classify_file(Path(dirpath) / name, root, tf_dirs, cfn_files, found, explicit=assembly is not None)
    found.units = sorted(
        [Unit("terraform", d, _rel(d, root), len(tf_dirs[d])) for d in root_modules(set(tf_dirs))]
        + [Unit("cloudformation", f, _rel(f, root)) for f in roots_of(cfn_files, nested_templates)]
        + [Unit("terraform-plan", f, _rel(f, root)) for f in found.plans],
        key=lambda u: (u.rel, u.kind),
    )
    found.skipped = sorted(set(found.skipped))
    return found




def root_modules(tf_dirs: set[Path]) -> set[Path]:
    """The directories to evaluate as root modules.

    A directory that another scanned module calls as a local module is
    evaluated through its caller (so its resources get module addresses), unless
    it is only reachable through a cycle of calls with no root above it.
    """
    from mllint.loaders.tf_modules import local_module_calls  # it imports this module

    return roots_of(tf_dirs, local_module_calls)


def roots_of(units: set[Path], calls_of: Callable[[Path], set[Path]]) -> set[Path]:
    """The `units` to load on their own: those no other unit calls (`calls_of`: the
    units it loads with itself), and those only reachable through a cycle of calls
    (one unit per cycle: its loader reports the cycle once)."""
    calls = {d: calls_of(d) & units - {d} for d in units}
    called = set().union(*calls.values()) if calls else set()
    roots = {d for d in units if d not in called}
    reached = set().union(*(_reachable(d, calls) for d in roots)) if roots else set()
    chosen, covered = set(roots), set(roots) | reached
    for unit in sorted(units - covered):  # in cycles, or called only from cycles
        below = _reachable(unit, calls)
        callers = {d for d in units if unit in _reachable(d, calls)}
        if unit not in covered and callers <= below:  # a cycle that nothing outside it calls
            chosen.add(unit)
            covered |= below | {unit}
    return chosen


def _reachable(start: Path, calls: dict[Path, set[Path]]) -> set[Path]:
    """The units `start` calls, directly or not."""
    reached: set[Path] = set()
    pending = [start]
    while pending:
        for callee in calls[pending.pop()]:
            if callee not in reached:
                reached.add(callee)
                pending.append(callee)
    return reached


def _classify_file(path: Path, root: Path, tf_dirs: dict, cfn_files: set, found: Discovery, explicit: bool) -> None:
    name = path.name
    if _is_tf_file(name):
        tf_dirs.setdefault(path.parent, set()).add(path)
        return
    if path.suffix.lower() not in CFN_SUFFIXES and not explicit:
        return
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            found.errors.append(LoadError(_rel(path, root), 0, NOT_REGULAR))
            return
        with open(path, "rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError as exc:
        found.errors.append(LoadError(_rel(path, root), 0, cannot_read(path, exc)))
        return
    text = _sniff_text(head)
    if looks_like_terraform_plan(text):  # first: a plan may hold a template in a string value
        found.plans.add(path)
    elif looks_like_cloudformation(text) and not not_a_template(path, text):
        cfn_files.add(path)
    else:
        found.skipped.append(_rel(path, root))


_BOMS = ((b"\xff\xfe\x00\x00", "utf-32-le"), (b"\x00\x00\xfe\xff", "utf-32-be"),
         (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


def _sniff_text(head: bytes) -> str:
    """The start of a file as text: UTF-16/32 with a byte-order mark too, so such a template
    is recognised (and its loader says why it cannot be read) rather than skipped."""
    for bom, codec in _BOMS:
        if head.startswith(bom):
            return head[len(bom):].decode(codec, errors="replace")
    return head.decode("utf-8", errors="replace")
