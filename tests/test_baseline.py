"""The baseline: create, scan with it, update (merge), keys without line numbers, bad files."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from conftest import REPO
from repo_stacks import FARGATE_GPU_TF, NO_RETRY_TF, invoke, make_repo

REPORT_SCHEMA = json.loads((REPO / "schemas" / "report.schema.json").read_text())
BASELINE_SCHEMA = json.loads((REPO / "schemas" / "baseline.schema.json").read_text())
SARIF_SCHEMA = json.loads((REPO / "tests" / "schemas" / "sarif-2.1.0.json").read_text())

TRAIN = {"policy": "ML101", "file": "train/main.tf", "address": "aws_ecs_task_definition.trainer"}
SCORE = {"policy": "ML302", "file": "score/main.tf", "address": "aws_batch_job_definition.score"}
LEGACY = {"policy": "ML302", "file": "legacy/main.tf", "address": "aws_batch_job_definition.score"}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


def baseline_of(path: Path) -> list[dict]:
    document = json.loads(path.read_text())
    jsonschema.validate(document, BASELINE_SCHEMA)
    assert document["version"] == 1
    return document["findings"]


def scan_json(cwd: Path, *args: str) -> tuple[int, dict]:
    result = invoke("scan", "--jobs", "1", "--format", "json", *args, cwd=cwd)
    report = json.loads(result.stdout)
    jsonschema.validate(report, REPORT_SCHEMA)
    return result.exit_code, report


def new_findings(report: dict) -> list[tuple[str, str, str]]:
    return [(f["policy"]["id"], f["file"], f["address"]) for f in report["findings"] if not f["suppressed"]]


def create(cwd: Path, *args: str) -> str:
    result = invoke("baseline", "create", "--jobs", "1", *args, cwd=cwd)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_create_writes_sorted_keys_without_lines(repo: Path):
    assert create(repo) == "Wrote .mllint-baseline.json: 3 findings (3 added, 0 kept, 0 removed).\n"
    text = (repo / ".mllint-baseline.json").read_text()
    assert baseline_of(repo / ".mllint-baseline.json") == [LEGACY, SCORE, TRAIN]
    assert text.startswith('{\n  "version": 1,\n  "findings": [\n    {\n      "policy": "ML302",\n')
    assert "line" not in text
    create(repo)
    assert (repo / ".mllint-baseline.json").read_text() == text  # deterministic


def test_scan_with_the_baseline_reports_only_new_findings(repo: Path):
    create(repo)
    status, report = scan_json(repo, "--baseline", ".mllint-baseline.json", ".")
    assert status == 0
    assert new_findings(report) == []
    assert report["summary"] == {"error": 0, "warning": 0, "info": 0, "suppressed": 3, "baselined": 3, "files": 3, "errors": 0}
    assert [f["suppressed"] for f in report["findings"]] == [True, True, True]  # carried, not dropped
    assert report["findings"][0]["suppression"] == {
        "source": "baseline", "scope": "resource", "reason": "baseline", "file": ".mllint-baseline.json", "line": 0
    }

    (repo / "train" / "serve.tf").write_text(FARGATE_GPU_TF.replace('"trainer"', '"server"'))
    status, report = scan_json(repo, "--baseline", ".mllint-baseline.json", ".")
    assert status == 1
    assert new_findings(report) == [("ML101", "train/serve.tf", "aws_ecs_task_definition.server")]
    assert report["summary"] == {"error": 1, "warning": 0, "info": 0, "suppressed": 3, "baselined": 3, "files": 4, "errors": 0}

    text = invoke("scan", "--jobs", "1", "--baseline", ".mllint-baseline.json", ".", cwd=repo).stdout
    assert "train/main.tf" not in text and "aws_ecs_task_definition.server" in text
    assert text.endswith("Found 1 finding (1 error) in 4 files; 3 suppressed (3 by the baseline, not listed).\n")


def test_edits_elsewhere_in_the_file_keep_the_baseline_matching(repo: Path):
    create(repo)
    main_tf = repo / "train" / "main.tf"
    main_tf.write_text('locals {\n  team = "ml"\n}\n\n# the trainer\n' + FARGATE_GPU_TF + "\n" + NO_RETRY_TF)
    status, report = scan_json(repo, "--baseline", ".mllint-baseline.json", ".")
    suppressed = [(f["policy"]["id"], f["file"], f["line"]) for f in report["findings"] if f["suppressed"]]
    assert ("ML101", "train/main.tf", 6) in suppressed  # moved from line 1 to line 6, still baselined
    assert new_findings(report) == [("ML302", "train/main.tf", "aws_batch_job_definition.score")]
    assert status == 1


def test_the_file_is_part_of_the_key(repo: Path):
    """checkov#7647: the same address and policy in another file is a different finding."""
    create(repo, "score")
    assert baseline_of(repo / ".mllint-baseline.json") == [SCORE]
    status, report = scan_json(repo, "--baseline", ".mllint-baseline.json", "score", "legacy")
    assert (status, new_findings(report)) == (1, [("ML302", "legacy/main.tf", "aws_batch_job_definition.score")])


def test_paths_are_relative_to_the_baseline_file(repo: Path):
    create(repo)
    # scanning from a subdirectory: finding paths are relative to it, the baseline's to the repository
    status, report = scan_json(repo / "train", "--baseline", "../.mllint-baseline.json", ".")
    assert (status, new_findings(report), report["summary"]["baselined"]) == (0, [], 1)
    assert report["findings"][0]["file"] == "main.tf"


