"""Module sources read before tfparse evaluates a module: sources Terraform refuses (not a literal
string) and the downloaded modules `.terraform/modules/modules.json` maps, whose files get the
same checks as local modules' (tfparse aborts on an invalid variable type in them)."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from mllint.loaders.terraform import load_module
from mllint.loaders.tf_modules import downloaded_modules, local_module_calls, module_calls, source_errors

LAMBDA = 'resource "aws_lambda_function" "train" {\n  function_name = "train"\n}\n'
BAD_TYPES = 'variable "ok" {\n  type = string\n}\n\nvariable "tags" {\n  type = list(map)\n}\n'


def write(base: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = base / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return base


def manifest(*entries: tuple[str, str]) -> str:
    """modules.json as `terraform init` writes it: the root entry, then (key, dir) per call."""
    modules = [{"Key": "", "Source": "", "Dir": "."}]
    modules += [{"Key": key, "Source": "registry.terraform.io/acme/thing/aws", "Version": "1.0.0", "Dir": d} for key, d in entries]
    return json.dumps({"Modules": modules})


def errors_of(module: Path) -> list[str]:
    started = time.monotonic()
    result = load_module(module, module)
    assert time.monotonic() - started < 10  # refused before evaluation, not by the time limit
    return [f"{e.file}:{e.line}: {e.message}" for e in result.errors]


def refused(name: str, summary: str = "Variables not allowed") -> str:
    return f'module "{name}": {summary}; the source must be a literal string; the module was not evaluated'


# --- sources Terraform refuses ------------------------------------------------------------------

REFUSED = [
    ("var.x", "Variables not allowed"),
    ("local.y", "Variables not allowed"),
    ('"${var.x}"', "Variables not allowed"),
    ('"${var.root}/modules/x"', "Variables not allowed"),
    ('"./modules/${local.name}"', "Variables not allowed"),
    ('"${path.root}"', "Variables not allowed"),  # names the root: tfparse loops
    ('"${path.module}/${var.x}"', "Variables not allowed"),
    ("path.cwd", "Variables not allowed"),
    ('each.value.source', "Variables not allowed"),
    ('var.use_v2 ? "./v2" : "./v1"', "Variables not allowed"),
    ('lower("./X")', "Function calls not allowed"),
    ('"${lower(var.x)}"', "Function calls not allowed"),
    ('format("./%s", var.x)', "Function calls not allowed"),
]
ACCEPTED = [
    '"./modules/train"', '"terraform-aws-modules/batch/aws"', '"git::https://example.com/m.git?ref=v1"',
    '"$${literal}/x"',  # an escaped `${`: a literal string
    "path.module", '"${path.module}"', '"${path.module}/modules/x"',  # read as local calls (cycles refused there)
    'true ? "./a" : "./b"',  # literals only: Terraform evaluates it without variables
]


@pytest.mark.parametrize(("source", "summary"), REFUSED, ids=[s for s, _ in REFUSED])
def test_non_literal_sources_are_refused_at_their_line(source, summary):
    text = f'# module "commented" {{\n\nmodule "m" {{\n  count  = 1\n  source = {source}\n}}\n' + LAMBDA
    assert source_errors("main.tf", text) == [(5, refused("m", summary))]


@pytest.mark.parametrize("source", ACCEPTED)
def test_literal_and_path_module_sources_are_not_refused(source):
    text = f'module m {{\n  source = {source}\n  inputs = {{ source = var.x }}\n}}\n'
    assert source_errors("main.tf", text) == []


def test_only_the_module_blocks_own_source_counts():
    text = ('module "m" {\n  source = "./m"\n  settings = {\n    source = var.x\n  }\n  description = <<EOT\n'
            'source = var.y\nEOT\n}\nresource "aws_s3_object" "o" {\n  source = var.file\n}\n')
    assert source_errors("main.tf", text) == []
    assert [(c.name, c.source, c.line) for c in module_calls("main.tf", text)] == [("m", "./m", 2)]


def test_json_sources_are_refused_at_their_line():
    text = json.dumps({"module": {
        "ok": {"source": "./modules/ok"},
        "dyn": {"source": "${var.x}"},
        "pm": {"source": "${path.module}/modules/ok"},
    }}, indent=2)
    assert source_errors("main.tf.json", text) == [(7, refused("dyn"))]
    assert source_errors("main.tf.json", "{not json") == []


@pytest.mark.parametrize("files", [
    {"main.tf": 'variable "x" {\n  default = "./"\n}\n\nmodule "m" {\n  source = var.x\n}\n' + LAMBDA},
    {"main.tf.json": json.dumps({"variable": {"x": {"default": "./"}}, "module": {"m": {"source": "${var.x}"}}}, indent=1)},
], ids=["hcl", "json"])
def test_a_variable_source_naming_the_module_itself_is_refused_not_evaluated(tmp_path, files):
    """tfparse evaluates the default `./` and never returns: the scan would wait for its time limit."""
    write(tmp_path, files)
    line = 6 if "main.tf" in files else 9
    name = "main.tf" if "main.tf" in files else "main.tf.json"
    assert errors_of(tmp_path) == [f"{name}:{line}: {refused('m')}"]


def test_a_refused_source_in_a_called_local_module_is_reported_there(tmp_path):
    write(tmp_path, {
        "main.tf": 'module "child" {\n  source = "./child"\n}\n',
        "child/main.tf": 'locals {\n  where = "../"\n}\n\nmodule "up" {\n  source = local.where\n}\n',
    })
    assert errors_of(tmp_path) == [f"child/main.tf:6: {refused('up')}"]


# --- downloaded modules (.terraform/modules) ----------------------------------------------------

def test_invalid_type_in_a_downloaded_module_is_located_in_its_file(tmp_path):
    """tfparse aborts on `list(map)` in a downloaded module: reported at the module's file and line."""
    write(tmp_path, {
        "main.tf": 'module "m" {\n  source = "acme/thing/aws"\n}\n' + LAMBDA,
        ".terraform/modules/modules.json": manifest(("m", ".terraform/modules/m")),
        ".terraform/modules/m/variables.tf": BAD_TYPES,
    })
    assert errors_of(tmp_path) == [
        '.terraform/modules/m/variables.tf:6: variable "tags": invalid type constraint; the module was not evaluated',
    ]


