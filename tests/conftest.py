"""Shared helpers for the test suite."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from mllint.scan import ScanOptions, ScanReport, scan

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"


def run_scan(path: Path, root: Path | None = None, **options) -> ScanReport:
    """Scan `path` in-process, paths reported relative to `root` (default: its parent)."""
    root = root or (path.parent if path.is_file() else path)
    options.setdefault("jobs", 1)
    options.setdefault("timeout", 30)
    return scan(ScanOptions(paths=[path], root=root, **options))


@pytest.fixture
def scan_path():
    return run_scan


def write_template(directory: Path, text: str | bytes, name: str = "template.yaml") -> Path:
    """Write a template (dedented text, or bytes as given) under `directory`."""
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def load_cfn(directory: Path, text: str | bytes, name: str = "template.yaml"):
    """Write a template and load it with the CloudFormation loader, paths relative to `directory`."""
    from mllint.loaders.cloudformation import load_template

    return load_template(write_template(directory, text, name), directory)


def by_address(result) -> dict:
    return {resource.address: resource for resource in result.resources}
