"""The `mllint` command line. Heavy modules are imported inside the commands that need them."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from mllint import __version__

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
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


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Output format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write the report to FILE instead of standard output.")
@click.option("--fail-on", type=click.Choice(["error", "warning", "info"]), default="warning", show_default=True, help="Lowest severity that makes the exit status 1.")
@click.option("--select", multiple=True, metavar="ID|PREFIX|NAME", help="Run only these policies (repeatable or comma-separated), e.g. ML1 or gpu-on-fargate.")
@click.option("--ignore", multiple=True, metavar="ID|PREFIX|NAME", help="Do not run these policies (repeatable or comma-separated).")
@click.option("--policy-dir", "policy_dirs", multiple=True, type=click.Path(file_okay=False, path_type=Path), help="Also load policies from this directory (repeatable).")
@click.option("--var-file", "var_files", multiple=True, type=click.Path(dir_okay=False, path_type=Path), help="Terraform variables file applied after terraform.tfvars and *.auto.tfvars (repeatable).")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None, help="Worker processes that evaluate modules and templates.  [default: number of CPUs]")
@click.option("--timeout", type=click.FloatRange(min=1), default=30.0, show_default=True, help="Seconds allowed to evaluate one Terraform module before it is reported as an error.")
@click.option("--color/--no-color", "colour", default=None, help="Colour the text output (default: when writing to a terminal and NO_COLOR is unset).")
@click.option("-v", "--verbose", is_flag=True, help="Also list files skipped as neither Terraform nor CloudFormation.")
def scan(paths, output_format, output, fail_on, select, ignore, policy_dirs, var_files, jobs, timeout, colour, verbose) -> None:
    """Scan Terraform modules and CloudFormation templates under PATHS (default: .).

    \b
    Exit status:
      0  nothing at or above --fail-on
      1  findings at or above --fail-on
      2  a usage, policy or parse error (everything else is still scanned and reported)
    """
    from mllint.policy import PolicyError
    from mllint.scan import ScanOptions, scan as run_scan

    targets = list(paths) or [Path(".")]
    options = ScanOptions(
        paths=targets,
        root=_scan_root(targets),
        jobs=jobs or os.cpu_count() or 1,
        timeout=timeout,
        var_files=list(var_files),
        policy_dirs=list(policy_dirs),
        select=_split(select),
        ignore=_split(ignore),
    )
    for var_file in options.var_files:
        if not var_file.is_file():
            raise click.UsageError(f"--var-file {var_file}: no such file")
    try:
        report = run_scan(options)
    except PolicyError as exc:
        click.echo(f"mllint: error: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    if output_format == "json":
        from mllint.report.json_report import render

        text = render(report)
        for error in report.errors:
            click.echo(f"mllint: error: {error}", err=True)
    else:
        from mllint.report.text import render

        text = render(report, colour=_use_colour(colour, output), verbose=verbose)
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False, color=_use_colour(colour, output) if output_format == "text" else False)
    sys.exit(exit_status(report, fail_on))


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
