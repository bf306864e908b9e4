"""AWS Batch retry strategies: what the API rejects, and what they do with a Spot reclaim.

Limits (AWS Batch API reference, RetryStrategy and EvaluateOnExit): `attempts` is 1 to 10;
`evaluateOnExit` holds at most 5 rules and needs `attempts`; `action` is RETRY or EXIT (any
case); `onStatusReason` / `onReason` / `onExitCode` are patterns of at most 512 characters
that may end with `*` (a `*` anywhere else is rejected), and `onExitCode` holds only digits.

A pattern matches exactly, or, when it ends with `*`, matches the start of the value. A rule
matches when every condition it sets matches; the first rule that matches decides; when
none matches, the job is retried ("If none of the EvaluateOnExit conditions in a
RetryStrategy match, then the job is retried").
"""
from __future__ import annotations

import re
from typing import Any

from mllint.facts.access import as_number, blocks, get
from mllint.records import UNKNOWN

MAX_ATTEMPTS = 10
MAX_RULES = 5
MAX_PATTERN = 512
CONDITIONS = ("on_status_reason", "on_reason", "on_exit_code")
ACTIONS = ("RETRY", "EXIT")
_EXIT_CODE = re.compile(r"^[0-9]*\*?$")
# What a job whose Spot instance was reclaimed reports: the host is gone, the container
# left no reason and no exit code.
SPOT_RECLAIM_STATUS = "Host EC2 (instance i-0123456789abcdef0) terminated."
SPOT_RECLAIM = {"on_status_reason": SPOT_RECLAIM_STATUS, "on_reason": "", "on_exit_code": ""}


def spell(prefix: str, key: str) -> str:
    """`key` (snake_case) as it is written after `prefix`: PascalCase after a PascalCase prefix."""
    if prefix[:1].isupper():
        key = "".join(word.capitalize() for word in key.split("_"))
    return prefix + key


def strategy_errors(strategy: Any, prefix: str) -> list[str] | Any:
    """What the Batch API rejects in a retry strategy; UNKNOWN when nothing is found but something is unknown."""
    if strategy is UNKNOWN:
        return UNKNOWN
    if not strategy:
        return []
    errors: list[str] = []
    unknown = False
    attempts = as_number(get(strategy, "attempts"))
    if attempts is UNKNOWN:
        unknown = True
    elif attempts is not None and not (1 <= attempts <= MAX_ATTEMPTS and float(attempts).is_integer()):
        errors.append(f"{spell(prefix, 'attempts')} = {attempts} (allowed: 1 to {MAX_ATTEMPTS})")
    rules = blocks(get(strategy, "evaluate_on_exit"))
    if rules is UNKNOWN:
        return errors or UNKNOWN
    rules_key = spell(prefix, "evaluate_on_exit")
    if len(rules) > MAX_RULES:
        errors.append(f"{rules_key} has {len(rules)} rules (at most {MAX_RULES})")
    if rules and attempts is None:
        errors.append(f"{rules_key} is set without {spell(prefix, 'attempts')}")
    for index, rule in enumerate(rules, start=1):
        found = rule_errors(rule, f"{rules_key}[{index}].")
        if found is UNKNOWN:
            unknown = True
        else:
            errors.extend(found)
    return UNKNOWN if unknown and not errors else errors


def rule_errors(rule: Any, prefix: str) -> list[str] | Any:
    """What the API rejects in one evaluate_on_exit rule (UNKNOWN when a value is unknown)."""
    if not isinstance(rule, dict):
        return UNKNOWN
    errors: list[str] = []
    action = get(rule, "action")
    if isinstance(action, str) and action.upper() not in ACTIONS:
        errors.append(f"{spell(prefix, 'action')} = {action!r} (allowed: RETRY, EXIT)")
    unknown = action is UNKNOWN
    for key in CONDITIONS:
        pattern = get(rule, key)
        if pattern is UNKNOWN:
            unknown = True
        elif isinstance(pattern, str):
            errors.extend(f"{spell(prefix, key)} = {pattern!r}: {problem}" for problem in _pattern_problems(key, pattern))
    return UNKNOWN if unknown and not errors else errors


def _pattern_problems(key: str, pattern: str) -> list[str]:
    problems = []
    if len(pattern) > MAX_PATTERN:
        problems.append(f"longer than {MAX_PATTERN} characters")
    if "*" in pattern[:-1]:
        problems.append("'*' is only allowed at the end")
    elif key == "on_exit_code" and not _EXIT_CODE.match(pattern):
        problems.append("only digits and a final '*' are allowed")
    return problems


def reclaim_outcome(rules: Any, rules_key: str) -> tuple[Any, str]:
    """What evaluate_on_exit rules do with a Spot reclaim: EXIT, RETRY or UNKNOWN, and the deciding rule.

    A rule whose match cannot be decided (an unknown value, a pattern that matches only
    ignoring case, a rule without conditions) makes the outcome unknown unless every
    outcome it leaves open is the same.
    """
    rules = blocks(rules)
    if rules is UNKNOWN:
        return UNKNOWN, ""
    possible: set[str] = set()
    for index, rule in enumerate(rules, start=1):
        matched = _rule_matches(rule)
        action = get(rule, "action") if isinstance(rule, dict) else UNKNOWN
        action = action.upper() if isinstance(action, str) and action.upper() in ACTIONS else UNKNOWN
        if matched is False:
            continue
        possible.add(action if action is not UNKNOWN else "?")
        if matched is True:
            return (action if possible == {action} else UNKNOWN), _describe(rule, f"{rules_key}[{index}]")
    possible.add("RETRY")  # no rule matched: the job is retried
    return ("RETRY" if possible == {"RETRY"} else UNKNOWN), ""


def _rule_matches(rule: Any) -> Any:
    if not isinstance(rule, dict):
        return UNKNOWN
    results = []
    for key in CONDITIONS:
        pattern = get(rule, key)
        if pattern is None or pattern == "":
            continue  # a condition left out (Terraform writes it as an empty string)
        results.append(_pattern_matches(pattern, SPOT_RECLAIM[key]))
    if False in results:
        return False
    return UNKNOWN if not results or UNKNOWN in results else True


def _pattern_matches(pattern: Any, value: str) -> Any:
    """True / False when the pattern certainly does / does not match; UNKNOWN otherwise."""
    if not isinstance(pattern, str) or "*" in pattern[:-1]:
        return UNKNOWN
    if pattern.endswith("*"):
        exact, folded = value.startswith(pattern[:-1]), value.lower().startswith(pattern[:-1].lower())
    else:
        exact, folded = value == pattern, value.lower() == pattern.lower()
    return True if exact else (UNKNOWN if folded else False)


def _describe(rule: dict, where: str) -> str:
    conditions = ", ".join(f"{spell(where[:1], key)[1:]} = {get(rule, key)!r}" for key in CONDITIONS if get(rule, key))
    return f"{where} ({conditions}, action {get(rule, 'action')})"
