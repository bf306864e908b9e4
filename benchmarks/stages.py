#!/usr/bin/env python3
"""Where a scan's CPU time goes: each stage of the pipeline run alone, in one process.

Prints one JSON object: CPU seconds (user + system of this process; the fastest of
--repeat runs) of discovering the files, tfparse itself, turning tfparse's output into
resources, loading the templates, modelling, evaluating the policies (jsonschema),
suppressions, and rendering the JSON report; with the number of units, resources and
subjects. tfparse runs in this process here (a scan isolates it in workers), so start-up,
worker and pickling costs are not in these figures: run.py's scan / parse-floor and
CPU-time rows show those. Run it with the Python that runs mllint:

    .venv/bin/python benchmarks/stages.py benchmarks/corpus/scale-1
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
from pathlib import Path
from typing import Callable


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(repeat: int, work: Callable[[], object]) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = cpu()
        result = work()
        best = min(best, cpu() - start)
    return best, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    root = args.path.resolve()

    from mllint.discover import discover
    from mllint.engine import evaluate
    from mllint.loaders.cloudformation import load_template
    from mllint.loaders.terraform import load_module
    from mllint.model import model_unit
    from mllint.report.json_report import render
    from mllint.scan import ScanOptions, ScanReport, selected_policies
    from mllint.scope import Scope
    from mllint.unitscan import UnitScanner
    from mllint.workers import GO_GC_PERCENT

    options = ScanOptions(paths=[root], root=root, jobs=1)
    policies = selected_policies(options)
    stages: dict[str, float] = {}
    stages["discover"], found = timed(args.repeat, lambda: discover(options.paths, root))
    terraform = [u for u in found.units if u.kind == "terraform"]
    templates = [u for u in found.units if u.kind == "cloudformation"]

    os.environ.setdefault("GOGC", GO_GC_PERCENT)  # as in the workers, before the Go runtime starts
    import tfparse

    def raw() -> None:
        for unit in terraform:
            tfparse.load_from_path(str(unit.path), stop_on_hcl_error=True, allow_downloads=False, vars_paths=[])

    stages["tfparse (Go, in-process)"], _ = timed(args.repeat, raw)
    loaded_tf, tf_results = timed(args.repeat, lambda: [load_module(u.path, root) for u in terraform])
    stages["Terraform loader besides tfparse"] = max(0.0, loaded_tf - stages["tfparse (Go, in-process)"])
    stages["CloudFormation loader"], cfn_results = timed(args.repeat, lambda: [load_template(u.path, root) for u in templates])
    results = list(zip(terraform, tf_results)) + list(zip(templates, cfn_results))
    stages["model (facts, roles)"], subjects = timed(args.repeat, lambda: [model_unit(r.resources) for _, r in results])
    stages["policies (jsonschema)"], _ = timed(args.repeat, lambda: [evaluate(s, policies) for s in subjects])
    scanner = UnitScanner.of(policies, [], True, Scope.of([root], root))
    whole, outcomes = timed(args.repeat, lambda: [scanner.scan(u, r) for u, r in results])
    stages["suppressions and the rest of a unit's scan"] = max(
        0.0, whole - stages["model (facts, roles)"] - stages["policies (jsonschema)"])
    report = ScanReport(findings=[f for o in outcomes for f in o.findings], errors=[], units=found.units, skipped=[],
                        policies=policies, modelled=[m for o in outcomes for m in o.modelled])
    stages["JSON report"], _ = timed(args.repeat, lambda: render(report))
    counts = {"units": len(found.units), "resources": sum(len(r.resources) for _, r in results),
              "subjects": sum(len(s) for s in subjects), "findings": len(report.findings)}
    print(json.dumps({"cpu_seconds": {k: round(v, 3) for k, v in stages.items()}, "counts": counts}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
