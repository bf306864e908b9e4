"""Hostile inputs through the command line: each costs one clear error line and exit 2,
never a traceback or a hang, and everything beside it is still scanned.

Every case puts a known failing stack next to the hostile input (a CloudFormation
template, or a Terraform module for Terraform cases) and checks that its finding is
still reported. Loader-level details (messages of every CloudFormation file-level
error, alias bombs on the loader, tfparse's located syntax errors) are in
test_cloudformation_loader.py, test_terraform_loader.py and test_workers.py.
"""
from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import pytest
from click.testing import CliRunner

from conftest import FIXTURES
from mllint.cli import main
from mllint.loaders.tf_types import variable_type_errors

GOOD_CFN = FIXTURES / "ML101" / "cloudformation" / "fargate_gpu_task.yaml"
GOOD_TF = FIXTURES / "ML101" / "terraform" / "fargate_training_task"
CFN_FINDING = ("ML101", "good.yaml", "TrainTaskDefinition")
TF_FINDING = ("ML101", "good_tf/main.tf", "aws_ecs_task_definition.train")
HEADER = b"AWSTemplateFormatVersion: '2010-09-09'\n"
MB = 1024 * 1024
# The Terraform files of a module that evaluates to nothing of interest, for hostile files beside them.
ROLE_TF = 'resource "aws_iam_role" "r" {\n  name = "r"\n}\n'


class Hung(Exception):
    pass


def _hung(signum, frame):
    raise Hung("the scan did not finish in 60 s")


def scan_cli(root: Path) -> tuple[int, list[str], list[tuple[str, str, str]]]:
    """Run `mllint scan --format json` on `root`: exit code, error lines, (policy, file, address) findings.
    A scan that blocks (on a pipe, say) fails the test instead of hanging it."""
    previous = signal.signal(signal.SIGALRM, _hung)
    signal.alarm(60)
    try:
        result = CliRunner().invoke(main, ["scan", "--format", "json", "--jobs", "1", str(root)], catch_exceptions=False)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    return result.exit_code, result.stderr.splitlines(), _findings(result.stdout)


def _findings(stdout: str) -> list[tuple[str, str, str]]:
    report = json.loads(stdout)
    return [(f["policy"]["id"], f["file"], f["address"]) for f in report["findings"]]


def good_neighbours(root: Path, terraform: bool) -> list[tuple[str, str, str]]:
    """Put the known failing stack(s) in `root`; the findings they must still produce."""
    shutil.copy(GOOD_CFN, root / "good.yaml")
    if not terraform:
        return [CFN_FINDING]
    shutil.copytree(GOOD_TF, root / "good_tf")
    return [CFN_FINDING, TF_FINDING]


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def sparse(path: Path, head: bytes, size: int) -> None:
    """A file of `size` bytes that starts with `head` and costs no disk beyond it."""
    with open(path, "wb") as handle:
        handle.write(head)
        handle.truncate(size)


def laughs(lines: int, width: int, flow: bool) -> str:
    """A "billion laughs" template: each anchor repeats the previous one `width` times."""
    if flow:
        rows = ["a0: &a0 [" + ", ".join(["lol"] * width) + "]"]
        rows += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]" for i in range(1, lines)]
    else:
        rows = ["a0: &a0"] + ["  - lol"] * width
        for i in range(1, lines):
            rows += [f"a{i}: &a{i}"] + [f"  - *a{i - 1}"] * width
    return "\n".join(["AWSTemplateFormatVersion: '2010-09-09'", *rows, "Resources: {}"]) + "\n"


def mapping_laughs(lines: int, width: int) -> str:
    rows = ["a0: &a0 {" + ", ".join(f"k{j}: lol" for j in range(width)) + "}"]
    rows += [f"a{i}: &a{i} {{" + ", ".join(f"k{j}: *a{i - 1}" for j in range(width)) + "}" for i in range(1, lines)]
    return "\n".join(["AWSTemplateFormatVersion: '2010-09-09'", *rows, "Resources: {}"]) + "\n"


