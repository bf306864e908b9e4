"""The `mllint` command line. Heavy modules are imported inside the commands that need them."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from mllint import __version__

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
FORMATS = {"text": ".txt", "json": ".json", "sarif": ".sarif", "junit": ".junit.xml", "github": ".github.txt"}
RENDERERS = {"text": "text", "json": "json_report", "sarif": "sarif", "junit": "junit", "github": "github"}
SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2}


def _split(values: tuple[str, ...]) -> list[str]:
    """Accept `--select ML1 --select ML3` and `--select ML1,ML3`."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _scan_root(paths: list[Path]) -> Path:
    """Report paths relative to the working directory when every path is inside it."""
    cwd = Path.cwd().resolve()
    resolved = [p.resolve() for p in paths]
    if all(p == cwd or cwd in p.parents for p in resolved):
        return cwd
    common = Path(os.path.commonpath([str(p if p.is_dir() else p.parent) for p in resolved]))
    return common


def _use_colour(colour: bool | None, output: str | None) -> bool:
    if colour is not None:
        return colour
    if output or os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mllint")
def main() -> None:
    """mllint: catch ML workloads on the wrong AWS service, in Terraform and CloudFormation.

    \b
    Examples:
      mllint scan ./infra
      mllint scan --format json --output mllint.json .
      mllint policies
      mllint explain ML101
    """


def _fail(message: object) -> None:
    click.echo(f"mllint: error: {message}", err=True)
    sys.exit(EXIT_ERROR)


