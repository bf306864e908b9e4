"""`mllint new-policy`: write a working policy, its doc and its fixtures into a pack.

The scaffold is a small but real policy (a Lambda function allowed to run ten
minutes or more) with a failing and a passing case in Terraform and in
CloudFormation, so `mllint test DIR` passes at once; the author then edits it
into their own policy. Existing files are never overwritten.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from mllint.paths import schema_path
from mllint.policy import PolicyError, load_policies


class ScaffoldError(Exception):
    """Arguments or a target directory the scaffold cannot use; str() is one line."""


POLICY = """\
# mllint policy: see docs/writing-policies.md in the mllint repository.
id: __ID__
name: __NAME__
title: __TITLE__
description: >
  Written by `mllint new-policy` as a working example: replace `kinds`, `when`,
  `message`, `fix` and `sources` with your own, then the fixtures and the doc,
  and run `mllint test` on the pack.
severity: __SEVERITY__
kinds: [lambda-function]
when:
  required: [timeout_seconds]
  properties:
    timeout_seconds: {minimum: 600}
message: "{address} may run for {timeout_seconds} s; long-running work belongs on AWS Batch or ECS"
fix: >
  Keep the function short: move the long-running part to AWS Batch, ECS or a
  Step Functions workflow that the function starts.
sources:
  - https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html
"""

TF = """\
resource "aws_lambda_function" "report_builder" {
  function_name = "report-builder"
  role          = "arn:aws:iam::123456789012:role/report-builder"
  runtime       = "python3.12"
  handler       = "app.handler"
  filename      = "build/report_builder.zip"
  timeout       = __TIMEOUT__
}
"""

CFN = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  ReportBuilderFunction:
    Type: AWS::Lambda::Function
    Properties:
      FunctionName: report-builder
      Role: arn:aws:iam::123456789012:role/report-builder
      Runtime: python3.12
      Handler: app.handler
      Code:
        S3Bucket: artifacts-123456789012
        S3Key: report_builder.zip
      Timeout: __TIMEOUT__
"""

EXPECTED = """\
# case (relative to this folder) -> the addresses that fail this policy, and some that pass.
terraform/fails:
  fail: [aws_lambda_function.report_builder]
terraform/passes:
  fail: []
  pass: [aws_lambda_function.report_builder]
cloudformation/fails.yaml:
  fail: [ReportBuilderFunction]
cloudformation/passes.yaml:
  fail: []
  pass: [ReportBuilderFunction]
"""

DOC = """\
# __ID__ __NAME__

**__TITLE__** · severity: `__SEVERITY__` · frameworks: Terraform, CloudFormation

## What it does

Checks Lambda functions (`aws_lambda_function`, `AWS::Lambda::Function`,
`AWS::Serverless::Function`) whose timeout is ten minutes or more.

## Why is this bad?

A function that needs that long is a batch job: it pays for every second, it
stops at Lambda's 15-minute ceiling, and a retry starts the work again.

## Example

```hcl
__TF_FAILS__```

```yaml
__CFN_FAILS__```

## Use instead

```hcl
__TF_PASSES__```

```yaml
__CFN_PASSES__```

## How to suppress

- `mllint scan --ignore __ID__` (or `--ignore __NAME__`) turns the policy off for a scan.
- One resource, with a reason: `# mllint: ignore[__ID__] -- reason` inside its Terraform
  block, or `Metadata: {mllint: {ignore: [{id: __ID__, reason: "..."}]}}` on the
  CloudFormation resource (docs/suppressions.md in the mllint repository).

## References

- [AWS Lambda Developer Guide: function timeout](https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html)
"""

FAILS, PASSES = "900", "60"
DEFAULT_TITLE = "Lambda function runs for ten minutes or more"


def _fill(template: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        template = template.replace(f"__{key}__", value)
    return template


def _check_arguments(policy_id: str, name: str, title: str) -> None:
    if not title.strip() or "\n" in title:
        raise ScaffoldError("title: one line that says what is wrong")
    properties = json.loads(schema_path("policy").read_text(encoding="utf-8"))["properties"]
    for label, value in (("id", policy_id), ("name", name)):
        if not re.fullmatch(properties[label]["pattern"], value):
            raise ScaffoldError(f"{label} {value!r}: {properties[label]['description']}")


def files_for(policy_id: str, name: str, severity: str, title: str) -> dict[str, str]:
    """Relative path -> content of every file of the scaffold."""
    values = {"ID": policy_id, "NAME": name, "SEVERITY": severity, "TITLE": title}
    tf = {kind: _fill(TF, {"TIMEOUT": timeout}) for kind, timeout in (("fails", FAILS), ("passes", PASSES))}
    cfn = {kind: _fill(CFN, {"TIMEOUT": timeout}) for kind, timeout in (("fails", FAILS), ("passes", PASSES))}
    doc = _fill(DOC, {**values, "TF_FAILS": tf["fails"], "TF_PASSES": tf["passes"],
                      "CFN_FAILS": cfn["fails"], "CFN_PASSES": cfn["passes"]})
    fixtures = f"fixtures/{policy_id}"
    return {
        f"{policy_id}-{name}.yaml": _fill(POLICY, {**values, "TITLE": json.dumps(title, ensure_ascii=False)}),
        f"docs/{policy_id}-{name}.md": doc,
        f"{fixtures}/expected.yaml": EXPECTED,
        f"{fixtures}/terraform/fails/main.tf": tf["fails"],
        f"{fixtures}/terraform/passes/main.tf": tf["passes"],
        f"{fixtures}/cloudformation/fails.yaml": cfn["fails"],
        f"{fixtures}/cloudformation/passes.yaml": cfn["passes"],
    }


def new_policy(directory: Path, policy_id: str, name: str, severity: str = "warning", title: str = DEFAULT_TITLE) -> list[Path]:
    """Write the scaffold into the pack `directory`; the paths written."""
    _check_arguments(policy_id, name, title)
    try:
        existing = load_policies([directory] if directory.is_dir() else [], installed=False)
    except PolicyError as exc:
        raise ScaffoldError(f"the pack is not valid: {exc}") from None
    taken = next((p for p in existing if p.id == policy_id or (p.name == name and p.path.parent.resolve() == directory.resolve())), None)
    if taken:
        raise ScaffoldError(f"{taken.id} {taken.name} is already defined in {taken.path}")
    files = {directory / rel: text for rel, text in files_for(policy_id, name, severity, title).items()}
    for path in files:
        if path.exists():
            raise ScaffoldError(f"{path}: already exists; nothing was written")
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return list(files)
