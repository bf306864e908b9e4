"""Custom policy packs: `mllint new-policy`, `mllint test`, and packs installed with pip
(entry point group `mllint.policies`)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from mllint.cli import main
from mllint.packtest import _doc_problems
from mllint.policy import PolicyError, load_policies, load_policy

ID, NAME = "ACME101", "long-running-lambda"
POLICY_FILE = f"{ID}-{NAME}.yaml"
PASSING = [
    f"PASS  {ID}  doc",
    f"PASS  {ID}  terraform/fails",
    f"PASS  {ID}  terraform/passes",
    f"PASS  {ID}  cloudformation/fails.yaml",
    f"PASS  {ID}  cloudformation/passes.yaml",
]

PACK_PYPROJECT = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "acme-mllint-policies"
version = "1.0.0"

[project.entry-points."mllint.policies"]
acme = "acme_mllint_policies"

[tool.setuptools]
packages = ["acme_mllint_policies"]

[tool.setuptools.package-data]
acme_mllint_policies = ["*.yaml", "docs/*.md"]
"""


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    directory = tmp_path / "acme"
    result = invoke("new-policy", ID, NAME, "--dir", str(directory))
    assert result.exit_code == 0, result.output
    return directory


def test_new_policy_writes_a_pack_that_passes_its_own_tests(pack: Path):
    assert sorted(p.relative_to(pack).as_posix() for p in pack.rglob("*") if p.is_file()) == [
        POLICY_FILE,
        f"docs/{ID}-{NAME}.md",
        f"fixtures/{ID}/cloudformation/fails.yaml",
        f"fixtures/{ID}/cloudformation/passes.yaml",
        f"fixtures/{ID}/expected.yaml",
        f"fixtures/{ID}/terraform/fails/main.tf",
        f"fixtures/{ID}/terraform/passes/main.tf",
    ]
    result = invoke("test", str(pack))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == PASSING + [f"{pack}: 5 passed, 0 failed"]


def test_new_policy_options_and_refusals(tmp_path: Path, pack: Path):
    custom = invoke("new-policy", "ACME102", "slow-lambda", "--dir", str(pack), "--severity", "error", "--title", "Slow: a Lambda function")
    assert custom.exit_code == 0, custom.output
    policy = load_policy(pack / "ACME102-slow-lambda.yaml")
    assert (policy.severity, policy.title) == ("error", "Slow: a Lambda function")
    assert invoke("test", str(pack)).exit_code == 0

    again = invoke("new-policy", ID, "other-name", "--dir", str(pack))
    assert again.exit_code == 2 and f"{ID} {NAME} is already defined in" in again.output
    shipped = invoke("new-policy", "ML101", "other-name", "--dir", str(tmp_path / "new"))
    assert shipped.exit_code == 2 and "ML101 gpu-on-fargate is already defined" in shipped.output
    bad_id = invoke("new-policy", "acme-1", NAME, "--dir", str(tmp_path / "new"))
    assert bad_id.exit_code == 2 and "id 'acme-1'" in bad_id.output
    bad_name = invoke("new-policy", "ACME103", "Long Lambda", "--dir", str(tmp_path / "new"))
    assert bad_name.exit_code == 2 and "name 'Long Lambda'" in bad_name.output
    assert not (tmp_path / "new").exists()

    (pack / "docs" / "ACME104-taken.md").write_text("mine\n")
    clash = invoke("new-policy", "ACME104", "taken", "--dir", str(pack))
    assert clash.exit_code == 2 and "ACME104-taken.md: already exists; nothing was written" in clash.output
    assert not (pack / "ACME104-taken.yaml").exists()
    assert (pack / "docs" / "ACME104-taken.md").read_text() == "mine\n"


def test_failing_cases_are_reported_per_case_and_exit_1(pack: Path):
    policy = pack / POLICY_FILE
    policy.write_text(policy.read_text().replace("minimum: 600", "minimum: 1000"))
    expected = pack / "fixtures" / ID / "expected.yaml"
    expected.write_text(expected.read_text().replace("pass: [ReportBuilderFunction]", "pass: [ReportBuilder]"))
    result = invoke("test", str(pack))
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"PASS  {ID}  doc",
        f"FAIL  {ID}  terraform/fails",
        "      expected to fail, passed: aws_lambda_function.report_builder",
        f"PASS  {ID}  terraform/passes",
        f"FAIL  {ID}  cloudformation/fails.yaml",
        "      expected to fail, passed: ReportBuilderFunction",
        f"FAIL  {ID}  cloudformation/passes.yaml",
        "      listed in pass, not a resource of this case: ReportBuilder",
        f"{pack}: 2 passed, 3 failed",
    ]


