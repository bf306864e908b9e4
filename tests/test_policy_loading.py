"""Policies are validated when loaded: errors name the file and the field."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from mllint.cli import main
from mllint.policy import PolicyError, load_policies, load_policy

VALID = """\
id: ACME1
name: big-lambda
title: Lambda with a lot of memory
severity: info
kinds: [lambda-function]
when:
  required: [memory_mb]
  properties:
    memory_mb: {minimum: 4096}
message: "{address} has {memory_mb} MB"
fix: Use less memory.
sources: [https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html]
"""


def write(tmp_path: Path, text: str, name: str = "ACME1.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_valid_custom_policy_loads(tmp_path: Path):
    policy = load_policy(write(tmp_path, VALID))
    assert (policy.id, policy.name, policy.severity, policy.kinds) == ("ACME1", "big-lambda", "info", ("lambda-function",))


@pytest.mark.parametrize(
    "change, message",
    [
        (("severity: info", "severity: fatal"), "field severity: 'fatal' is not one of"),
        (("kinds: [lambda-function]", "kinds: lambda-function"), "field kinds: 'lambda-function' is not of type 'array'"),
        (("kinds: [lambda-function]", "kinds: [lambda]"), "field kinds: unknown kind 'lambda'"),
        (("memory_mb: {minimum: 4096}", "memory: {minimum: 4096}"), "field when.properties.memory: unknown fact 'memory'"),
        (("  required: [memory_mb]\n", ""), "field when.properties.memory_mb: fact is read but not listed in `required`"),
        (("fix: Use less memory.\n", ""), "field (top level): 'fix' is a required property"),
        (("memory_mb: {minimum: 4096}", "memory_mb: {minimum: many}"), "field when."),
        (("name: big-lambda", "name: Big Lambda"), "field name: 'Big Lambda' does not match"),
    ],
)
def test_malformed_policy_names_file_and_field(tmp_path: Path, change, message):
    path = write(tmp_path, VALID.replace(*change))
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_invalid_yaml_names_line(tmp_path: Path):
    path = write(tmp_path, VALID + "when: [\n")
    with pytest.raises(PolicyError, match=rf"^{path}:\d+: invalid YAML"):
        load_policy(path)


def test_duplicate_id_is_rejected(tmp_path: Path):
    write(tmp_path, VALID.replace("ACME1", "ML101"))
    with pytest.raises(PolicyError, match="field id: ML101 is already defined"):
        load_policies([tmp_path])


def test_cli_reports_policy_error_and_exits_2(tmp_path: Path):
    write(tmp_path, VALID.replace("severity: info", "severity: fatal"))
    result = CliRunner().invoke(main, ["scan", "--policy-dir", str(tmp_path), str(tmp_path)])
    assert result.exit_code == 2
    assert "field severity" in result.output
    assert "Traceback" not in result.output


def test_custom_policy_dir_adds_findings(tmp_path: Path):
    policies = tmp_path / "policies"
    policies.mkdir()
    write(policies, VALID)
    (tmp_path / "main.tf").write_text(
        'resource "aws_lambda_function" "big" {\n  function_name = "big"\n  role = "arn:aws:iam::1:role/x"\n  memory_size = 8192\n}\n'
    )
    result = CliRunner().invoke(main, ["scan", "--jobs", "1", "--policy-dir", str(policies), "--fail-on", "info", str(tmp_path / "main.tf")])
    assert result.exit_code == 1
    assert "ACME1 big-lambda  aws_lambda_function.big" in result.output
    assert "aws_lambda_function.big has 8192 MB" in result.output
