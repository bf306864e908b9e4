"""`mllint test DIR`: run a policy pack's own fixtures, like `opa test` or `cfn-guard test`.

A pack is a directory:

    DIR/<ID>-<name>.yaml                        the policies (every *.yaml directly in DIR)
    DIR/docs/<ID>-<name>.md                     one doc per policy
    DIR/fixtures/<ID>/expected.yaml             case -> {fail: [addresses], pass: [addresses]}
    DIR/fixtures/<ID>/terraform/<case>/         a case: a Terraform root module ...
    DIR/fixtures/<ID>/cloudformation/<case>.yaml  ... or a CloudFormation template

Each case is scanned with only its policy selected; it passes when exactly the
`fail` addresses fail, and every `pass` address is a resource mllint modelled
and did not flag (the fixtures/ format of mllint's own policies). Each doc must
carry the sections of mllint's policy docs. The pack is tested alone: the
shipped policies are loaded (ids stay unique) but installed packs are not.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path


from mllint.catalogue import DOC_SECTIONS, doc_path
from mllint.policy import Policy, PolicyError, load_policies
from mllint.yamlio import YamlFileError, load_file

EXPECTATION_KEYS = ("fail", "pass")
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")


class PackError(Exception):
    """A pack that cannot be tested (exit 2); str() is one line naming the file."""


@dataclass(frozen=True)
class Result:
    policy: str
    case: str  # a case path relative to fixtures/<ID>/, or "doc" / "fixtures"
    problems: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return not self.problems


def run_pack(directory: Path, timeout: float = 30.0) -> list[Result]:
    """Every result of the pack in `directory`, policy by policy."""
    if not directory.is_dir():
        raise PackError(f"{directory}: no such directory")
    try:
        policies = load_policies([directory], installed=False)
    except PolicyError as exc:
        raise PackError(str(exc)) from None
    pack = [p for p in policies if p.path.parent.resolve() == directory.resolve()]
    if not pack:
        raise PackError(f"{directory}: no policies (*.yaml) in the pack")
    expectations = _expectations(directory / "fixtures", {p.id for p in pack})
    results = []
    for policy in pack:
        results.append(Result(policy.id, "doc", _doc_problems(policy)))
        cases = expectations.get(policy.id)
        if not cases:
            results.append(Result(policy.id, "fixtures", (f"no fixtures: {directory / 'fixtures' / policy.id / 'expected.yaml'} is missing",)))
            continue
        for case, expected in cases.items():
            results.append(_run_case(directory, policy, case, expected, timeout))
    return results


def _expectations(fixtures: Path, ids: set[str]) -> dict[str, dict]:
    """fixtures/<ID>/expected.yaml of every policy, validated."""
    found = {}
    if not fixtures.is_dir():
        return found
    for folder in sorted(p for p in fixtures.iterdir() if p.is_dir()):
        expected = folder / "expected.yaml"
        if folder.name not in ids:
            raise PackError(f"{folder}: no policy {folder.name} in the pack")
        if not expected.is_file():
            raise PackError(f"{expected}: missing")
        found[folder.name] = _read_expected(expected)
    return found


def _read_expected(path: Path) -> dict:
    try:
        raw = load_file(path)
    except YamlFileError as exc:
        raise PackError(str(exc)) from None
    if not isinstance(raw, dict) or not raw:
        raise PackError(f"{path}: expected a mapping of case paths to {{fail: [...], pass: [...]}}")
    for case, expected in raw.items():
        if not isinstance(case, str) or case.startswith("/") or ".." in Path(case).parts:
            raise PackError(f"{path}: case {case!r}: a path inside {path.parent.name}/ is expected")
        if not isinstance(expected, dict) or not set(expected) <= set(EXPECTATION_KEYS):
            raise PackError(f"{path}: case {case}: expected a mapping with the keys fail and pass")
        for key, addresses in expected.items():
            if addresses is None:
                expected[key] = []
            elif not isinstance(addresses, list) or not all(isinstance(a, str) for a in addresses):
                raise PackError(f"{path}: case {case}: {key}: expected a list of resource addresses")
    return raw


def _run_case(directory: Path, policy: Policy, case: str, expected: dict, timeout: float) -> Result:
    from mllint.scan import ScanOptions, scan

    root = directory / "fixtures" / policy.id
    path = root / case
    if not path.exists():
        return Result(policy.id, case, (f"no such file or directory: {path}",))
    options = ScanOptions(paths=[path], root=root, jobs=1, timeout=timeout, policy_dirs=[directory],
                          select=[policy.id], installed_packs=False)
    report = scan(options)
    problems = [f"load error: {error}" for error in report.errors]
    failed = sorted({f.address for f in report.findings if f.policy_id == policy.id and not f.suppressed})
    want_fail, want_pass = set(expected.get("fail", [])), expected.get("pass", [])
    modelled = {address for _, address, _ in report.modelled}
    problems += [f"expected to fail, passed: {a}" for a in sorted(want_fail - set(failed))]
    problems += [f"failed, not listed in fail: {a}" for a in failed if a not in want_fail]
    problems += [f"listed in pass, not a resource of this case: {a}" for a in want_pass if a not in modelled]
    problems += [f"listed in both fail and pass: {a}" for a in want_pass if a in want_fail]
    if not report.units:
        problems.append("no Terraform module or CloudFormation template found")
    return Result(policy.id, case, tuple(problems))


def _doc_problems(policy: Policy) -> tuple[str, ...]:
    """The doc exists, is titled `# <ID> <name>` and has the policy doc sections in order."""
    path = doc_path(policy)
    if not path.is_file():
        return (f"no doc at {path}",)
    headings, fence = [], None
    for line in path.read_text(encoding="utf-8").splitlines():
        opening = _FENCE.match(line)
        if opening and (fence is None or opening[1].startswith(fence)):
            fence = None if fence else opening[1]
        elif fence is None and line.startswith("#"):
            headings.append(line)
    problems = []
    if not headings or headings[0].strip() != f"# {policy.id} {policy.name}":
        problems.append(f"{path.name}: the first heading must be `# {policy.id} {policy.name}`")
    sections = [h[3:].strip() for h in headings if h.startswith("## ")]
    if tuple(sections) != DOC_SECTIONS:
        problems.append(f"{path.name}: sections {sections}; expected {list(DOC_SECTIONS)}")
    return tuple(problems)


def render(directory: Path, results: list[Result]) -> str:
    """PASS/FAIL per case, the problems under each failure, and a tally."""
    lines = []
    for result in results:
        lines.append(f"{'PASS' if result.passed else 'FAIL'}  {result.policy}  {result.case}")
        lines.extend(f"      {problem}" for problem in result.problems)
    failed = sum(not r.passed for r in results)
    lines.append(f"{directory}: {len(results) - failed} passed, {failed} failed")
    return "\n".join(lines) + "\n"