def test_unexpected_failure_missing_case_doc_and_fixtures(pack: Path):
    policy = pack / POLICY_FILE
    policy.write_text(policy.read_text().replace("minimum: 600", "minimum: 30"))
    expected = pack / "fixtures" / ID / "expected.yaml"
    expected.write_text(expected.read_text() + "terraform/renamed:\n  fail: []\n")
    doc = pack / "docs" / f"{ID}-{NAME}.md"
    doc.write_text(doc.read_text().replace("## How to suppress", "## Suppressing"))
    assert invoke("new-policy", "ACME102", "no-fixtures", "--dir", str(pack)).exit_code == 0
    shutil.rmtree(pack / "fixtures" / "ACME102")

    lines = invoke("test", str(pack)).output.splitlines()
    assert lines[:2] == [f"FAIL  {ID}  doc", f"      {ID}-{NAME}.md: sections ['What it does', 'Why is this bad?', "
                         "'Example', 'Use instead', 'Suppressing', 'References']; expected ['What it does', 'Why is this bad?', "
                         "'Example', 'Use instead', 'How to suppress', 'References']"]
    assert f"FAIL  {ID}  terraform/passes" in lines
    assert "      failed, not listed in fail: aws_lambda_function.report_builder" in lines
    assert f"FAIL  {ID}  terraform/renamed" in lines
    assert f"      no such file or directory: {pack / 'fixtures' / ID / 'terraform' / 'renamed'}" in lines
    assert "FAIL  ACME102  fixtures" in lines
    assert f"FAIL  {ID}  cloudformation/passes.yaml" in lines
    assert lines[-1] == f"{pack}: 3 passed, 5 failed"


def test_a_suppressed_finding_is_not_a_failure(pack: Path):
    case = pack / "fixtures" / ID / "terraform" / "suppressed"
    case.mkdir()
    source = (pack / "fixtures" / ID / "terraform" / "fails" / "main.tf").read_text()
    (case / "main.tf").write_text(source.replace("  timeout ", f"  # mllint: ignore[{ID}] -- a nightly export, moving to Batch\n  timeout "))
    expected = pack / "fixtures" / ID / "expected.yaml"
    expected.write_text(expected.read_text() + "terraform/suppressed:\n  fail: []\n  pass: [aws_lambda_function.report_builder]\n")
    result = invoke("test", str(pack))
    assert result.exit_code == 0, result.output
    assert f"PASS  {ID}  terraform/suppressed" in result.output.splitlines()


@pytest.mark.parametrize("breakage, message", [
    (lambda p: (p / POLICY_FILE).write_text((p / POLICY_FILE).read_text().replace("severity: warning", "severity: fatal")),
     "{pack}/" + POLICY_FILE + ": field severity: 'fatal' is not one of"),
    (lambda p: (p / POLICY_FILE).write_text((p / POLICY_FILE).read_text().replace("{timeout_seconds} s", "{timeout} s")),
     "{pack}/" + POLICY_FILE + ": field message: unknown placeholder {timeout} (use {address} or a fact)"),
    (lambda p: (p / "fixtures" / ID / "expected.yaml").write_text("terraform/fails:\n  fails: [x]\n"),
     "{pack}/fixtures/" + ID + "/expected.yaml: case terraform/fails: expected a mapping with the keys fail and pass"),
    (lambda p: (p / "fixtures" / ID / "expected.yaml").write_text("terraform/fails: [\n"),
     "{pack}/fixtures/" + ID + "/expected.yaml:2: invalid YAML"),
    (lambda p: (p / "fixtures" / "ACME999").mkdir(), "{pack}/fixtures/ACME999: no policy ACME999 in the pack"),
    (lambda p: (p / POLICY_FILE).unlink(), "{pack}: no policies (*.yaml) in the pack"),
    (lambda p: shutil.rmtree(p), "{pack}: no such directory"),
])
def test_malformed_pack_is_one_line_and_exit_2(pack: Path, breakage, message):
    breakage(pack)
    result = CliRunner().invoke(main, ["test", str(pack)])
    assert result.exit_code == 2, result.output
    assert result.output.startswith("mllint: error: " + message.replace("{pack}", str(pack))), result.output
    assert len(result.output.splitlines()) == 1 and "Traceback" not in result.output


def test_every_shipped_doc_passes_the_pack_doc_check():
    for policy in load_policies():
        assert _doc_problems(policy) == (), policy.id