def symlink(path: Path, target: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(target)


# (case id, what to create in the scan root, whether Terraform neighbours are needed, the one error line)
Case = tuple[str, Callable[[Path], object], bool, str]
CASES: list[Case] = [
    # --- syntax errors
    ("terraform syntax error", lambda r: write(r / "bad/main.tf", 'resource "aws_s3_bucket" "b" {\n  bucket = \n}\n'), True,
     "bad/main.tf:2: Invalid expression; Expected the start of an expression, but found an invalid expression token."),
    ("cloudformation yaml syntax error",
     lambda r: write(r / "bad.yaml", HEADER + b"Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties: A: b\n"), False,
     "bad.yaml:5: invalid YAML: mapping values are not allowed in this context"),
    ("cloudformation json syntax error",
     lambda r: write(r / "bad.json", '{\n  "Resources": {\n    "T": {"Type": "AWS::SNS::Topic"}\n    "U": {}\n  }\n}\n'), False,
     "bad.json:4: invalid JSON: Expecting ',' delimiter"),
    # --- binary and non-UTF-8 files
    ("binary .tf", lambda r: write(r / "bin/main.tf", b"locals {}\n" + bytes(range(256)) * 4), True,
     "bin/main.tf:2: not a text file (contains NUL bytes)"),
    ("binary .tf without NUL bytes", lambda r: write(r / "bin/main.tf", bytes(range(1, 256)) * 4), True,
     "bin/main.tf:2: file is not valid UTF-8"),
    ("control characters in a .tf", lambda r: write(r / "ctl/main.tf", b"locals {}\n\x01\x02\x7f" * 50), True,
     "ctl/main.tf:2: Invalid character; This character is not used within the language (and 150 more)"),
    ("binary .yaml that reads as a template", lambda r: write(r / "bin.yaml", HEADER + bytes(range(256))), False,
     "bin.yaml: not a UTF-8 text file (contains NUL bytes)"),
    ("binary .json that reads as a template",
     lambda r: write(r / "bin.json", b'{"Resources": {"T": {"Type": "AWS::SNS::Topic"}}}' + bytes(range(256))), False,
     "bin.json: not a UTF-8 text file (contains NUL bytes)"),
    ("latin-1 .tf", lambda r: write(r / "latin/main.tf", 'resource "aws_iam_role" "r" {\n  name = "caf\xe9"\n}\n'.encode("latin-1")), True,
     "latin/main.tf:2: file is not valid UTF-8"),
    ("latin-1 .yaml", lambda r: write(r / "latin.yaml", (HEADER.decode() + "Resources:\n  T: {Type: AWS::SNS::Topic}  # caf\xe9\n").encode("latin-1")), False,
     "latin.yaml:3: not valid UTF-8 (byte 0xe9)"),
    ("UTF-16 template", lambda r: write(r / "utf16.yaml", "\ufeffAWSTemplateFormatVersion: x\nResources: {}\n".encode("utf-16-le")), False,
     "utf16.yaml: not a UTF-8 text file (contains NUL bytes)"),
    # --- size and depth
    ("huge .tf", lambda r: (write(r / "big/main.tf", ROLE_TF), sparse(r / "big/data.tf", b"locals {}\n", 21 * MB)), True,
     "big/data.tf: file is larger than 20 MB; the module was not evaluated"),
    ("huge template", lambda r: sparse(r / "big.yaml", HEADER + b"Resources: {}\n# ", 21 * MB), False,
     "big.yaml: file too large (21.0 MB > 20 MB)"),
    ("deeply nested yaml", lambda r: write(r / "deep.yaml", HEADER + b"Resources: " + b"[" * 10_000), False,
     "deep.yaml:2: template nests deeper than 100 levels"),
    ("deeply nested json", lambda r: write(r / "deep.json", b'{"AWSTemplateFormatVersion": "2010-09-09", "Resources": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"), False,
     "deep.json:1: template nests deeper than 100 levels"),
    ("deeply nested terraform (tfparse's stack overflows at 100,000)",
     lambda r: write(r / "deep/main.tf", 'locals {\n  x = ' + "[" * 100_000 + "]" * 100_000 + "\n}\n"), True,
     "deep/main.tf:2: brackets nest deeper than 500 levels; the module was not evaluated"),
    ("billion laughs, flow sequences", lambda r: write(r / "lol.yaml", laughs(10, 10, flow=True)), False,
     "lol.yaml:8: YAML expands to too many nodes (alias bomb?)"),
    ("billion laughs, block sequences", lambda r: write(r / "lol.yaml", laughs(10, 10, flow=False)), False,
     "lol.yaml:69: YAML expands to too many nodes (alias bomb?)"),
    ("billion laughs, flow mappings", lambda r: write(r / "lol.yaml", mapping_laughs(10, 10)), False,
     "lol.yaml:7: YAML expands to too many nodes (alias bomb?)"),
    # --- links, special files, names
    ("self-referencing symlink .tf", lambda r: (write(r / "loop/main.tf", ROLE_TF), symlink(r / "loop/self.tf", "self.tf")), True,
     "loop/self.tf: cannot read file: Too many levels of symbolic links"),
    ("self-referencing symlink .yaml", lambda r: symlink(r / "self.yaml", "self.yaml"), False,
     "self.yaml: cannot read file: Too many levels of symbolic links"),
    ("dangling symlink .tf", lambda r: (write(r / "gone/main.tf", ROLE_TF), symlink(r / "gone/vars.tf", "missing.tf")), True,
     "gone/vars.tf: broken symbolic link (to missing.tf)"),
    ("FIFO named template.yaml", lambda r: os.mkfifo(r / "template.yaml"), False,
     "template.yaml: not a regular file (a pipe, socket or device); not read"),
    ("FIFO named main.tf", lambda r: (write(r / "pipe/vars.tf", ROLE_TF), os.mkfifo(r / "pipe/main.tf")), True,
     "pipe/main.tf: not a regular file (a pipe, socket or device); not read"),
    ("FIFO in a called local module",
     lambda r: (write(r / "caller/main.tf", 'module "m" {\n  source = "./m"\n}\n'), write(r / "caller/m/vars.tf", ROLE_TF),
                os.mkfifo(r / "caller/m/main.tf")), True,
     "caller/m/main.tf: not a regular file (a pipe, socket or device); not read"),
    ("FIFO named cdk.out/manifest.json (read while walking)",
     lambda r: (write(r / "cdk.out/Stack.template.json", '{"Resources": {"T": {"Type": "AWS::SNS::Topic"}}}'),
                os.mkfifo(r / "cdk.out/manifest.json")), False,
     "cdk.out/manifest.json: not a regular file (a pipe, socket or device); not read"),
    ("FIFO named .terraform/modules/modules.json",
     lambda r: (write(r / "init/main.tf", 'module "m" {\n  source = "acme/thing/aws"\n}\n' + ROLE_TF),
                (r / "init/.terraform/modules").mkdir(parents=True), os.mkfifo(r / "init/.terraform/modules/modules.json")), True,
     "init/.terraform/modules/modules.json: not a regular file (a pipe, socket or device); not read"),
    # --- Terraform evaluation
    ("module cycle through an ancestor",
     lambda r: (write(r / "cyc/main.tf", 'module "child" {\n  source = "./child"\n}\n'),
                write(r / "cyc/child/main.tf", 'module "up" {\n  source = "../"\n}\n')), True,
     "cyc: local modules call each other in a cycle (cyc -> cyc/child -> cyc); the module was not evaluated"),
    ("module that calls itself", lambda r: write(r / "me/main.tf", 'module "me" {\n  source = "./"\n}\n' + ROLE_TF), True,
     "me: local modules call each other in a cycle (me -> me); the module was not evaluated"),
    ("module whose source is path.module (tfparse loops forever; found by fuzzing)",
     lambda r: write(r / "pm/main.tf", 'module "again" {\n  source = path.module\n}\n' + ROLE_TF), True,
     "pm: local modules call each other in a cycle (pm -> pm); the module was not evaluated"),
    ("input that panics tfparse (dynamic block over a number)",
     lambda r: write(r / "panics/main.tf", 'resource "aws_instance" "x" {\n  dynamic "ebs_block_device" {\n'
                     '    for_each = 5\n    content {\n      device_name = ebs_block_device.value\n    }\n  }\n}\n'), True,
     "panics: evaluator crashed (signal SIGABRT: panic: value is not a collection) while evaluating this module; "
     "other modules were scanned"),
    ("invalid variable type, which crashes tfparse",
     lambda r: write(r / "types/variables.tf", 'variable "subnets" {\n  type    = list("string")\n  default = []\n}\n'), True,
     'types/variables.tf:2: variable "subnets": invalid type constraint; the module was not evaluated'),
    ("invalid variable type in Terraform JSON, which crashes tfparse",
     lambda r: write(r / "jtypes/variables.tf.json", '{\n  "variable": {\n    "tags": {\n      "type": "list(map)"\n    }\n  }\n}\n'), True,
     'jtypes/variables.tf.json:4: variable "tags": invalid type constraint; the module was not evaluated'),
    ("invalid variable type in a downloaded module (.terraform/modules), which crashes tfparse",
     lambda r: (write(r / "reg/main.tf", 'module "m" {\n  source = "acme/thing/aws"\n}\n' + ROLE_TF),
                write(r / "reg/.terraform/modules/modules.json",
                      '{"Modules":[{"Key":"","Source":"","Dir":"."},{"Key":"m","Dir":".terraform/modules/m"}]}'),
                write(r / "reg/.terraform/modules/m/variables.tf", 'variable "tags" {\n  type = list(map)\n}\n')), True,
     'reg/.terraform/modules/m/variables.tf:2: variable "tags": invalid type constraint; the module was not evaluated'),
    ("module source from a variable whose default is the module itself (tfparse loops forever)",
     lambda r: write(r / "dyn/main.tf", 'variable "x" {\n  default = "./"\n}\nmodule "m" {\n  source = var.x\n}\n' + ROLE_TF), True,
     'dyn/main.tf:5: module "m": Variables not allowed; the source must be a literal string; the module was not evaluated'),
    # --- CloudFormation structure
    ("Resources is a list", lambda r: write(r / "list.yaml", HEADER + b"Resources:\n  - Type: AWS::SNS::Topic\n"), False,
     "list.yaml:2: Resources must be a mapping, not a list"),
    ("duplicate key in yaml",
     lambda r: write(r / "dup.yaml", HEADER + b"Resources:\n  T: {Type: AWS::SNS::Topic}\n  T: {Type: AWS::SQS::Queue}\n"), False,
     "dup.yaml:4: duplicate key 'T'"),
    ("duplicate key in json",
     lambda r: write(r / "dup.json", '{\n  "Resources": {\n    "T": {"Type": "AWS::SNS::Topic"},\n'
                     '    "T": {"Type": "AWS::SQS::Queue"}\n  }\n}\n'), False,
     "dup.json:4: duplicate key 'T'"),
    ("template with only comments", lambda r: write(r / "commented.yaml", b"# AWSTemplateFormatVersion: '2010-09-09'\n# Resources: {}\n"), False,
     "commented.yaml: empty template"),
]


@pytest.mark.parametrize(("builder", "terraform", "error"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_one_clear_error_and_the_rest_is_scanned(tmp_path, builder, terraform, error):
    expected = good_neighbours(tmp_path, terraform)
    builder(tmp_path)
    started = time.monotonic()
    code, errors, findings = scan_cli(tmp_path)
    assert time.monotonic() - started < 20
    assert (code, errors) == (2, [f"mllint: error: {error}"])
    assert sorted(findings) == sorted(expected)


@pytest.mark.parametrize(("builder", "terraform"), [
    (lambda r: write(r / "empty/main.tf", b""), True),
    (lambda r: (write(r / "empty/main.tf", ROLE_TF), write(r / "empty/empty.tf", b"")), True),
    (lambda r: write(r / "empty.yaml", b""), False),
    (lambda r: write(r / "comments.yaml", b"# just a note\n# and another\n"), False),
    (lambda r: write(r / "noise.json", bytes(range(256)) * 4), False),  # not recognisable as a template
    (lambda r: write(r / "noise.yaml", bytes(reversed(range(256))) * 4), False),
    (lambda r: (r / "main.tf").mkdir(), True),  # a directory named like a file is a directory
    (lambda r: (r / "template.yaml").mkdir(), False),
    (lambda r: (r / "good_tf/extra.tf").mkdir(), True),  # Terraform ignores it too
    (lambda r: symlink(r / "nested/up", ".."), True),  # a directory link to its parent is not followed
    (lambda r: symlink(r / "dangling.yaml.bak", "nowhere"), False),
], ids=["empty module", "empty .tf beside others", "empty .yaml", "comments-only .yaml", "binary .json",
        "binary .yaml", "directory main.tf", "directory template.yaml", "directory extra.tf in a module",
        "directory link to parent", "dangling link with another suffix"])
def test_harmless_oddities_are_no_error(tmp_path, builder, terraform):
    expected = good_neighbours(tmp_path, terraform)
    builder(tmp_path)
    code, errors, findings = scan_cli(tmp_path)
    assert (code, errors) == (1, [])
    assert sorted(findings) == sorted(expected)  # each once: links are not followed into loops


def test_unrecognised_binary_files_are_listed_as_skipped(tmp_path):
    good_neighbours(tmp_path, terraform=False)
    write(tmp_path / "noise.json", bytes(range(256)) * 4)
    result = CliRunner().invoke(main, ["scan", "--verbose", "--jobs", "1", str(tmp_path)])
    assert result.exit_code == 1
    assert "Skipped (not Terraform or CloudFormation):\n  noise.json\n" in result.stdout


def test_a_fifo_given_by_name_is_an_error_not_a_hang(tmp_path):
    os.mkfifo(tmp_path / "template.yaml")
    shutil.copy(GOOD_CFN, tmp_path / "good.yaml")
    result = subprocess.run(
        [sys.executable, "-m", "mllint", "scan", "--format", "json", "--jobs", "1", "template.yaml", "good.yaml"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )
    assert (result.returncode, result.stderr.splitlines()) == (
        2, ["mllint: error: template.yaml: not a regular file (a pipe, socket or device); not read"]
    )
    assert _findings(result.stdout) == [CFN_FINDING]


# --- unreadable files and directories ---------------------------------------------------------------

CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, PR_CAPBSET_DROP = 1, 2, 24


def _without_file_privileges() -> None:
    """In the child before exec: as root, give up the capabilities that let root read anything
    (dropped from the bounding set, so exec does not grant them back). Root's interpreter
    may live where an unprivileged user cannot reach it, so the uid stays 0."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            os._exit(97)  # the test then fails loudly rather than testing nothing


def test_unreadable_files_and_directories(tmp_path):
    good_neighbours(tmp_path, terraform=True)
    write(tmp_path / "locked_file/main.tf", ROLE_TF).chmod(0)
    shutil.copy(GOOD_CFN, tmp_path / "locked.yaml")
    (tmp_path / "locked.yaml").chmod(0)
    shutil.copytree(GOOD_TF, tmp_path / "locked_dir/stack")
    (tmp_path / "locked_dir").chmod(0)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "mllint", "scan", "--format", "json", "--jobs", "2", "."],
            cwd=tmp_path, capture_output=True, text=True, timeout=120, preexec_fn=_without_file_privileges,
        )
    finally:
        (tmp_path / "locked_dir").chmod(0o755)
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [
        "mllint: error: locked.yaml: cannot read file: Permission denied",
        "mllint: error: locked_dir: cannot read directory: Permission denied",
        "mllint: error: locked_file/main.tf: cannot read file: Permission denied",
    ]
    assert sorted(_findings(result.stdout)) == sorted([CFN_FINDING, TF_FINDING])


def test_the_privilege_drop_really_denies_reads(tmp_path):
    """Guards the test above: without this, running as root would make it pass vacuously."""
    secret = write(tmp_path / "secret.txt", b"x")
    secret.chmod(0)
    result = subprocess.run([sys.executable, "-c", f"open({str(secret)!r}).read()"],
                            capture_output=True, text=True, preexec_fn=_without_file_privileges)
    assert "PermissionError" in result.stderr


# --- variable type constraints (tfparse aborts on an invalid one) ---------------------------------------

VALID_TYPES = [
    "string", "number", "bool", "any", "list", "map", '"string"', '"list"', "list(string,)", "tuple([string,])", "tuple([])",
    "object({a=string,})", "object({a: string})", "map(object({}))", "set(list(map(string)))", "list(\n    string\n  )",
    "map(string) /* c */", "any # c", "object({\n    a = string\n    b = optional(number, 5)\n  })",
    'object({a = optional(string, "x"), b = optional(list(string), [])})', "object({a = optional(string, var.x)})",
]
INVALID_TYPES = [
    '"foo"', 'list("string")', "strng", "LIST(string)", "list(foo)", "list()", "list(string, number)", "object", "tuple",
    "optional(string)", 'object({"a" = string})', "object({a = string, a = number})", "object({a = 5})", "(string)",
    "null", "5", "var.x", "set", "list(map)", "map(list)", "list(object({values = list}))", "object({a = set})",
    "tuple([list])",
]


@pytest.mark.parametrize("constraint", VALID_TYPES)
def test_valid_variable_types_are_left_to_tfparse(constraint):
    text = (f'variable "v" {{\n  description = "braces {{ in text"\n  type = {constraint}\n  default = null\n'
            '  validation {\n    condition     = var.v != "x"\n    error_message = "no"\n  }\n}\n')
    assert variable_type_errors(text) == []


@pytest.mark.parametrize("constraint", INVALID_TYPES)
def test_invalid_variable_types_are_located(constraint):
    text = f'variable "v" {{\n  type = {constraint}\n}}\nvariable w {{\n  default = <<EOF\n}}}}{{\nEOF\n  type = string\n}}\n'
    assert variable_type_errors(text) == [(2, 'variable "v": invalid type constraint; the module was not evaluated')]


JSON_TYPES = [t for t in VALID_TYPES if '"' not in t and "\n" not in t]
JSON_INVALID = [t for t in INVALID_TYPES if '"' not in t]


@pytest.mark.parametrize("constraint", JSON_TYPES)
def test_valid_variable_types_in_terraform_json_are_left_to_tfparse(constraint):
    text = json.dumps({"variable": {"v": {"type": constraint, "default": None}}}, indent=2)
    assert variable_type_errors(text, "variables.tf.json") == []


@pytest.mark.parametrize("constraint", JSON_INVALID)
def test_invalid_variable_types_in_terraform_json_are_located(constraint):
    text = json.dumps({"variable": [{"w": {"type": "string"}}, {"v": {"default": [], "type": constraint}}]}, indent=2)
    line = text.splitlines().index(f'        "type": {json.dumps(constraint)}') + 1
    assert variable_type_errors(text, "variables.tf.json") == [
        (line, 'variable "v": invalid type constraint; the module was not evaluated')]