def _setting_options(command):
    """Options that are also settings of the config file (shared by scan, baseline and config show)."""
    options = [
        click.option("--config", type=click.Path(dir_okay=False, path_type=Path), help="Config file (.mllint.yaml, or pyproject.toml with [tool.mllint]).  [default: the first found walking up from PATHS to the repository root]"),
        click.option("--fail-on", type=click.Choice(["error", "warning", "info"]), default=None, help="Lowest severity that makes the exit status 1.  [default: warning]"),
        click.option("--select", multiple=True, metavar="ID|PREFIX|NAME", help="Run only these policies (repeatable or comma-separated), e.g. ML1 or gpu-on-fargate; replaces the config's select."),
        click.option("--ignore", multiple=True, metavar="ID|PREFIX|NAME", help="Do not run these policies (repeatable or comma-separated); added to the config's ignore."),
        click.option("--policy-dir", "policy_dirs", multiple=True, type=click.Path(file_okay=False, path_type=Path), help="Also load policies from this directory (repeatable)."),
        click.option("--baseline", type=click.Path(dir_okay=False, path_type=Path), help="Baseline file: scan reports only findings it does not list; baseline create/update write it.  [default: the config's baseline]"),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _load_options(command):
    """Options of how IaC is loaded (shared by scan and baseline)."""
    options = [
        click.option("--var-file", "var_files", multiple=True, type=click.Path(dir_okay=False, path_type=Path), help="Terraform variables file applied after terraform.tfvars and *.auto.tfvars (repeatable)."),
        click.option("-j", "--jobs", type=click.IntRange(min=1), default=None, help="Worker processes that evaluate modules and templates.  [default: the CPUs this process may use]"),
        click.option("--timeout", type=click.FloatRange(min=1), default=30.0, show_default=True, help="Seconds allowed to evaluate one Terraform module before it is reported as an error."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _settings(targets: list[Path], config, fail_on, select, ignore, policy_dirs, baseline):
    """The effective settings: command line > config file > defaults."""
    from mllint.config import ConfigError, resolve

    try:
        return resolve(targets, config=config, fail_on=fail_on, select=tuple(_split(select)), ignore=tuple(_split(ignore)),
                       policy_dirs=tuple(policy_dirs), baseline=baseline)
    except ConfigError as exc:
        _fail(exc)


def _scan_options(targets: list[Path], settings, var_files, jobs, timeout):
    from mllint.scan import ScanOptions
    from mllint.workers import default_jobs

    for var_file in var_files:
        if not var_file.is_file():
            raise click.UsageError(f"--var-file {var_file}: no such file")
    return ScanOptions(
        paths=targets,
        root=_scan_root(targets),
        jobs=jobs or default_jobs(),
        timeout=timeout,
        var_files=list(var_files),
        policy_dirs=list(settings.policy_dirs),
        select=list(settings.select),
        ignore=list(settings.ignore),
        rules=settings.rules,
    )


def _read_baseline(path: Path):
    from mllint.baseline import Baseline, BaselineError

    try:
        return Baseline.read(path)
    except BaselineError as exc:
        _fail(exc)


def _run_scan(options):
    from mllint.config import ConfigError
    from mllint.policy import PolicyError
    from mllint.scan import scan as run_scan

    try:
        return run_scan(options)
    except (PolicyError, ConfigError) as exc:
        _fail(exc)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "formats", type=click.Choice(list(FORMATS)), multiple=True, help="Output format, repeatable: text (default), json, sarif, junit, github.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write the report to FILE. With several formats: text goes to standard output and the other format to FILE.")
@click.option("--output-dir", type=click.Path(file_okay=False, path_type=Path), help="Write each format to DIR/mllint.<ext> (mllint.txt, .json, .sarif, .junit.xml, .github.txt).")
@_setting_options
@_load_options
@click.option("--color/--no-color", "colour", default=None, help="Colour the text output (default: when writing to a terminal and NO_COLOR is unset).")
@click.option("-v", "--verbose", is_flag=True, help="Also list inline-suppressed findings (text format) and files skipped as neither Terraform nor CloudFormation.")
def scan(paths, formats, output, output_dir, config, fail_on, select, ignore, policy_dirs, baseline, var_files, jobs, timeout, colour, verbose) -> None:
    """Scan Terraform modules and CloudFormation templates under PATHS (default: .).

    Reads .tf and .tf.json modules (CDK for Terraform stacks included),
    registry modules from .terraform/modules or from their inputs, Terraform
    plan and state JSON, CloudFormation and SAM templates with their local
    nested stacks, and cdk.out folders; each recognised by its content.
    Nothing is downloaded or executed.

    A .tf file is evaluated with the rest of its module directory, but only
    findings in the files named on the command line are reported (a directory
    reports everything under it).

    \b
    Exit status:
      0  nothing at or above --fail-on
      1  findings at or above --fail-on
      2  a usage, policy or parse error (everything else is still scanned and reported)
    """
    targets = list(paths) or [Path(".")]
    settings = _settings(targets, config, fail_on, select, ignore, policy_dirs, baseline)
    options = _scan_options(targets, settings, var_files, jobs, timeout)
    options.baseline = _read_baseline(settings.baseline) if settings.baseline else None
    destinations = _destinations(list(dict.fromkeys(formats)) or ["text"], output, output_dir)
    report = _run_scan(options)
    for output_format, destination in destinations:
        _emit(report, output_format, destination, colour, verbose)
    if "text" not in formats and formats:
        for error in report.errors:
            click.echo(f"mllint: error: {error}", err=True)
    sys.exit(exit_status(report, settings.fail_on))


def _destinations(formats: list[str], output: str | None, output_dir: Path | None) -> list[tuple[str, Path | None]]:
    """Where each format goes (None = standard output); a usage error when that is ambiguous."""
    if output and output_dir:
        raise click.UsageError("use --output or --output-dir, not both")
    if output_dir:
        output_dir.mkdir(parents=True, exist_ok=True)
        return [(f, output_dir / f"mllint{FORMATS[f]}") for f in formats]
    if len(formats) == 1:
        return [(formats[0], Path(output) if output else None)]
    others = [f for f in formats if f != "text"]
    if "text" in formats and len(others) == 1 and output:
        return [("text", None), (others[0], Path(output))]
    raise click.UsageError("several formats need --output-dir, or `--format text --format X --output FILE`")


def _emit(report, output_format: str, destination: Path | None, colour: bool | None, verbose: bool) -> None:
    from importlib import import_module

    module = import_module(f"mllint.report.{RENDERERS[output_format]}")
    if hasattr(module, "chunks"):  # written piece by piece: a large report is never held whole
        if destination:
            with destination.open("w", encoding="utf-8") as handle:
                handle.writelines(module.chunks(report))
        else:
            for chunk in module.chunks(report):
                click.echo(chunk, nl=False)
        return
    renderer = module.render
    if output_format == "text":
        use_colour = _use_colour(colour, str(destination) if destination else None)
        text = renderer(report, colour=use_colour, verbose=verbose)
    else:
        use_colour, text = False, renderer(report)
    if destination:
        destination.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False, color=use_colour)


def exit_status(report, fail_on: str) -> int:
    """2 if anything could not be loaded, else 1 if a finding reaches `fail_on`, else 0."""
    if report.errors:
        return EXIT_ERROR
    threshold = SEVERITY_RANK[fail_on]
    if any(not f.suppressed and SEVERITY_RANK[f.severity] >= threshold for f in report.findings):
        return EXIT_FINDINGS
    return EXIT_CLEAN


def _policies_or_exit(policy_dirs: tuple[Path, ...]) -> list:
    from mllint.policy import PolicyError, load_policies

    try:
        return load_policies(list(policy_dirs))
    except PolicyError as exc:
        click.echo(f"mllint: error: {exc}", err=True)
        sys.exit(EXIT_ERROR)


@main.command("policies")
@click.option("--format", "output_format", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True,
              help="markdown writes the policy index kept in docs/policies.md.")
@click.option("--policy-dir", "policy_dirs", multiple=True, type=click.Path(file_okay=False, path_type=Path), help="Also list policies from this directory.")
def list_policies(output_format: str, policy_dirs: tuple[Path, ...]) -> None:
    """List the policies: id, name, severity, frameworks and title."""
    from mllint import catalogue

    policies = _policies_or_exit(policy_dirs)
    if output_format == "json":
        click.echo(catalogue.as_json(policies))
    elif output_format == "markdown":
        click.echo(catalogue.as_markdown(policies), nl=False)
    else:
        click.echo(catalogue.as_text(policies), nl=False)


@main.command()
@click.argument("policy")
@click.option("--policy-dir", "policy_dirs", multiple=True, type=click.Path(file_okay=False, path_type=Path), help="Also look in this policy directory.")
def explain(policy: str, policy_dirs: tuple[Path, ...]) -> None:
    """Print the documentation of POLICY (an id such as ML304, or a name)."""
    from mllint import catalogue

    policies = _policies_or_exit(policy_dirs)
    found = catalogue.find(policies, policy)
    if found is None:
        known = ", ".join(p.id for p in policies)
        click.echo(f"mllint: error: no policy {policy!r} (known: {known})", err=True)
        sys.exit(EXIT_ERROR)
    doc = catalogue.doc_path(found)
    if not doc.is_file():
        click.echo(f"mllint: error: {found.code} has no documentation at {doc}", err=True)
        sys.exit(EXIT_ERROR)
    click.echo(doc.read_text(encoding="utf-8"), nl=False)


@main.command("test")
@click.argument("directory", metavar="DIR", type=click.Path(file_okay=False, path_type=Path))
@click.option("--timeout", type=click.FloatRange(min=1), default=30.0, show_default=True, help="Seconds allowed to evaluate one Terraform case.")
def test_pack(directory: Path, timeout: float) -> None:
    """Run the policy pack in DIR against its own fixtures; PASS or FAIL per case.

    \b
    DIR/<ID>-<name>.yaml                 the policies
    DIR/docs/<ID>-<name>.md              their docs (sections as in `mllint explain`)
    DIR/fixtures/<ID>/expected.yaml      case path -> {fail: [addresses], pass: [addresses]}
    DIR/fixtures/<ID>/terraform/<case>/  and  DIR/fixtures/<ID>/cloudformation/<case>.yaml

    \b
    Exit status: 0 every case passes, 1 some case fails, 2 the pack cannot be read.
    """
    from mllint import packtest

    try:
        results = packtest.run_pack(directory, timeout=timeout)
    except packtest.PackError as exc:
        _fail(exc)
    click.echo(packtest.render(directory, results), nl=False)
    sys.exit(EXIT_FINDINGS if any(not r.passed for r in results) else EXIT_CLEAN)


@main.command("new-policy")
@click.argument("policy_id", metavar="ID")
@click.argument("name")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True, help="The policy pack to write into (created if missing).")
@click.option("--severity", type=click.Choice(["error", "warning", "info"]), default="warning", show_default=True)
@click.option("--title", help="One line: what is wrong.  [default: the example policy's title]")
def new_policy(policy_id: str, name: str, directory: Path, severity: str, title: str | None) -> None:
    """Write a working example policy ID NAME, its doc and its fixtures into a pack.

    \b
    Example:
      mllint new-policy ACME101 long-running-lambda --dir acme-policies
      mllint test acme-policies
    """
    from mllint import scaffold

    try:
        written = scaffold.new_policy(directory, policy_id, name, severity, title or scaffold.DEFAULT_TITLE)
    except scaffold.ScaffoldError as exc:
        _fail(exc)
    for path in written:
        click.echo(f"created {path}")
    click.echo(f"next: edit the policy, its fixtures and its doc, then run `mllint test {directory}`")