def test_custom_policy_links_to_its_local_doc_unless_it_names_help_uri(pack: Path):
    policy = load_policy(pack / POLICY_FILE)
    assert policy.help_uri == (pack / "docs" / f"{ID}-{NAME}.md").resolve().as_uri()
    path = pack / POLICY_FILE
    path.write_text(path.read_text() + "help_uri: https://policies.example.com/ACME101\n")
    assert load_policy(path).help_uri == "https://policies.example.com/ACME101"
    path.write_text(path.read_text().replace("https://policies.example.com/ACME101", "docs/ACME101.md"))
    with pytest.raises(PolicyError, match="field help_uri: 'docs/ACME101.md' does not match"):
        load_policy(path)


# --- packs installed with pip -------------------------------------------------------------

def _mllint(site: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(site), "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "mllint", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, Path]:
    """The scaffolded pack as a distribution, pip-installed into a fresh target directory."""
    project = tmp_path_factory.mktemp("acme-project")
    (project / "pyproject.toml").write_text(PACK_PYPROJECT)
    package = project / "acme_mllint_policies"
    assert invoke("new-policy", ID, NAME, "--dir", str(package)).exit_code == 0
    (package / "__init__.py").write_text("")
    site = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(project)],
                   check=True, capture_output=True, text=True)
    return site, package / "fixtures" / ID


def test_installed_pack_is_found_through_its_entry_point(installed):
    site, fixtures = installed
    listing = _mllint(site, "policies", cwd=fixtures)
    assert listing.returncode == 0, listing.stderr
    assert f"{ID}  {NAME}" in listing.stdout and "ML101  gpu-on-fargate" in listing.stdout

    run = _mllint(site, "scan", "--select", ID, ".", cwd=fixtures)
    assert run.returncode == 1, run.stderr
    assert f"warning  {ID} {NAME}  aws_lambda_function.report_builder  terraform/fails/main.tf:1" in run.stdout
    assert f"warning  {ID} {NAME}  ReportBuilderFunction  cloudformation/fails.yaml:3" in run.stdout
    doc = site / "acme_mllint_policies" / "docs" / f"{ID}-{NAME}.md"
    assert f"docs: {doc.resolve().as_uri()}" in run.stdout
    assert run.stdout.rstrip().endswith("Found 2 findings (2 warnings) in 4 files.")

    explain = _mllint(site, "explain", ID, cwd=fixtures)
    assert explain.returncode == 0 and explain.stdout == doc.read_text()

    # the same directory named again with --policy-dir is read once, not a duplicate id
    again = _mllint(site, "scan", "--select", ID, "--policy-dir", str(site / "acme_mllint_policies"), ".", cwd=fixtures)
    assert again.returncode == 1, again.stderr


def test_installed_pack_errors_match_policy_dir_errors(installed, tmp_path: Path):
    site, fixtures = installed
    broken_site = tmp_path / "site"
    shutil.copytree(site, broken_site)
    policy = broken_site / "acme_mllint_policies" / POLICY_FILE
    policy.write_text(policy.read_text().replace("kinds: [lambda-function]", "kinds: [lambda]"))
    installed_run = _mllint(broken_site, "scan", ".", cwd=fixtures)
    direct_run = _mllint(tmp_path / "nothing", "scan", "--policy-dir", str(policy.parent), ".", cwd=fixtures)
    for run in (installed_run, direct_run):
        assert run.returncode == 2
        assert run.stderr == f"mllint: error: {policy}: field kinds: unknown kind 'lambda' (known: " + \
            run.stderr.split("(known: ", 1)[1]
        assert len(run.stderr.splitlines()) == 1
    assert installed_run.stderr == direct_run.stderr


@pytest.mark.parametrize("value, message", [
    ("acme_missing_pack", "entry point acme = acme_missing_pack (group mllint.policies, distribution broken-pack 0.1): "
                          "no installed package or module 'acme_missing_pack'"),
    ("acme_mllint_policies:POLICIES", "entry point acme = acme_mllint_policies:POLICIES (group mllint.policies, "
                                      "distribution broken-pack 0.1): name a package whose directory holds the policies, without ':POLICIES'"),
])
def test_broken_entry_point_is_one_line_and_exit_2(installed, tmp_path: Path, value, message):
    site, fixtures = installed
    dist_info = tmp_path / "broken_pack-0.1.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-pack\nVersion: 0.1\n")
    (dist_info / "entry_points.txt").write_text(f"[mllint.policies]\nacme = {value}\n")
    run = _mllint(Path(f"{tmp_path}{os.pathsep}{site}"), "scan", ".", cwd=fixtures)
    assert run.returncode == 2
    assert run.stderr == f"mllint: error: {message}\n"
