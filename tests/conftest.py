"""Shared helpers for the test suite."""
from __future__ import annotations

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