@main.group("baseline")
def baseline_group() -> None:
    """Create or update the baseline of accepted findings.

    With a baseline, `scan --baseline FILE` (or the config's `baseline`)
    reports only findings that are not in it.
    """


@baseline_group.command("create")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@_setting_options
@_load_options
def baseline_create(paths, var_files, jobs, timeout, **setting_args) -> None:
    """Write a baseline of every finding under PATHS (default: .), replacing the file.

    The file is --baseline, else the config's `baseline`, else .mllint-baseline.json.
    """
    _write_baseline("create", paths, var_files, jobs, timeout, setting_args)


@baseline_group.command("update")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@_setting_options
@_load_options
def baseline_update(paths, var_files, jobs, timeout, **setting_args) -> None:
    """Merge the findings under PATHS (default: .) into the baseline.

    Entries whose finding is still there are kept, new findings are added, and
    entries whose finding is gone (fixed) are removed and listed — only for files
    this scan covered and policies it ran; other entries are kept as they are.
    """
    _write_baseline("update", paths, var_files, jobs, timeout, setting_args)


def _write_baseline(action: str, paths, var_files, jobs, timeout, setting_args: dict) -> None:
    from mllint import baseline as baselines
    from mllint.config import display

    targets = list(paths) or [Path(".")]
    settings = _settings(targets, **setting_args)
    path = settings.baseline or Path(baselines.BASELINE_FILE)
    old = _read_baseline(path) if action == "update" else None
    options = _scan_options(targets, settings, var_files, jobs, timeout)
    report = _run_scan(options)
    if report.errors:
        for error in report.errors:
            click.echo(f"mllint: error: {error}", err=True)
        _fail(f"{display(path)}: not written, because {len(report.errors)} file(s) could not be loaded (fix or exclude them)")
    if old is None:
        change = baselines.create(path, report, options.root)
    else:
        change = baselines.update(old, report, options.root, targets)
    change.baseline.write()
    click.echo(change.summary())


