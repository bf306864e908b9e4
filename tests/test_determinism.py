"""Same input, byte-identical output: across hash seeds, worker counts and formats.

The whole fixtures tree (Terraform, Terraform JSON and CDK for Terraform, plan JSON,
CloudFormation, nested stacks, CDK output) is scanned by `mllint` subprocesses that differ in
PYTHONHASHSEED (set iteration order) and `--jobs` (the order in which workers finish), each
writing every format at once; all the reports must be the same bytes.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import REPO

FORMATS = ("text", "json", "sarif", "junit", "github")
RUNS = (("0", "1"), ("1", "2"), ("12345", "2"), ("random", "1"))  # (PYTHONHASHSEED, --jobs)


def scan_fixtures(out: Path, seed: str, jobs: str) -> dict[str, bytes]:
    """Every report file of one scan of fixtures/, by name."""
    env = {**os.environ, "PYTHONHASHSEED": seed, "NO_COLOR": "1"}
    run = subprocess.run(
        [sys.executable, "-m", "mllint", "scan", *(a for f in FORMATS for a in ("--format", f)),
         "--output-dir", str(out), "--jobs", jobs, "fixtures"],
        cwd=REPO, env=env, capture_output=True, text=True, check=False, timeout=600,
    )
    assert run.returncode == 1, run.stderr  # the fixtures have findings and no errors
    return {path.name: path.read_bytes() for path in sorted(out.iterdir())}


def test_reports_are_byte_identical_across_hash_seeds_and_jobs(tmp_path: Path):
    first, *others = [scan_fixtures(tmp_path / f"seed-{seed}-jobs-{jobs}", seed, jobs) for seed, jobs in RUNS]
    assert sorted(first) == ["mllint.github.txt", "mllint.json", "mllint.junit.xml", "mllint.sarif", "mllint.txt"]
    assert b'"file": "fixtures/ML201/terraform/cdktf_nightly_retrain/cdktf.out/stacks/ml-training/cdk.tf.json"' in first["mllint.json"]
    assert b'"file": "fixtures/ML101/cloudformation/' in first["mllint.json"]
    for (seed, jobs), reports in zip(RUNS[1:], others):
        for name, content in first.items():
            assert reports[name] == content, f"{name} differs with PYTHONHASHSEED={seed} --jobs {jobs}"
