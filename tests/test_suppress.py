"""Inline suppressions: every form in both frameworks, module scope through count and
for_each, the diagnostics ML001 (unused) and ML002 (invalid), `ignorable: false`, and
what each output format and the exit status make of a suppressed finding.

The stacks are written here: a Fargate task that requests a GPU (ML101 gpu-on-fargate,
error) and a GPU Batch job without retries (ML302 batch-job-without-retry, warning).
"""
from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import jsonschema
import pytest
from click.testing import CliRunner

from conftest import REPO, run_scan
from mllint.cli import exit_status, main
from mllint.policy import PolicyError
from mllint.records import Suppression

REPORT_SCHEMA = json.loads((REPO / "schemas" / "report.schema.json").read_text())
SARIF_SCHEMA = json.loads((Path(__file__).parent / "schemas" / "sarif-2.1.0.json").read_text())

TF_TASK = """resource "aws_ecs_task_definition" "train" {
  #INSIDE
  family                   = "train"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = "4096"
  memory                   = "16384"
  container_definitions = jsonencode([{
    name                 = "trainer"
    image                = "train:1"
    resourceRequirements = [{ type = "GPU", value = "1" }]
  }])
}
"""
TF_JOB = """resource "aws_batch_job_definition" "score" {
  #INSIDE
  name                  = "score"
  type                  = "container"
  platform_capabilities = ["EC2"]
  container_properties = jsonencode({
    image                = "score:1"
    resourceRequirements = [{ type = "GPU", value = "1" }, { type = "VCPU", value = "4" }, { type = "MEMORY", value = "16384" }]
  })
}
"""
CFN = """AWSTemplateFormatVersion: "2010-09-09"
Resources:
  TrainTask:
    Type: AWS::ECS::TaskDefinition
    Properties:
      RequiresCompatibilities: [FARGATE]
      NetworkMode: awsvpc
      Cpu: "4096"
      Memory: "16384"
      ContainerDefinitions:
        - Name: trainer
          Image: train:1
          ResourceRequirements:
            - Type: GPU
              Value: "1"
  ScoreJob:
    Type: AWS::Batch::JobDefinition
    Properties:
      Type: container
      PlatformCapabilities: [EC2]
      ContainerProperties:
        Image: score:1
        ResourceRequirements:
          - Type: GPU
            Value: "1"
          - Type: VCPU
            Value: "4"
          - Type: MEMORY
            Value: "16384"
"""
TASK = "aws_ecs_task_definition.train"
JOB = "aws_batch_job_definition.score"


def tf(text: str, inside: str = "") -> str:
    """A block with `inside` as its first line (nothing when empty)."""
    return text.replace("  #INSIDE\n", f"  {inside}\n" if inside else "")