def test_update_merges_and_reports_what_it_removed(repo: Path):
    create(repo)
    (repo / "score" / "main.tf").write_text(NO_RETRY_TF.replace('type = "container"', 'type = "container"\n  retry_strategy {\n    attempts = 3\n  }'))
    (repo / "train" / "serve.tf").write_text(FARGATE_GPU_TF.replace('"trainer"', '"server"'))
    result = invoke("baseline", "update", "--jobs", "1", cwd=repo)
    assert result.exit_code == 0
    assert result.stdout == (
        "Wrote .mllint-baseline.json: 3 findings (1 added, 2 kept, 1 removed).\n"
        "  removed (no longer found): ML302 aws_batch_job_definition.score  score/main.tf\n"
    )
    server = {"policy": "ML101", "file": "train/serve.tf", "address": "aws_ecs_task_definition.server"}
    assert baseline_of(repo / ".mllint-baseline.json") == [LEGACY, TRAIN, server]
    # a fixed finding that comes back is new again
    (repo / "score" / "main.tf").write_text(NO_RETRY_TF)
    status, report = scan_json(repo, "--baseline", ".mllint-baseline.json", ".")
    assert (status, new_findings(report)) == (1, [("ML302", "score/main.tf", "aws_batch_job_definition.score")])


def test_update_keeps_entries_the_scan_did_not_cover(repo: Path):
    """checkov#6858: updating from a partial scan merges; it does not replace."""
    create(repo)
    (repo / "legacy" / "main.tf").write_text("")
    (repo / "train" / "main.tf").write_text("")
    # only score/ scanned and only ML1 run: nothing is removed, nothing added
    result = invoke("baseline", "update", "--jobs", "1", "--select", "ML1", "score", "legacy", cwd=repo)
    assert result.stdout == "Wrote .mllint-baseline.json: 3 findings (0 added, 3 kept, 0 removed).\n"
    result = invoke("baseline", "update", "--jobs", "1", "train", cwd=repo)
    assert result.stdout == (
        "Wrote .mllint-baseline.json: 2 findings (0 added, 2 kept, 1 removed).\n"
        "  removed (no longer found): ML101 aws_ecs_task_definition.trainer  train/main.tf\n"
    )
    assert baseline_of(repo / ".mllint-baseline.json") == [LEGACY, SCORE]


def test_the_config_names_the_baseline(repo: Path):
    (repo / ".mllint.yaml").write_text("baseline: ci/mllint-baseline.json\n")
    (repo / "ci").mkdir()
    written = (repo / "ci" / "mllint-baseline.json").resolve()  # shown in full: outside the working directory
    assert create(repo / "train") == f"Wrote {written}: 1 finding (1 added, 0 kept, 0 removed).\n"
    assert baseline_of(repo / "ci" / "mllint-baseline.json") == [{**TRAIN, "file": "../train/main.tf"}]
    status, report = scan_json(repo, ".")  # used without --baseline
    assert (status, new_findings(report)) == (1, [("ML302", "legacy/main.tf", "aws_batch_job_definition.score"),
                                                  ("ML302", "score/main.tf", "aws_batch_job_definition.score")])
    assert report["summary"]["baselined"] == 1


def test_sarif_marks_baselined_results_suppressed(repo: Path):
    create(repo, "train")
    result = invoke("scan", "--jobs", "1", "--format", "sarif", "--baseline", ".mllint-baseline.json", ".", cwd=repo)
    sarif = json.loads(result.stdout)
    jsonschema.validate(sarif, SARIF_SCHEMA)
    suppressed = [(r["ruleId"], r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"], r["suppressions"])
                  for r in sarif["runs"][0]["results"] if r.get("suppressions")]
    assert suppressed == [("ML101", "aws_ecs_task_definition.trainer", [{"kind": "external", "justification": "baseline"}])]
    assert result.exit_code == 1  # the two ML302 findings are new


@pytest.mark.parametrize(
    "text, message",
    [
        (None, "mllint: error: base.json: no such baseline file (write one with `mllint baseline create`)"),
        ("{\n  \"version\": 1,\n  findings: []\n}\n", "mllint: error: base.json:3: not a baseline: invalid JSON: Expecting property name enclosed in double quotes"),
        ('{"version": 1, "findings": [{"policy": "ML101", "file": "a.tf"}]}', "mllint: error: base.json: not a valid mllint baseline: findings.0: 'address' is a required property"),
        ('{"version": 2, "findings": []}', "mllint: error: base.json: not a valid mllint baseline: version: 1 was expected"),
        ('[]', "mllint: error: base.json: not a valid mllint baseline: (top level): [] is not of type 'object'"),
    ],
)
def test_a_missing_or_malformed_baseline_is_one_line_and_exit_2(repo: Path, text: str | None, message: str):
    if text is not None:
        (repo / "base.json").write_text(text)
    for command in (["scan", "--baseline", "base.json", "."], ["baseline", "update", "--baseline", "base.json"]):
        result = invoke(*command, cwd=repo)
        assert result.exit_code == 2
        assert result.stdout == ""
        assert result.stderr == message + "\n"


def test_no_baseline_from_a_scan_that_could_not_load_everything(repo: Path):
    (repo / "broken.yaml").write_text("AWSTemplateFormatVersion: '2010-09-09'\nResources: [\n")
    result = invoke("baseline", "create", "--jobs", "1", cwd=repo)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        "mllint: error: .mllint-baseline.json: not written, because 1 file(s) could not be loaded (fix or exclude them)"
    )
    assert not (repo / ".mllint-baseline.json").exists()
    (repo / ".mllint.yaml").write_text("exclude: [broken.yaml]\n")
    assert create(repo) == "Wrote .mllint-baseline.json: 3 findings (3 added, 0 kept, 0 removed).\n"
