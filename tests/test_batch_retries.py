"""Batch retry strategies: API limits (ML106) and the simulated Spot reclaim (ML303)."""
from __future__ import annotations

import pytest

from mllint.facts.retries import reclaim_outcome, strategy_errors
from mllint.records import UNKNOWN

HOST = {"on_status_reason": "Host EC2*", "action": "RETRY"}
CATCH_ALL = {"on_reason": "*", "action": "EXIT"}


@pytest.mark.parametrize(
    "rules, outcome",
    [
        ([HOST, CATCH_ALL], "RETRY"),
        ([CATCH_ALL, HOST], "EXIT"),
        ([], "RETRY"),  # nothing matches: Batch retries
        ([{"on_reason": "OutOfMemoryError*", "action": "RETRY"}, CATCH_ALL], "EXIT"),
        ([{"on_exit_code": "137", "action": "EXIT"}], "RETRY"),  # no exit code on a reclaim
        ([{"on_exit_code": "*", "action": "exit"}], "EXIT"),  # action in any case
        ([{"on_status_reason": "Host EC2 (instance*", "action": "EXIT"}], "EXIT"),
        ([{"on_status_reason": "Host*", "on_reason": "x*", "action": "EXIT"}], "RETRY"),  # every condition must match
        ([{"on_status_reason": "host ec2*", "action": "RETRY"}, CATCH_ALL], UNKNOWN),  # matches only ignoring case
        ([{"on_reason": UNKNOWN, "action": "EXIT"}, HOST], UNKNOWN),
        ([{"on_reason": UNKNOWN, "action": "RETRY"}, HOST], "RETRY"),  # every open outcome retries
        ([{"action": "EXIT"}], UNKNOWN),  # a rule without conditions
        ([{"on_reason": "*Spot*", "action": "EXIT"}, HOST], UNKNOWN),  # not a valid pattern
        (UNKNOWN, UNKNOWN),
    ],
)
def test_spot_reclaim_outcome(rules, outcome):
    assert reclaim_outcome(rules, "retry_strategy.evaluate_on_exit")[0] == outcome


def test_deciding_rule_is_named_in_the_framework_spelling():
    assert reclaim_outcome([CATCH_ALL], "RetryStrategy.EvaluateOnExit")[1] == (
        "RetryStrategy.EvaluateOnExit[1] (OnReason = '*', action EXIT)"
    )


@pytest.mark.parametrize(
    "strategy, errors",
    [
        ({"attempts": 3, "evaluate_on_exit": [HOST, CATCH_ALL]}, []),
        ({"attempts": 10}, []),
        ({}, []),
        ({"attempts": 11}, ["retry_strategy.attempts = 11 (allowed: 1 to 10)"]),
        ({"attempts": 0}, ["retry_strategy.attempts = 0 (allowed: 1 to 10)"]),
        ({"attempts": 2, "evaluate_on_exit": [HOST] * 6}, ["retry_strategy.evaluate_on_exit has 6 rules (at most 5)"]),
        ({"evaluate_on_exit": [HOST]}, ["retry_strategy.evaluate_on_exit is set without retry_strategy.attempts"]),
        (
            {"attempts": 2, "evaluate_on_exit": [{"on_status_reason": "*Spot*", "action": "RETRY"}]},
            ["retry_strategy.evaluate_on_exit[1].on_status_reason = '*Spot*': '*' is only allowed at the end"],
        ),
        (
            {"attempts": 2, "evaluate_on_exit": [{"on_exit_code": "SIGKILL", "action": "RETRY"}]},
            ["retry_strategy.evaluate_on_exit[1].on_exit_code = 'SIGKILL': only digits and a final '*' are allowed"],
        ),
        (
            {"attempts": 2, "evaluate_on_exit": [{"on_reason": "*", "action": "IGNORE"}]},
            ["retry_strategy.evaluate_on_exit[1].action = 'IGNORE' (allowed: RETRY, EXIT)"],
        ),
        ({"attempts": UNKNOWN}, UNKNOWN),
        ({"attempts": UNKNOWN, "evaluate_on_exit": [HOST] * 6}, ["retry_strategy.evaluate_on_exit has 6 rules (at most 5)"]),
    ],
)
def test_strategy_errors(strategy, errors):
    assert strategy_errors(strategy, "retry_strategy.") == errors


def test_errors_in_cloudformation_spelling():
    assert strategy_errors({"Attempts": 12}, "BatchParameters.RetryStrategy.") == [
        "BatchParameters.RetryStrategy.Attempts = 12 (allowed: 1 to 10)"
    ]