def test_only_downloaded_modules_that_are_called_are_read(tmp_path):
    """modules.json keeps entries of calls since removed; tfparse never reads those, nor does the check."""
    write(tmp_path, {
        "main.tf": 'module "used" {\n  source = "acme/thing/aws"\n}\n' + LAMBDA,
        ".terraform/modules/modules.json": manifest(("used", ".terraform/modules/used"), ("removed", ".terraform/modules/removed"),
                                                    ("used.gone", ".terraform/modules/removed")),
        ".terraform/modules/used/main.tf": 'resource "aws_s3_bucket" "b" {}\n',
        ".terraform/modules/removed/variables.tf": BAD_TYPES,
    })
    assert downloaded_modules(tmp_path) == [tmp_path / ".terraform/modules/used"]
    result = load_module(tmp_path, tmp_path)
    assert result.errors == []
    assert sorted(r.address for r in result.resources) == ["aws_lambda_function.train", "module.used.aws_s3_bucket.b"]


def test_downloaded_modules_are_found_by_key_through_local_and_downloaded_modules(tmp_path):
    """Keys name the chain of calls (`child.inner`, `reg.sub`), through a local module without an
    entry of its own and through a downloaded module; the same call name at the root is another key."""
    write(tmp_path, {
        "main.tf": 'module "child" {\n  source = "./child"\n}\nmodule "reg" {\n  source = "acme/reg/aws"\n}\n',
        "child/main.tf": 'module "inner" {\n  source = "acme/thing/aws"\n}\n',
        ".terraform/modules/modules.json": manifest(
            ("child.inner", ".terraform/modules/x"), ("inner", ".terraform/modules/unused"),
            ("reg", ".terraform/modules/reg"), ("reg.sub", ".terraform/modules/reg/modules/sub")),
        ".terraform/modules/x/main.tf": 'resource "aws_s3_bucket" "x" {}\n',
        ".terraform/modules/unused/variables.tf": BAD_TYPES,
        ".terraform/modules/reg/main.tf": 'module "sub" {\n  source = "./modules/sub"\n}\n',
        ".terraform/modules/reg/modules/sub/variables.tf": BAD_TYPES.replace("tags", "sub_tags"),
    })
    assert downloaded_modules(tmp_path) == [
        tmp_path / ".terraform/modules/reg", tmp_path / ".terraform/modules/reg/modules/sub", tmp_path / ".terraform/modules/x",
    ]
    assert errors_of(tmp_path) == [
        '.terraform/modules/reg/modules/sub/variables.tf:6: variable "sub_tags": invalid type constraint; '
        "the module was not evaluated",
    ]


def test_refused_source_inside_a_downloaded_module(tmp_path):
    write(tmp_path, {
        "main.tf": 'module "m" {\n  source = "acme/thing/aws"\n}\n',
        ".terraform/modules/modules.json": manifest(("m", ".terraform/modules/m")),
        ".terraform/modules/m/main.tf": 'variable "x" {\n  default = "./"\n}\nmodule "again" {\n  source = var.x\n}\n',
    })
    assert errors_of(tmp_path) == [f".terraform/modules/m/main.tf:5: {refused('again')}"]


@pytest.mark.parametrize("content", ["", "{not json", '{"Modules": 5}', '{"Modules": [{"Key": 1, "Dir": []}, 7]}'])
def test_a_missing_or_odd_manifest_is_no_module(tmp_path, content):
    write(tmp_path, {"main.tf": 'module "m" {\n  source = "acme/thing/aws"\n}\n'})
    if content:
        write(tmp_path, {".terraform/modules/modules.json": content})
    assert downloaded_modules(tmp_path) == []


def test_local_module_calls_read_module_blocks_only(tmp_path):
    """A commented-out self-call and a file provisioner's `source = "./"` are no module calls (no
    false cycle); `source = path.module` and `"${path.module}/x"` are, as tfparse reads them."""
    write(tmp_path, {
        "main.tf": '# module "again" {\n#   source = "./"\n# }\n'
                   'resource "null_resource" "upload" {\n  provisioner "file" {\n    source      = "./"\n'
                   '    destination = "/tmp/app"\n  }\n}\n' + LAMBDA,
        "calls.tf": 'module "net" {\n  source = "./network"\n}\n',
        "more.tf.json": json.dumps({"module": {"jobs": {"source": "${path.module}/jobs"}}}),
        "network/main.tf": "", "jobs/main.tf": "",
    })
    assert local_module_calls(tmp_path) == {tmp_path / "network", tmp_path / "jobs"}
    assert errors_of(tmp_path) == []
    write(tmp_path / "self", {"main.tf": 'module "again" {\n  source = path.module\n}\n'})
    assert local_module_calls(tmp_path / "self") == {tmp_path / "self"}
