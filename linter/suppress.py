"""The suppression stage: apply the inline suppressions the loaders read
(`Resource.suppressions`, `LoadResult.suppressions`) to the findings of their unit.

A finding that a valid suppression names stays in the report, marked suppressed
with the suppression that did it, and no longer counts for the exit status.
Suppressions that are wrong or useless become findings of two built-in
diagnostics (docs/diagnostics/), which --select / --ignore treat like policies:

* ML001 unused-suppression: a valid suppression that silenced nothing;
* ML002 invalid-suppression: malformed or misplaced, without a reason, naming no
  known policy, or naming a policy marked `ignorable: false` (its finding stays).

Ids are exact policy ids or names (case-insensitive), never prefixes: a
suppression must not silence policies added after it was written.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Callable, Iterable, Iterator

from mllint import __version__
from mllint.model import KINDS, Subject
from mllint.policy import Policy, PolicyError
from mllint.records import Finding, LoadResult, Suppression

DIAGNOSTICS_DOCS = f"https://github.com/mllint/mllint/blob/v{__version__}/docs/diagnostics"
_HOW_TO_GIVE_A_REASON = {
    "comment": "write `-- reason` after the ids",
    "tag": "write the tag value as `ID -- reason`",
    "metadata": "add `reason:` to the entry",
}


def _diagnostic(policy_id: str, name: str, title: str, description: str, fix: str) -> Policy:
    return Policy(
        id=policy_id, name=name, title=title, severity="warning", kinds=(), when={}, message=title,
        fix=fix, evidence=(), sources=(), description=description, path=Path(__file__),
        help_uri=f"{DIAGNOSTICS_DOCS}/{policy_id}-{name}.md", ignorable=False,
    )


UNUSED = _diagnostic(
    "ML001", "unused-suppression", "Suppression that suppresses nothing",
    "An inline suppression names a policy that has no finding on what it covers: the problem was fixed, "
    "or the suppression sits on the wrong resource, module or file.",
    "Remove the suppression, or move it into the block whose finding it is meant for.",
)
INVALID = _diagnostic(
    "ML002", "invalid-suppression", "Suppression that cannot be applied",
    "An inline suppression is malformed, is not inside a resource or module, gives no reason, names no known "
    "policy, or names a policy marked `ignorable: false`. It suppresses nothing.",
    "Write `mllint: ignore[ID] -- reason` with an existing policy id or name inside the resource or module it is "
    "for; fix the findings of policies that cannot be suppressed.",
)
DIAGNOSTICS = (UNUSED, INVALID)
DIAGNOSTIC_IDS = frozenset(d.id for d in DIAGNOSTICS)


def with_diagnostics(policies: list[Policy]) -> list[Policy]:
    """`policies` followed by the suppression diagnostics, whose ids are reserved."""
    for policy in policies:
        if policy.id in DIAGNOSTIC_IDS:
            raise PolicyError(f"{policy.path}: field id: {policy.id} is reserved for mllint's suppression diagnostics")
    return [*policies, *DIAGNOSTICS]


class Suppressor:
    """Applies suppressions for one scan. `policies` are the policies that run;
    `every_policy` loads all of them, --select / --ignore aside (called on first need)."""

    def __init__(self, policies: list[Policy], every_policy: Callable[[], list[Policy]]):
        self.running = [p for p in policies if p.id not in DIAGNOSTIC_IDS]
        self.diagnostics = {p.id for p in policies if p.id in DIAGNOSTIC_IDS}
        self.every_policy = every_policy
        self.reported: set[Finding] = set()  # a module file shared by two units is read twice
        self._known: list[Policy] | None = None

    def apply(self, findings: list[Finding], result: LoadResult, evaluated: Iterable[Subject],
              files: frozenset[str] | None = None) -> list[Finding]:
        """`findings` of `result`'s unit, suppressed where a suppression says so, plus the
        diagnostics of its suppressions. `evaluated` are the subjects `findings` came from;
        `files` limits diagnostics to suppressions written in those files (None: all)."""
        covering = {r.address: r.suppressions for r in result.resources if r.suppressions}
        used: set[tuple[Suppression, str]] = set()
        applied = []
        for finding in findings:
            by = None
            for suppression in covering.get(finding.address, ()):
                for token, policy in self._applicable(suppression):
                    if policy.id == finding.policy_id:
                        used.add((suppression, token))
                        by = by or suppression
            applied.append(replace(finding, suppressed=True, suppression=by) if by else finding)
        judged = _judged(result, {s.resource.address for s in evaluated})
        for suppression in result.suppressions:
            if files is None or suppression.file in files:
                applied.extend(self._report(suppression, used, judged[suppression]))
        return applied

    def _applicable(self, suppression: Suppression) -> Iterator[tuple[str, Policy]]:
        if suppression.problem or not suppression.reason:
            return
        for token in suppression.ids:
            policy = _find(self.running, token)
            if policy is not None and policy.ignorable:
                yield token, policy

    def _report(self, suppression: Suppression, used: set, unused_because: str | None) -> Iterator[Finding]:
        for diagnostic, message in self._problems(suppression, used, unused_because):
            finding = _finding(diagnostic, suppression, message)
            if diagnostic.id in self.diagnostics and finding not in self.reported:
                self.reported.add(finding)
                yield finding

    def _problems(self, suppression: Suppression, used: set, unused_because: str | None) -> Iterator[tuple[Policy, str]]:
        if suppression.problem:
            yield INVALID, suppression.problem
            return
        if not suppression.reason:
            how = _HOW_TO_GIVE_A_REASON[suppression.source]
            yield INVALID, f"suppression of {', '.join(suppression.ids)} gives no reason, so it was not applied: {how}"
            return
        for token in suppression.ids:
            policy = _find(self.running, token)
            if policy is None:
                known = _find(self.known(), token)
                if known is None:
                    yield INVALID, _unknown(token, self.known())
                elif not known.ignorable:
                    yield INVALID, _refused(known)
            elif not policy.ignorable:
                yield INVALID, _refused(policy)
            elif (suppression, token) not in used and unused_because is not None:
                yield UNUSED, f"suppression of {policy.id} {policy.name} suppresses nothing: {unused_because or _no_finding(policy, suppression)}"

    def known(self) -> list[Policy]:
        """Every policy, including those --select / --ignore turned off."""
        if self._known is None:
            self._known = self.every_policy()
        return self._known


def _judged(result: LoadResult, evaluated: set[str]) -> dict[Suppression, str | None]:
    """Per suppression: "" when it can be judged unused on findings, a reason when it
    covers nothing mllint checks, None when what it covers was not evaluated (a scan
    narrowed to some files)."""
    covered: dict[Suppression, list] = {s: [] for s in result.suppressions}
    for resource in result.resources:
        for suppression in resource.suppressions:
            covered.setdefault(suppression, []).append(resource)
    judged: dict[Suppression, str | None] = {}
    for suppression, resources in covered.items():
        if any(r.address in evaluated for r in resources):
            judged[suppression] = ""
        elif any(r.type in KINDS for r in resources):
            judged[suppression] = None
        else:
            judged[suppression] = f"it covers no resource that mllint checks ({_where(suppression)})" if resources else f"it covers no resource ({_where(suppression)})"
    return judged


def _find(policies: list[Policy], token: str) -> Policy | None:
    for policy in policies:
        if token.upper() == policy.id or token.lower() == policy.name:
            return policy
    return None


def _unknown(token: str, known: list[Policy]) -> str:
    message = f"`{token}` is not the id or name of a policy, so it suppresses nothing"
    if any(p.id.startswith(token.upper()) for p in known):
        message += " (suppressions take exact ids or names, not prefixes)"
    return message


def _refused(policy: Policy) -> str:
    return f"{policy.id} {policy.name} cannot be suppressed inline (ignorable: false); its findings stay"


def _where(suppression: Suppression) -> str:
    if suppression.scope == "module":
        return f"module {suppression.target} and everything below it"
    if suppression.scope == "file":
        return f"file {suppression.target}"
    return suppression.target


def _no_finding(policy: Policy, suppression: Suppression) -> str:
    return f"no {policy.id} finding on {_where(suppression)}"


def _finding(diagnostic: Policy, suppression: Suppression, message: str) -> Finding:
    written = f"ignore[{','.join(suppression.ids)}]" + (f" -- {suppression.reason}" if suppression.reason else "")
    return Finding(
        policy_id=diagnostic.id,
        policy_name=diagnostic.name,
        severity=diagnostic.severity,
        title=diagnostic.title,
        file=suppression.file,
        line=suppression.line,
        address=suppression.target,
        message=message,
        evidence=(f"{suppression.source} {written}" if suppression.ids else f"{suppression.source} at line {suppression.line}",),
        fix=diagnostic.fix,
        help_uri=diagnostic.help_uri,
    )