@main.group("config")
def config_group() -> None:
    """Show the configuration (.mllint.yaml or [tool.mllint] in pyproject.toml)."""


@config_group.command("show")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@_setting_options
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def config_show(paths, output_format, **setting_args) -> None:
    """Print each effective setting for scanning PATHS (default: .) and where it came from.

    Precedence: command line > config file > defaults. --ignore and --policy-dir
    add to the file's lists; the other options replace the file's value.
    """
    from mllint import config_show as view
    from mllint.config import ConfigError
    from mllint.policy import PolicyError
    from mllint.scan import every_policy

    targets = list(paths) or [Path(".")]
    settings = _settings(targets, **setting_args)
    try:
        settings.rules.check(every_policy(_scan_options(targets, settings, (), None, 30.0)))
    except (PolicyError, ConfigError) as exc:
        _fail(exc)
    click.echo(view.as_json(settings) if output_format == "json" else view.as_text(settings), nl=False)


@main.command("checkov-dir")
def checkov_dir() -> None:
    """Print the directory to give checkov's --external-checks-dir.

    mllint's policies then run inside checkov as CKV_MLLINT_<number> checks;
    mllint and checkov must be installed in one environment:
    pip install 'mllint[checkov]'.

    \b
    Example:
      checkov -d infra --external-checks-dir "$(mllint checkov-dir)"
    """
    from importlib.util import find_spec

    from mllint.checkov_bridge import EXTERNAL_CHECKS_DIR

    if find_spec("checkov") is None:
        click.echo("mllint: note: checkov is not installed in this environment; "
                   "install both together: pip install 'mllint[checkov]'", err=True)
    click.echo(str(EXTERNAL_CHECKS_DIR))
