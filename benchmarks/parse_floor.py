#!/usr/bin/env python3
"""The parse floor: discover and load every file as `mllint scan` does, and nothing else.

Same process set-up as a scan (Terraform in worker processes through tfparse, templates
through the CloudFormation loader, in workers too unless `--jobs 1`), but no modelling,
no policy, no report: the time a scan could not go below with these loaders. `run.py`
measures it next to the scan and reports scan / floor. Run it with the Python that
runs mllint:

    .venv/bin/python benchmarks/parse_floor.py benchmarks/corpus/scale-1 --jobs 2
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mllint.discover import discover
from mllint.scan import ScanOptions, _load
from mllint.workers import default_jobs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--jobs", type=int, default=default_jobs())
    args = parser.parse_args(argv)
    root = args.path.resolve()
    options = ScanOptions(paths=[root], root=root, jobs=args.jobs)
    found = discover(options.paths, options.root)
    resources = errors = 0
    for result in _load(found.units, options):
        resources += len(result.resources)
        errors += len(result.errors)
    print(f"{len(found.units)} units, {resources} resources, {errors} load errors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
