"""The configuration: discovery up to the repository root, validation, precedence, overrides, exclude."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import jsonschema
import pytest

from conftest import REPO
from mllint.globs import matches
from repo_stacks import NO_RETRY_TF, invoke, make_repo

REPORT_SCHEMA = json.loads((REPO / "schemas" / "report.schema.json").read_text())


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def scan_json(cwd: Path, *args: str) -> tuple[int, list[tuple[str, str, str, str]], dict]:
    """Exit status, (policy, severity, file, address) of each unsuppressed finding, and the summary."""
    result = invoke("scan", "--jobs", "1", "--format", "json", *args, cwd=cwd)
    report = json.loads(result.stdout)
    jsonschema.validate(report, REPORT_SCHEMA)
    found = [(f["policy"]["id"], f["severity"], f["file"], f["address"]) for f in report["findings"] if not f["suppressed"]]
    return result.exit_code, found, report["summary"]


def show(cwd: Path, *args: str) -> dict:
    result = invoke("config", "show", "--format", "json", *args, cwd=cwd)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def error_line(cwd: Path, *args: str) -> str:
    """The one line a bad configuration prints, after checking the exit status is 2."""
    result = invoke(*args, cwd=cwd)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


ALL = [
    ("ML302", "warning", "legacy/main.tf", "aws_batch_job_definition.score"),
    ("ML302", "warning", "score/main.tf", "aws_batch_job_definition.score"),
    ("ML101", "error", "train/main.tf", "aws_ecs_task_definition.trainer"),
]


# --- discovery ---------------------------------------------------------------------------------

def test_without_a_config_everything_runs_with_the_defaults(repo: Path):
    assert scan_json(repo, ".")[:2] == (1, ALL)
    assert show(repo) == {
        "file": None,
        "settings": {
            "select": [{"value": [], "from": "default"}],
            "ignore": [{"value": [], "from": "default"}],
            "fail_on": [{"value": "warning", "from": "default"}],
            "severity": [{"value": {}, "from": "default"}],
            "policy_dirs": [{"value": [], "from": "default"}],
            "exclude": [{"value": [], "from": "default"}],
            "baseline": [{"value": None, "from": "default"}],
            "overrides": [{"value": [], "from": "default"}],
        },
    }


def test_config_found_walking_up_from_the_scanned_path(repo: Path):
    write(repo / ".mllint.yaml", "ignore: [ML302]\n")
    # from the repository root, and from a subdirectory scanning its own directory
    assert scan_json(repo, "score", "train")[:2] == (1, [ALL[2]])
    status, found, _ = scan_json(repo / "score", ".")
    assert (status, found) == (0, [])
    assert show(repo / "score")["file"] == str((repo / ".mllint.yaml").resolve())
    assert show(repo, "score")["file"] == ".mllint.yaml"


def test_search_stops_at_the_repository_root(tmp_path: Path, repo: Path):
    write(tmp_path / ".mllint.yaml", "ignore: [ML101, ML302]\n")  # above the repository: not used
    assert show(repo / "train")["file"] is None
    assert scan_json(repo, "train")[:2] == (1, [ALL[2]])


def test_the_nearest_config_wins(repo: Path):
    write(repo / ".mllint.yaml", "ignore: [ML302]\n")
    write(repo / "train" / ".mllint.yaml", "ignore: [ML101]\n")
    assert show(repo, "train")["file"] == "train/.mllint.yaml"
    assert scan_json(repo, "train")[:2] == (0, [])
    # the common directory of several paths decides: here the repository root
    assert show(repo, "train", "score")["file"] == ".mllint.yaml"


def test_pyproject_tool_table(repo: Path):
    write(repo / "pyproject.toml", """\
        [project]
        name = "infra"

        [tool.mllint]
        ignore = ["ML302"]
        fail_on = "error"
        """)
    assert show(repo)["file"] == "pyproject.toml"
    assert scan_json(repo, ".")[:2] == (1, [ALL[2]])
    assert scan_json(repo, "score")[:2] == (0, [])


def test_pyproject_without_the_table_is_passed_over(repo: Path):
    write(repo / ".mllint.yaml", "ignore: [ML302]\n")
    write(repo / "score" / "pyproject.toml", "[project]\nname = 'score'\n")
    assert show(repo, "score")["file"] == ".mllint.yaml"


def test_mllint_yaml_beats_pyproject_in_the_same_directory(repo: Path):
    write(repo / ".mllint.yaml", "ignore: [ML302]\n")
    write(repo / "pyproject.toml", "[tool.mllint]\nignore = ['ML101']\n")
    assert show(repo)["file"] == ".mllint.yaml"


def test_explicit_config_file(tmp_path: Path, repo: Path):
    shared = write(tmp_path / "shared" / "mllint.yaml", "select: [ML101]\n")
    write(repo / ".mllint.yaml", "ignore: [ML101]\n")  # not read when --config is given
    assert scan_json(repo, "--config", str(shared), ".")[:2] == (1, [ALL[2]])
    pyproject = write(tmp_path / "pyproject.toml", "[tool.mllint]\nselect = ['ML302']\n")
    assert scan_json(repo, "--config", str(pyproject), "train")[:2] == (0, [])


# --- validation --------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "text, message",
    [
        ("fail-on: error\n", "mllint: error: .mllint.yaml: key fail-on: unknown key; did you mean 'fail_on'?"),
        ("fail_on: fatal\n", "mllint: error: .mllint.yaml: key fail_on: 'fatal' is not one of ['error', 'warning', 'info']"),
        ("ignore: ML302\n", "mllint: error: .mllint.yaml: key ignore: 'ML302' is not of type 'array'"),
        ("severity: {ML307: high}\n", "mllint: error: .mllint.yaml: key severity.ML307: 'high' is not one of ['error', 'warning', 'info']"),
        ("overrides:\n  - paths: [legacy]\n    ignore: [ML302, 'ML 1']\n",
         "mllint: error: .mllint.yaml: key overrides.0.ignore.1: 'ML 1' is not a policy id, id prefix or name"),
        ("overrides:\n  - paths: [legacy]\n    ignores: [ML302]\n",
         "mllint: error: .mllint.yaml: key overrides.0.ignores: unknown key; did you mean 'ignore'?"),
        ("overrides:\n  - ignore: [ML302]\n", "mllint: error: .mllint.yaml: key overrides.0: 'paths' is a required property"),
        ("- ML101\n", "mllint: error: .mllint.yaml: the configuration must be a mapping of settings"),
        ("ignore: [ML101\nfail_on: error\n", "mllint: error: .mllint.yaml:2: invalid YAML: did not find expected ',' or ']'"),  # libyaml's wording
        ("ignore: [ML999]\n", "mllint: error: .mllint.yaml: key ignore.0: 'ML999' matches no policy"),
        ("severity: {gpu-on-fargat: info}\n", "mllint: error: .mllint.yaml: key severity.gpu-on-fargat: 'gpu-on-fargat' matches no policy"),
        ("policy_dirs: [acme]\n", "mllint: error: .mllint.yaml: key policy_dirs.0: 'acme' is not a directory"),
    ],
)
def test_a_bad_config_is_one_line_naming_the_file_and_key(repo: Path, text: str, message: str):
    write(repo / ".mllint.yaml", text)
    assert error_line(repo, "scan", "--jobs", "1", "train") == message
    assert error_line(repo, "config", "show") == message


def test_a_bad_pyproject_table_names_the_toml_key(repo: Path):
    write(repo / "pyproject.toml", "[tool.mllint]\nfail_on = 'never'\n")
    assert error_line(repo, "scan", "train") == (
        "mllint: error: pyproject.toml: key tool.mllint.fail_on: 'never' is not one of ['error', 'warning', 'info']"
    )
    write(repo / "pyproject.toml", "[tool.mllint\n")
    assert error_line(repo, "scan", "train").startswith("mllint: error: pyproject.toml: invalid TOML: ")


def test_a_missing_explicit_config_or_table(repo: Path):
    assert error_line(repo, "scan", "--config", "nope.yaml", "train") == "mllint: error: nope.yaml: no such config file"
    write(repo / "pyproject.toml", "[project]\nname = 'x'\n")
    assert error_line(repo, "scan", "--config", "pyproject.toml", "train") == (
        "mllint: error: pyproject.toml: has no [tool.mllint] table"
    )


# --- precedence --------------------------------------------------------------------------------

CONFIG = """\
select: [ML1, ML3]
ignore: [ML102]
fail_on: error
severity: {ML307: warning}
"""


def test_command_line_beats_file_beats_default(repo: Path):
    write(repo / ".mllint.yaml", CONFIG)
    settings = show(repo, "--select", "ML3", "--ignore", "ML307", "--fail-on", "info")["settings"]
    assert settings["select"] == [{"value": ["ML3"], "from": "command line"}]
    assert settings["ignore"] == [{"value": ["ML102"], "from": ".mllint.yaml"}, {"value": ["ML307"], "from": "command line"}]
    assert settings["fail_on"] == [{"value": "info", "from": "command line"}]
    assert settings["severity"] == [{"value": {"ML307": "warning"}, "from": ".mllint.yaml"}]
    assert settings["exclude"] == [{"value": [], "from": "default"}]
    assert show(repo)["settings"]["fail_on"] == [{"value": "error", "from": ".mllint.yaml"}]


def test_config_show_text(repo: Path):
    write(repo / ".mllint.yaml", CONFIG + "overrides:\n  - paths: [legacy/**]\n    ignore: [ML302]\n    severity: {ML301: info}\n")
    result = invoke("config", "show", "--fail-on", "warning", "--ignore", "ML2", cwd=repo)
    assert result.exit_code == 0
    assert result.stdout == (
        "Configuration file: .mllint.yaml\n"
        "Precedence: command line > .mllint.yaml > defaults\n"
        "\n"
        "select       ML1, ML3                                       .mllint.yaml\n"
        "ignore       ML102                                          .mllint.yaml\n"
        "             ML2                                            command line\n"
        "fail_on      warning                                        command line\n"
        "severity     ML307: warning                                 .mllint.yaml\n"
        "policy_dirs  none                                           default\n"
        "exclude      none                                           default\n"
        "baseline     none                                           default\n"
        "overrides    legacy/**: ignore ML302; severity ML301: info  .mllint.yaml\n"
    )


def test_the_scan_follows_the_precedence(repo: Path):
    write(repo / ".mllint.yaml", "fail_on: error\nselect: [ML101]\n")
    assert scan_json(repo, "score")[:2] == (0, [])  # ML302 not selected by the file
    assert scan_json(repo, "--select", "ML302", "score")[:2] == (0, [ALL[1]])  # --select replaces it; fail_on: error
    assert scan_json(repo, "--select", "ML3", "--fail-on", "warning", "score")[:2] == (1, [ALL[1]])  # --fail-on replaces it
    assert scan_json(repo, "--ignore", "ML101", ".")[:2] == (0, [])  # --ignore adds to the file's (empty) ignore


# --- severity, overrides, exclude -----------------------------------------------------------------

def test_severity_override_changes_the_finding_and_the_exit_status(repo: Path):
    assert scan_json(repo, "--fail-on", "error", "train")[0] == 1
    write(repo / ".mllint.yaml", "severity: {ML101: warning}\n")
    status, found, summary = scan_json(repo, "--fail-on", "error", "train")
    assert (status, found) == (0, [("ML101", "warning", "train/main.tf", "aws_ecs_task_definition.trainer")])
    assert (summary["error"], summary["warning"]) == (0, 1)
    assert scan_json(repo, "train")[0] == 1  # still a warning: fails under the default fail_on


def test_an_exact_id_beats_a_prefix_and_a_longer_prefix_a_shorter(repo: Path):
    write(repo / ".mllint.yaml", "severity: {ML302: error, ML3: info, ML: warning}\n")
    assert [(f[0], f[1]) for f in scan_json(repo, ".")[1]] == [("ML302", "error"), ("ML302", "error"), ("ML101", "warning")]
    write(repo / ".mllint.yaml", "severity: {batch-job-without-retry: error, ML3: info}\n")
    assert [(f[0], f[1]) for f in scan_json(repo, ".")[1]] == [("ML302", "error"), ("ML302", "error"), ("ML101", "error")]
    write(repo / ".mllint.yaml", "severity: {ML3: info, ML: error}\n")
    assert [(f[0], f[1]) for f in scan_json(repo, ".")[1]] == [("ML302", "info"), ("ML302", "info"), ("ML101", "error")]


def test_per_path_overrides_for_a_monorepo(repo: Path):
    write(repo / ".mllint.yaml", """\
        severity: {ML302: error}
        overrides:
          - paths: ["legacy/**"]
            ignore: [ML302]
          - paths: ["score/**", "other/**"]
            severity: {ML302: info}
        """)
    status, found, summary = scan_json(repo, ".")
    assert found == [
        ("ML302", "info", "score/main.tf", "aws_batch_job_definition.score"),
        ("ML101", "error", "train/main.tf", "aws_ecs_task_definition.trainer"),
    ]
    assert (status, summary["info"], summary["error"], summary["suppressed"]) == (1, 1, 1, 0)
    # the globs are relative to the config file, wherever the scan starts
    assert scan_json(repo / "legacy", ".")[:2] == (0, [])
    assert scan_json(repo / "score", ".")[:2] == (0, [("ML302", "info", "main.tf", "aws_batch_job_definition.score")])


def test_exclude_leaves_paths_out_of_the_scan(repo: Path):
    write(repo / "legacy" / "nested" / "main.tf", NO_RETRY_TF)
    write(repo / ".mllint.yaml", "exclude: [legacy]\n")
    status, found, summary = scan_json(repo, ".")
    assert (status, found, summary["files"]) == (1, ALL[1:], 2)
    # an excluded file named on the command line (as pre-commit does) is not scanned either
    status, found, summary = scan_json(repo, "legacy/main.tf", "score/main.tf")
    assert (found, summary["files"]) == ([ALL[1]], 1)
    write(repo / ".mllint.yaml", "exclude: ['**/nested/*.tf', 'score/main.tf']\n")
    assert scan_json(repo, ".")[1] == [ALL[0], ALL[2]]


def test_policy_dirs_are_relative_to_the_config_file(repo: Path):
    custom = (REPO / "policies" / "ML302-batch-job-without-retry.yaml").read_text()
    custom = custom.replace("id: ML302", "id: ACME1").replace("name: batch-job-without-retry", "name: acme-batch-retry")
    write(repo / "policies" / "ACME1-acme-batch-retry.yaml", custom)
    write(repo / ".mllint.yaml", "policy_dirs: [policies]\nselect: [ACME1]\n")
    assert show(repo / "score")["settings"]["policy_dirs"] == [
        {"value": ["policies"], "from": str((repo / ".mllint.yaml").resolve())}
    ]
    assert scan_json(repo / "score", ".")[:2] == (1, [("ACME1", "warning", "main.tf", "aws_batch_job_definition.score")])


@pytest.mark.parametrize(
    "glob, path, expected",
    [
        ("legacy", "legacy/main.tf", True),
        ("legacy/**", "legacy/a/b/main.tf", True),
        ("legacy/**", "legacy", False),
        ("./legacy/", "legacy/main.tf", True),
        ("*.tf", "main.tf", True),
        ("*.tf", "a/main.tf", False),
        ("**/*.tf", "a/b/main.tf", True),
        ("**/*.tf", "main.tf", True),
        ("services/*/legacy", "services/a/legacy/x.yaml", True),
        ("services/*/legacy", "services/a/b/legacy/x.yaml", False),
        ("stack?.yaml", "stack1.yaml", True),
        ("stack?.yaml", "stack10.yaml", False),
        ("a.b", "axb", False),
    ],
)
def test_globs(glob: str, path: str, expected: bool):
    assert matches(glob, path) is expected


def test_the_readme_example_config_is_valid(repo: Path):
    readme = (REPO / "README.md").read_text()
    example = readme.split("## Configuration", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    write(repo / ".mllint.yaml", example)
    (repo / "policies" / "acme").mkdir(parents=True)
    settings = show(repo)["settings"]
    assert settings["overrides"][0]["value"] == [{"paths": ["services/legacy/**"], "ignore": ["ML302"], "severity": {"ML301": "info"}}]
    assert {key: rows[0]["from"] for key, rows in settings.items()} == dict.fromkeys(settings, ".mllint.yaml")
