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


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "formats", type=click.Choice(list(FORMATS)), multiple=True, help="Output format, repeatable: text (default), json, sarif, junit, github.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write the report to FILE. With several formats: text goes to standard output and the other format to FILE.")
@click.option("--output-dir", type=click.Path(file_okay=False, path_type=Path), help="Write each format to DIR/mllint.<ext> (mllint.txt, .json, .sarif, .junit.xml, .github.txt).")
@click.option("--fail-on", type=click.Choice(["error", "warning", "info"]), default="warning", show_default=True, help="Lowest severity that makes the exit status 1.")
@click.option("--select", multiple=True, metavar="ID|PREFIX|NAME", help="Run only these policies (repeatable or comma-separated), e.g. ML1 or gpu-on-fargate.")
@click.option("--ignore", multiple=True, metavar="ID|PREFIX|NAME", help="Do not run these policies (repeatable or comma-separated).")
@click.option("--policy-dir", "policy_dirs", multiple=True, type=click.Path(file_okay=False, path_type=Path), help="Also load policies from this directory (repeatable).")
@click.option("--var-file", "var_files", multiple=True, type=click.Path(dir_okay=False, path_type=Path), help="Terraform variables file applied after terraform.tfvars and *.auto.tfvars (repeatable).")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None, help="Worker processes that evaluate modules and templates.  [default: number of CPUs]")
@click.option("--timeout", type=click.FloatRange(min=1), default=30.0, show_default=True, help="Seconds allowed to evaluate one Terraform module before it is reported as an error.")
@click.option("--color/--no-color", "colour", default=None, help="Colour the text output (default: when writing to a terminal and NO_COLOR is unset).")
@click.option("-v", "--verbose", is_flag=True, help="Also list files skipped as neither Terraform nor CloudFormation.")
def scan(paths, formats, output, output_dir, fail_on, select, ignore, policy_dirs, var_files, jobs, timeout, colour, verbose) -> None:
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
    destinations = _destinations(list(dict.fromkeys(formats)) or ["text"], output, output_dir)
    try:
        report = run_scan(options)
    except PolicyError as exc:
        click.echo(f"mllint: error: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    for output_format, destination in destinations:
        _emit(report, output_format, destination, colour, verbose)
    if "text" not in formats and formats:
        for error in report.errors:
            click.echo(f"mllint: error: {error}", err=True)
    sys.exit(exit_status(report, fail_on))


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

    renderer = import_module(f"mllint.report.{RENDERERS[output_format]}").render
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
