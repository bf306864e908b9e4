"""Match policies against the facts of each subject and produce findings."""
from __future__ import annotations

from typing import Any, Iterable

from mllint.model import Subject
from mllint.policy import Policy
from mllint.records import Finding


class _Placeholders(dict):
    """Format values: lists joined, missing placeholders left visible."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _display(value: Any) -> Any:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def evaluate(subjects: Iterable[Subject], policies: list[Policy]) -> list[Finding]:
    """Every finding of every policy on every subject, in deterministic order.

    A resource tagged `mllint:workload=none` is exempt from warnings and infos
    (they are about the wrong service for an ML workload); errors still apply,
    because they describe configurations AWS cannot run.
    """
    findings = []
    for subject in subjects:
        facts = subject.facts
        for policy in policies:
            if facts["kind"] not in policy.kinds:
                continue
            if facts.get("role") == "none" and policy.severity != "error":
                continue
            if policy.validator.is_valid(facts):
                findings.append(_finding(policy, subject))
    return sorted(findings, key=Finding.sort_key)


def _finding(policy: Policy, subject: Subject) -> Finding:
    resource, facts = subject.resource, subject.facts
    values = _Placeholders({key: _display(value) for key, value in facts.items()})
    values["address"] = resource.address
    evidence: list[str] = []
    if policy.role_decided(facts):
        evidence.append(f"role {facts['role']}: " + "; ".join(facts.get("role_evidence", [])))
    for name in policy.evidence:
        for item in facts.get(name, []):
            if item not in evidence:
                evidence.append(item)
    evidence.extend(note for note in resource.notes if note not in evidence)
    return Finding(
        policy_id=policy.id,
        policy_name=policy.name,
        severity=policy.severity,
        title=policy.title,
        file=resource.file,
        line=resource.line,
        address=resource.address,
        message=policy.message.format_map(values),
        evidence=tuple(evidence),
        fix=policy.fix,
        help_uri=policy.help_uri,
    )