def write(directory: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(text)
    return directory


def outcome(report) -> list[tuple]:
    """(policy, address, suppressed) of every finding, sorted."""
    return sorted((f.policy_id, f.address, f.suppressed) for f in report.findings)


def diagnostics(report) -> list[tuple]:
    """(policy, file, line, address, message) of the ML001/ML002 findings."""
    return [(f.policy_id, f.file, f.line, f.address, f.message) for f in report.findings if f.policy_id in ("ML001", "ML002")]


def scan_cli(*args: str):
    return CliRunner().invoke(main, ["scan", "--jobs", "1", *args], catch_exceptions=False)


# --- Terraform ---------------------------------------------------------------------------

@pytest.mark.parametrize("comment", [
    "# mllint: ignore[ML101] -- GPU capacity provider lands next sprint",
    "// mllint: ignore[ML101] -- GPU capacity provider lands next sprint",
    "/* mllint: ignore[ML101] -- GPU capacity provider lands next sprint */",
    "/* mllint:ignore[gpu-on-fargate]\n     -- GPU capacity provider lands next sprint */",
    "#mllint: IGNORE[ml101] -- GPU capacity provider lands next sprint",
])
def test_terraform_comment_in_resource_suppresses_that_policy_there(tmp_path: Path, comment: str):
    write(tmp_path, {"main.tf": tf(TF_TASK, comment) + tf(TF_JOB)})
    report = run_scan(tmp_path)
    assert outcome(report) == [("ML101", TASK, True), ("ML302", JOB, False)]
    (suppressed,) = [f for f in report.findings if f.suppressed]
    assert suppressed.suppression == Suppression(
        ids=(suppressed.suppression.ids[0],), reason="GPU capacity provider lands next sprint", source="comment",
        scope="resource", target=TASK, file="main.tf", line=2,
    )
    assert exit_status(report, "warning") == 1 and exit_status(report, "error") == 0


def test_terraform_comment_after_a_value_and_in_a_nested_block(tmp_path: Path):
    task = tf(TF_TASK).replace('  cpu                      = "4096"', '  cpu = "4096" # mllint: ignore[ML101] -- sized for CPU later')
    job = tf(TF_JOB).replace('    image                = "score:1"', '    # mllint: ignore[ML302] -- idempotent, rerun by the scheduler\n    image = "score:1"')
    write(tmp_path, {"main.tf": task + job})
    report = run_scan(tmp_path)
    assert outcome(report) == [("ML101", TASK, True), ("ML302", JOB, True)]
    assert exit_status(report, "info") == 0


def test_text_in_strings_and_heredocs_is_not_a_comment(tmp_path: Path):
    task = tf(TF_TASK, 'description = "# mllint: ignore[ML101] -- not a comment ${"#"}"')
    task = task.replace('  family ', '  user_data = <<-EOT\n    # mllint: ignore[ML101] -- inside a heredoc\n  EOT\n  family ')
    write(tmp_path, {"main.tf": task})
    report = run_scan(tmp_path)
    assert outcome(report) == [("ML101", TASK, False)]


def test_terraform_json_comment_property(tmp_path: Path):
    document = {"resource": {"aws_batch_job_definition": {"score": {
        "//": "mllint: ignore[ML302] -- idempotent job, rerun by the scheduler",
        "name": "score", "type": "container", "platform_capabilities": ["EC2"],
        "container_properties": json.dumps({"image": "score:1", "resourceRequirements": [{"type": "GPU", "value": "1"}]}),
    }}}}
    write(tmp_path, {"main.tf.json": json.dumps(document, indent=2)})
    report = run_scan(tmp_path)
    assert outcome(report) == [("ML302", JOB, True)]
    assert report.findings[0].suppression.line == 5


MODULE = {
    "modules/train/main.tf": 'variable "name" { type = string }\n' + tf(TF_TASK) + tf(TF_JOB)
    + 'module "inner" {\n  source = "./inner"\n}\n',
    "modules/train/inner/main.tf": tf(TF_JOB),
}


@pytest.mark.parametrize("meta, keys", [
    ("count = 2", ["[0]", "[1]"]),
    ('for_each = toset(["en", "de"])', ['["de"]', '["en"]']),
])
def test_module_comment_covers_every_instance_and_nested_module(tmp_path: Path, meta: str, keys: list[str]):
    write(tmp_path, {
        **MODULE,
        "main.tf": 'module "train" {\n  # mllint: ignore[ML302] -- retries come from the Step Functions caller\n'
                   f'  source = "./modules/train"\n  {meta}\n  name   = "train"\n}}\n',
    })
    report = run_scan(tmp_path)
    expected = []
    for key in keys:
        expected += [
            ("ML101", f"module.train{key}.{TASK}", False),
            ("ML302", f"module.train{key}.{JOB}", True),
            ("ML302", f"module.train{key}.module.inner.{JOB}", True),
        ]
    assert outcome(report) == sorted(expected)
    assert {(f.suppression.scope, f.suppression.target, f.suppression.file, f.suppression.line)
            for f in report.findings if f.suppressed} == {("module", "module.train", "main.tf", 2)}
    assert diagnostics(report) == []


def test_nested_module_block_comment_covers_only_that_call(tmp_path: Path):
    files = dict(MODULE)
    files["modules/train/main.tf"] = files["modules/train/main.tf"].replace(
        'module "inner" {\n', 'module "inner" {\n  # mllint: ignore[ML302] -- owned by the data team\n')
    write(tmp_path, {**files, "main.tf": 'module "train" {\n  source = "./modules/train"\n  name = "t"\n}\n'})
    report = run_scan(tmp_path)
    assert outcome(report) == [
        ("ML101", f"module.train.{TASK}", False),
        ("ML302", f"module.train.{JOB}", False),
        ("ML302", f"module.train.module.inner.{JOB}", True),
    ]


def test_file_level_comment_covers_the_resources_of_its_file_only(tmp_path: Path):
    write(tmp_path, {
        "jobs.tf": "# mllint: ignore-file[ML302, ML101] -- legacy jobs, replaced in Q3\n\n" + tf(TF_JOB),
        "more.tf": tf(TF_JOB).replace('"score"', '"rank"', 1),
        "tasks.tf": tf(TF_TASK),
    })
    report = run_scan(tmp_path)
    assert outcome(report) == [
        ("ML001", "jobs.tf", False),
        ("ML101", TASK, False),
        ("ML302", "aws_batch_job_definition.rank", False),
        ("ML302", JOB, True),
    ]
    assert diagnostics(report) == [(
        "ML001", "jobs.tf", 1, "jobs.tf",
        "suppression of ML101 gpu-on-fargate suppresses nothing: no ML101 finding on file jobs.tf",
    )]


def test_terraform_tag(tmp_path: Path):
    job = tf(TF_JOB, 'tags = { Team = "ranking", "mllint:ignore" = "ML302 -- idempotent, rerun by Airflow" }')
    write(tmp_path, {"main.tf": tf(TF_TASK, 'tags = { "mllint:ignore" = "ML101" }') + job})
    report = run_scan(tmp_path)
    assert outcome(report) == [("ML002", TASK, False), ("ML101", TASK, False), ("ML302", JOB, True)]
    suppression = next(f.suppression for f in report.findings if f.suppressed)
    assert (suppression.source, suppression.reason, suppression.line) == ("tag", "idempotent, rerun by Airflow", 14)
    assert diagnostics(report) == [(
        "ML002", "main.tf", 1, TASK,
        "suppression of ML101 gives no reason, so it was not applied: write the tag value as `ID -- reason`",
    )]


# --- CloudFormation ----------------------------------------------------------------------

def cfn(after_logical_id: dict[str, str] | None = None, top: str = "") -> str:
    text = top + CFN
    for logical_id, line in (after_logical_id or {}).items():
        text = text.replace(f"  {logical_id}:\n", f"  {logical_id}:\n{line}\n")
    return text


def test_cloudformation_yaml_comment_in_resource(tmp_path: Path):
    path = tmp_path / "stack.yaml"
    path.write_text(cfn({"TrainTask": "    # mllint: ignore[ML101] -- GPU capacity provider lands next sprint"})
                    .replace("      Type: container", "      Type: container  # mllint: ignore[ML302] -- rerun by the scheduler"))
    report = run_scan(path)
    assert outcome(report) == [("ML101", "TrainTask", True), ("ML302", "ScoreJob", True)]
    assert sorted((f.suppression.line, f.suppression.source) for f in report.findings) == [(4, "comment"), (20, "comment")]


def test_cloudformation_comment_outside_a_resource_is_reported(tmp_path: Path):
    path = tmp_path / "stack.yaml"
    path.write_text(cfn().replace("  ScoreJob:\n", "  # mllint: ignore[ML302] -- above the logical id\n  ScoreJob:\n")
                    .replace("          Image: train:1", "          Image: train:1\n          Command: |\n            # mllint: ignore[ML101] -- a script line"))
    report = run_scan(path)
    assert outcome(report) == [("ML002", "stack.yaml", False), ("ML101", "TrainTask", False), ("ML302", "ScoreJob", False)]
    assert diagnostics(report) == [(
        "ML002", "stack.yaml", 18, "stack.yaml",
        "suppression comment is not inside a resource (indent it under the logical id), so it suppresses nothing",
    )]


def test_cloudformation_file_level_comment(tmp_path: Path):
    path = tmp_path / "stack.yaml"
    path.write_text(cfn(top="# mllint: ignore-file[batch-job-without-retry] -- jobs are idempotent\n"))
    report = run_scan(path)
    assert outcome(report) == [("ML101", "TrainTask", False), ("ML302", "ScoreJob", True)]
    suppression = report.findings[-1].suppression
    assert (suppression.scope, suppression.target, suppression.line) == ("file", "stack.yaml", 1)


def test_cloudformation_metadata_in_a_json_template(tmp_path: Path):
    import yaml

    template = yaml.safe_load(CFN)
    template["Resources"]["TrainTask"]["Metadata"] = {"mllint": {"ignore": [
        {"id": "ML101", "reason": "GPU capacity provider lands next sprint"},
        {"id": "ML999", "reason": "typo"},
    ]}}
    template["Metadata"] = {"mllint": {"ignore": [{"id": "ML302"}]}}
    path = tmp_path / "stack.json"
    path.write_text(json.dumps(template, indent=2))
    report = run_scan(path)
    assert outcome(report) == [("ML002", "TrainTask", False), ("ML002", "stack.json", False),
                               ("ML101", "TrainTask", True), ("ML302", "ScoreJob", False)]
    lines = path.read_text().splitlines()
    suppression = next(f.suppression for f in report.findings if f.suppressed)
    assert (suppression.source, suppression.scope) == ("metadata", "resource")
    assert '"id": "ML101"' in lines[suppression.line - 1]
    assert [message for *_, message in diagnostics(report)] == [
        "`ML999` is not the id or name of a policy, so it suppresses nothing",
        "suppression of ML302 gives no reason, so it was not applied: add `reason:` to the entry",
    ]


def test_cloudformation_template_metadata_covers_the_file_and_bad_metadata_is_reported(tmp_path: Path):
    path = tmp_path / "stack.yaml"
    path.write_text(cfn({"ScoreJob": "    Metadata:\n      mllint: {ignore: ML302}"},
                        top="Metadata:\n  mllint:\n    ignore:\n      - {id: ML101, reason: migrating to Batch}\n"))
    report = run_scan(path)
    assert outcome(report) == [("ML002", "ScoreJob", False), ("ML101", "TrainTask", True), ("ML302", "ScoreJob", False)]
    assert diagnostics(report)[0][2:] == (
        22, "ScoreJob", "Metadata mllint must be {ignore: [{id: ID, reason: REASON}, ...]}")


def test_cloudformation_tag(tmp_path: Path):
    path = tmp_path / "stack.yaml"
    path.write_text(cfn().replace("      Type: container\n", "      Type: container\n      Tags:\n        mllint:ignore: ML302 -- rerun by Airflow\n")
                    .replace("      NetworkMode: awsvpc\n", "      NetworkMode: awsvpc\n      Tags:\n        - Key: mllint:ignore\n          Value: ML101 -- migrating\n"))
    report = run_scan(path)
    assert outcome(report) == [("ML101", "TrainTask", True), ("ML302", "ScoreJob", True)]
    assert {f.suppression.source for f in report.findings} == {"tag"}


# --- diagnostics -------------------------------------------------------------------------

def test_unknown_id_prefix_and_unused_ids_are_reported(tmp_path: Path):
    write(tmp_path, {"main.tf": tf(TF_TASK, "# mllint: ignore[ML101, ML1, ML302, no-such-policy] -- reviewed")})
    report = run_scan(tmp_path)
    assert outcome(report) == [("ML001", TASK, False), ("ML002", TASK, False), ("ML002", TASK, False), ("ML101", TASK, True)]
    assert sorted(message for *_, message in diagnostics(report)) == [
        "`ML1` is not the id or name of a policy, so it suppresses nothing (suppressions take exact ids or names, not prefixes)",
        "`no-such-policy` is not the id or name of a policy, so it suppresses nothing",
        "suppression of ML302 batch-job-without-retry suppresses nothing: no ML302 finding on aws_ecs_task_definition.train",
    ]
    assert {f.line for f in report.findings if f.policy_id.startswith("ML00")} == {2}
    assert exit_status(report, "warning") == 1


def test_missing_reason_does_not_suppress(tmp_path: Path):
    write(tmp_path, {"main.tf": tf(TF_TASK, "# mllint: ignore[ML101]")})
    report = run_scan(tmp_path)
    assert outcome(report) == [("ML002", TASK, False), ("ML101", TASK, False)]
    assert diagnostics(report)[0][-1] == (
        "suppression of ML101 gives no reason, so it was not applied: write `-- reason` after the ids")
    assert exit_status(report, "error") == 1


@pytest.mark.parametrize("comment, message", [
    ("# mllint: ignore ML101 -- reason", "malformed suppression comment: expected `mllint: ignore[ID,...] -- reason`"),
    ("# mllint: ignore[ML101] because of reasons", "malformed suppression comment: expected `mllint: ignore[ID,...] -- reason`"),
    ("# mllint: ignore[] -- nothing", "suppression names no policy"),
])
def test_malformed_comment_is_reported(tmp_path: Path, comment: str, message: str):
    write(tmp_path, {"main.tf": tf(TF_TASK, comment)})
    report = run_scan(tmp_path)
    assert diagnostics(report) == [("ML002", "main.tf", 2, TASK, message)]
    assert outcome(report)[-1] == ("ML101", TASK, False)


def test_comment_outside_any_block_and_on_an_unchecked_resource(tmp_path: Path):
    write(tmp_path, {"main.tf": "# mllint: ignore[ML101] -- top of file\n" + tf(TF_TASK)
                     + 'resource "aws_iam_role" "r" {\n  # mllint: ignore[ML101] -- wrong block\n  name = "r"\n}\n'})
    report = run_scan(tmp_path)
    assert diagnostics(report) == [
        ("ML002", "main.tf", 1, "main.tf",
         "suppression comment is not inside a resource or module block that was evaluated, so it suppresses nothing"),
        ("ML001", "main.tf", 15, "aws_iam_role.r",
         "suppression of ML101 gpu-on-fargate suppresses nothing: it covers no resource that mllint checks (aws_iam_role.r)"),
    ]


def test_ignorable_false_refuses_the_suppression(tmp_path: Path):
    packs = tmp_path / "policies"
    packs.mkdir()
    source = (REPO / "policies" / "ML101-gpu-on-fargate.yaml").read_text()
    (packs / "ORG101.yaml").write_text("ignorable: false\n" + source.replace("id: ML101", "id: ORG101", 1)
                                       .replace("name: gpu-on-fargate", "name: org-gpu-on-fargate", 1))
    stack = write(tmp_path / "stack", {"main.tf": tf(TF_TASK, "# mllint: ignore[ML101, ORG101] -- capacity provider next sprint")})
    report = run_scan(stack, policy_dirs=[packs])
    assert outcome(report) == [("ML002", TASK, False), ("ML101", TASK, True), ("ORG101", TASK, False)]
    assert diagnostics(report)[0][-1] == "ORG101 org-gpu-on-fargate cannot be suppressed inline (ignorable: false); its findings stay"
    assert exit_status(report, "error") == 1


def test_ignorable_must_be_a_boolean(tmp_path: Path):
    source = (REPO / "policies" / "ML101-gpu-on-fargate.yaml").read_text()
    (tmp_path / "ORG101.yaml").write_text("ignorable: sometimes\n" + source.replace("id: ML101", "id: ORG101", 1))
    with pytest.raises(PolicyError, match=r"ORG101.yaml: field ignorable: 'sometimes' is not of type 'boolean'"):
        run_scan(tmp_path, policy_dirs=[tmp_path])


def test_diagnostic_ids_are_reserved(tmp_path: Path):
    source = (REPO / "policies" / "ML101-gpu-on-fargate.yaml").read_text()
    (tmp_path / "ML001.yaml").write_text(source.replace("id: ML101", "id: ML001", 1))
    with pytest.raises(PolicyError, match="field id: ML001 is reserved for mllint's suppression diagnostics"):
        run_scan(tmp_path, policy_dirs=[tmp_path])


def test_select_and_ignore_apply_to_suppressions_and_diagnostics(tmp_path: Path):
    write(tmp_path, {"main.tf": tf(TF_TASK, "# mllint: ignore[ML101, ML302] -- reviewed")})
    # ML302 did not run: naming it is neither unknown nor unused.
    assert outcome(run_scan(tmp_path, select=["ML101", "ML0"])) == [("ML101", TASK, True)]
    # The diagnostics are turned off like any policy.
    assert outcome(run_scan(tmp_path, ignore=["ML001"])) == [("ML101", TASK, True)]
    assert outcome(run_scan(tmp_path, select=["ML1"])) == [("ML101", TASK, True)]


def test_a_scan_of_one_file_judges_only_the_suppressions_in_it(tmp_path: Path):
    write(tmp_path, {
        "main.tf": tf(TF_TASK, "# mllint: ignore[ML302] -- wrong resource"),
        "jobs.tf": tf(TF_JOB, "# mllint: ignore[ML302] -- rerun by Airflow"),
    })
    report = run_scan(tmp_path / "jobs.tf", root=tmp_path)
    assert outcome(report) == [("ML302", JOB, True)]
    assert outcome(run_scan(tmp_path / "main.tf", root=tmp_path)) == [("ML001", TASK, False), ("ML101", TASK, False)]


# --- outputs and exit status -------------------------------------------------------------

@pytest.fixture
def suppressed_stack(tmp_path: Path) -> Path:
    """One suppressed finding (ML101) and one active (ML302)."""
    write(tmp_path, {"main.tf": tf(TF_TASK, "# mllint: ignore[ML101] -- capacity provider next sprint") + tf(TF_JOB)})
    return tmp_path


def test_exit_status_ignores_suppressed_findings(suppressed_stack: Path, monkeypatch):
    monkeypatch.chdir(suppressed_stack)
    assert scan_cli("--select", "ML101").exit_code == 0
    assert scan_cli().exit_code == 1
    assert scan_cli("--fail-on", "error").exit_code == 0


def test_text_counts_suppressed_and_lists_them_with_verbose(suppressed_stack: Path, monkeypatch):
    monkeypatch.chdir(suppressed_stack)
    quiet = scan_cli().stdout
    assert "ML101" not in quiet
    assert quiet.splitlines()[-1] == "Found 1 finding (1 warning) in 1 file; 1 suppressed."
    verbose = scan_cli("--verbose").stdout
    assert "  error    ML101 gpu-on-fargate  aws_ecs_task_definition.train  main.tf:1  (suppressed)" in verbose
    assert "           suppressed by comment at main.tf:2: capacity provider next sprint" in verbose


def test_json_carries_the_suppression_and_validates(suppressed_stack: Path, monkeypatch):
    monkeypatch.chdir(suppressed_stack)
    result = scan_cli("--format", "json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    jsonschema.validate(document, REPORT_SCHEMA)
    assert document["summary"]["suppressed"] == 1 and document["summary"]["warning"] == 1
    by_id = {f["policy"]["id"]: f for f in document["findings"]}
    assert by_id["ML101"]["suppressed"] is True
    assert by_id["ML101"]["suppression"] == {
        "source": "comment", "scope": "resource", "reason": "capacity provider next sprint", "file": "main.tf", "line": 2,
    }
    assert by_id["ML302"]["suppression"] is None


def test_sarif_suppressions_validate(suppressed_stack: Path, monkeypatch):
    monkeypatch.chdir(suppressed_stack)
    (suppressed_stack / "extra.tf").write_text("# mllint: ignore-file[ML999] -- typo\n")
    result = scan_cli("--format", "sarif")
    sarif = json.loads(result.stdout)
    jsonschema.validate(sarif, SARIF_SCHEMA)
    run_ = sarif["runs"][0]
    results = {r["ruleId"]: r for r in run_["results"]}
    assert results["ML101"]["suppressions"] == [{
        "kind": "inSource", "justification": "capacity provider next sprint",
        "location": {"physicalLocation": {"artifactLocation": {"uri": "main.tf", "uriBaseId": "%SRCROOT%"}, "region": {"startLine": 2}}},
    }]
    assert "suppressions" not in results["ML302"]
    rules = run_["tool"]["driver"]["rules"]
    assert rules[results["ML002"]["ruleIndex"]]["id"] == "ML002"
    assert rules[results["ML002"]["ruleIndex"]]["helpUri"].endswith("/docs/diagnostics/ML002-invalid-suppression.md")
    assert results["ML002"]["locations"][0]["physicalLocation"]["region"] == {"startLine": 1}


def test_junit_skips_suppressed_findings_and_lists_diagnostics(suppressed_stack: Path, monkeypatch):
    monkeypatch.chdir(suppressed_stack)
    (suppressed_stack / "main.tf").write_text((suppressed_stack / "main.tf").read_text().replace("ignore[ML101]", "ignore[ML101,ML203]"))
    root = ET.fromstring(scan_cli("--format", "junit").stdout)
    cases = {case.get("name"): case for case in root.iter("testcase")}
    skipped = cases[f"ML101 gpu-on-fargate {TASK}"].find("skipped")
    assert skipped.get("message").startswith("suppressed (capacity provider next sprint): ")
    assert cases[f"ML001 unused-suppression {TASK}"].find("failure") is not None
    assert cases[f"ML302 batch-job-without-retry {JOB}"].find("failure") is not None
    assert (root.get("failures"), root.find("testsuite").get("skipped")) == ("2", "1")


def test_github_annotates_diagnostics_not_suppressed_findings(suppressed_stack: Path, monkeypatch):
    monkeypatch.chdir(suppressed_stack)
    (suppressed_stack / "main.tf").write_text((suppressed_stack / "main.tf").read_text().replace("ignore[ML101]", "ignore[ML101,ML203]"))
    lines = scan_cli("--format", "github").stdout.splitlines()
    assert [line.split("::")[1] for line in lines] == [
        "warning file=main.tf,line=2,title=ML001 unused-suppression",
        "warning file=main.tf,line=14,title=ML302 batch-job-without-retry",
    ]


@pytest.mark.parametrize("doc", sorted((REPO / "docs" / "diagnostics").glob("ML*.md")), ids=lambda p: p.stem)
def test_diagnostic_docs_examples_do_what_they_say(tmp_path: Path, doc: Path):
    """`## Example` reports the diagnostic once; `## Use instead` leaves nothing active."""
    policy_id = doc.stem.split("-")[0]
    sections = {}
    for section in doc.read_text().split("\n## ")[1:]:
        title, _, body = section.partition("\n")
        sections[title] = [block.split("\n", 1)[1] for block in body.split("```hcl")[1:]]
        sections[title] = [block.split("```", 1)[0] for block in sections[title]]
    assert doc.read_text().startswith(f"# {doc.stem.replace('-', ' ', 1)}\n")
    example = run_scan(write(tmp_path / "example", {"main.tf": sections["Example"][0]}))
    assert [f.policy_id for f in example.findings if not f.suppressed].count(policy_id) == 1
    use_instead = run_scan(write(tmp_path / "use_instead", {"main.tf": sections["Use instead"][0]}))
    assert [f for f in use_instead.findings if not f.suppressed] == []
