"""Who submits AWS Batch jobs: to which queue, with which retry strategy, from behind which API.

Submitters followed (Terraform and CloudFormation):

* EventBridge targets: `aws_cloudwatch_event_target` (`arn` is the job queue,
  `batch_target.job_definition`, `batch_target.job_attempts`) and `AWS::Events::Rule`
  `Targets[]` (`Arn`, `BatchParameters.JobDefinition`, `BatchParameters.RetryStrategy`);
* EventBridge Scheduler universal targets `arn:aws:scheduler:::aws-sdk:batch:submitJob`,
  whose JSON `input` is the SubmitJob request (`JobQueue`, `JobDefinition`, `RetryStrategy`);
* Step Functions task states `arn:aws:states:::batch:submitJob[.sync|.waitForTaskToken]`
  (`Parameters`, or `Arguments` in JSONata states), in Parallel branches and Map processors too.

A Terraform resource reference inside `jsonencode` arrives as a Link (the loader writes it
as `${address}` and `decode_json` reads it back).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterator

from mllint.facts.access import blocks, decode_json, get
from mllint.facts.iam import ROLE_TYPES, allowed_resources, function_statements, is_wildcard, role_statements
from mllint.facts.signals import Trigger
from mllint.graph import UnitGraph
from mllint.records import UNKNOWN, Link, Resource

JOB_DEFINITION_TYPES = ("aws_batch_job_definition", "AWS::Batch::JobDefinition")
QUEUE_TYPES = ("aws_batch_job_queue", "AWS::Batch::JobQueue")
FUNCTION_TYPES = ("aws_lambda_function", "AWS::Lambda::Function", "AWS::Serverless::Function")
REALTIME_KINDS = ("api-gateway", "load-balancer", "function-url")
SCHEDULER_SUBMIT = re.compile(r"^arn:aws[a-z-]*:scheduler:::aws-sdk:batch:submitJob$", re.IGNORECASE)
STATES_SUBMIT = re.compile(r"^arn:aws[a-z-]*:states:::batch:submitJob(\.sync|\.waitForTaskToken)?$", re.IGNORECASE)
OVERRIDE_KEYS = ("containeroverrides", "ecspropertiesoverride", "nodeoverrides", "ekspropertiesoverride")
REQUIREMENT_KEYS = ("resourcerequirements", "resources")
_TEMPLATE_JOB = re.compile(r'"jobDefinition"\s*:\s*"([^"$]+)"', re.IGNORECASE)
_SUBSTITUTION = re.compile(r"^\$\{([^}]+)\}$")


@dataclass(frozen=True)
class Submission:
    """One way a job definition is submitted to a queue."""

    source: str  # the rule, target, schedule or state machine that submits
    queue: Any  # Link, name or ARN string, None (not given) or UNKNOWN
    job_definition: Any
    retry: Any  # the submitter's own retry strategy (a dict), None when it sets none, or UNKNOWN
    retry_path: str  # where that retry strategy is spelled in the submitter, for messages
    overrides_resources: bool  # it may override the job's resource requirements (GPUs)


@lru_cache(maxsize=4)
def batch_submissions(graph: UnitGraph) -> tuple[Submission, ...]:
    """Every Batch submission that EventBridge, EventBridge Scheduler and Step Functions make in the unit."""
    found: list[Submission] = []
    for target in graph.of_type("aws_cloudwatch_event_target"):
        for batch in blocks(get(target.props, "batch_target")) or []:
            if isinstance(batch, dict):
                attempts = get(batch, "job_attempts")
                retry = None if attempts is None else {"attempts": attempts}
                found.append(Submission(target.address, get(target.props, "arn"), get(batch, "job_definition"),
                                        retry, "batch_target.job_", _input_overrides(target.props)))
    for rule in graph.of_type("AWS::Events::Rule"):
        for entry in blocks(get(rule.props, "targets")) or []:
            batch = get(entry, "batch_parameters")
            if isinstance(batch, dict):
                found.append(Submission(rule.address, get(entry, "arn"), get(batch, "job_definition"),
                                        get(batch, "retry_strategy"), "BatchParameters.RetryStrategy.", _input_overrides(entry)))
    for schedule in graph.of_type("aws_scheduler_schedule", "AWS::Scheduler::Schedule"):
        targets = [t for t in blocks(get(schedule.props, "target")) or [] if isinstance(t, dict)]
        requests = [decode_json(get(t, "input")) for t in targets if SCHEDULER_SUBMIT.match(str(get(t, "arn")))]
        found.extend(_requested(schedule, requests))
    for machine in graph.of_type("aws_sfn_state_machine", "AWS::StepFunctions::StateMachine"):
        found.extend(_requested(machine, list(_state_machine_requests(machine))))
    return tuple(found)


def _requested(submitter: Resource, requests: list) -> list[Submission]:
    """Submissions from SubmitJob requests written as JSON (Scheduler input, Step Functions parameters)."""
    return [
        Submission(submitter.address, _parameter(r, "JobQueue"), _parameter(r, "JobDefinition"),
                   _parameter(r, "RetryStrategy"), "RetryStrategy.", _overrides(r))
        for r in requests
    ]


def _parameter(request: Any, key: str) -> Any:
    """A SubmitJob parameter: UNKNOWN when the request is unknown or the value is computed at run time."""
    if not isinstance(request, dict):
        return UNKNOWN
    if any(isinstance(k, str) and k.lower() == f"{key.lower()}.$" for k in request):
        return UNKNOWN  # JSONPath: taken from the execution input
    value = get(request, key)
    if isinstance(value, str) and value.lstrip().startswith("{%"):
        return UNKNOWN  # JSONata expression
    return value


def _state_machine_requests(machine: Resource) -> Iterator[Any]:
    """The request (Parameters / Arguments) of every Batch SubmitJob task state; UNKNOWN for an unreadable definition."""
    definition = get(machine.props, "definition")
    definition = decode_json(definition if definition is not None else get(machine.props, "definition_string"))
    if not isinstance(definition, dict):
        if definition is not None:
            yield UNKNOWN
        return
    substitutions = get(machine.props, "definition_substitutions")
    for state in _states(definition):
        if isinstance(state.get("Resource"), str) and STATES_SUBMIT.match(state["Resource"]):
            request = state.get("Parameters", state.get("Arguments"))
            yield _substitute(request, substitutions if isinstance(substitutions, dict) else {})


def _states(machine: dict) -> Iterator[dict]:
    """Every state, with those of Parallel branches and Map iterators / item processors."""
    states = machine.get("States")
    for state in states.values() if isinstance(states, dict) else ():
        if not isinstance(state, dict):
            continue
        yield state
        for branch in state.get("Branches") or []:
            if isinstance(branch, dict):
                yield from _states(branch)
        for key in ("Iterator", "ItemProcessor"):
            if isinstance(state.get(key), dict):
                yield from _states(state[key])


def _substitute(request: Any, substitutions: dict) -> Any:
    """CloudFormation DefinitionSubstitutions: a value `${Name}` becomes the substitution's value."""
    if not isinstance(request, dict):
        return request if request is None else UNKNOWN
    result = {}
    for key, value in request.items():
        match = _SUBSTITUTION.match(value) if isinstance(value, str) else None
        result[key] = substitutions.get(match.group(1), UNKNOWN) if match else value
    return result


def _input_overrides(target: Any) -> bool:
    """An EventBridge target whose input may carry container overrides of resource requirements."""
    if get(target, "input_transformer") is not None or get(target, "input_path") is not None:
        return True
    value = get(target, "input")
    return value is not None and _overrides(decode_json(value))


def _overrides(request: Any) -> bool:
    """A request that sets (or may set) resource requirements through its overrides."""
    if not isinstance(request, dict):
        return request is not None
    for key, value in request.items():
        name = str(key).lower()
        if name.removesuffix(".$") in OVERRIDE_KEYS and (name.endswith(".$") or _mentions_requirements(value)):
            return True
    return False


def _mentions_requirements(value: Any) -> bool:
    if value is UNKNOWN or (isinstance(value, str) and value.lstrip().startswith("{%")):
        return True
    if isinstance(value, dict):
        return any(
            str(k).lower().removesuffix(".$") in REQUIREMENT_KEYS or str(k).endswith(".$") or _mentions_requirements(v)
            for k, v in value.items()
        )
    if isinstance(value, list):
        return any(_mentions_requirements(item) for item in value)
    return False


def api_job_submissions(graph: UnitGraph, triggers: dict[str, set[Trigger]]) -> list[tuple[str, Trigger]]:
    """(job definition address, trigger) for every job an API submits.

    An API Gateway AWS integration calling Batch SubmitJob submits the job definitions it
    references or names in its request templates, and those its credentials role may submit. A Lambda function
    behind API Gateway, a load balancer or a function URL submits the job definitions its
    role allows batch:SubmitJob on by name, and, when that permission covers a wildcard,
    those its environment variables name.
    """
    found: list[tuple[str, Trigger]] = []
    for integration in graph.of_type("aws_api_gateway_integration", "AWS::ApiGateway::Method"):
        settings = get(integration.props, "integration") if integration.type == "AWS::ApiGateway::Method" else integration.props
        if _calls_submit_job(settings):
            why = f"{integration.address} calls Batch SubmitJob from an API"
            found.extend((job.address, Trigger("api-job-submission", why)) for job in _integration_jobs(integration, settings, graph))
    for function in graph.of_type(*FUNCTION_TYPES):
        fronts = sorted(t for t in triggers.get(function.address, ()) if t.kind in REALTIME_KINDS)
        if fronts:
            why = f"{function.address} ({fronts[0].describe()}) may submit it: its role allows batch:SubmitJob"
            found.extend((job.address, Trigger("api-job-submission", why)) for job in _function_jobs(function, graph))
    return found


def _calls_submit_job(settings: Any) -> bool:
    kind = get(settings, "type")
    uri = get(settings, "uri")
    return (isinstance(kind, str) and kind.upper() == "AWS" and isinstance(uri, str)
            and ":batch:" in uri and "submitjob" in uri.lower())


def _integration_jobs(integration: Resource, settings: Any, graph: UnitGraph) -> list[Resource]:
    named: list[Any] = [Link(address) for address in integration.refs]
    templates = get(settings, "request_templates")
    for text in templates.values() if isinstance(templates, dict) else ():
        named += _TEMPLATE_JOB.findall(text) if isinstance(text, str) else []
    role = graph.resolve(get(settings, "credentials"), *ROLE_TYPES)
    if isinstance(role, Resource):
        named += allowed_resources(role_statements(role, graph), "batch:SubmitJob")
    return _jobs(named, graph)


def _function_jobs(function: Resource, graph: UnitGraph) -> list[Resource]:
    resources = allowed_resources(function_statements(function, graph), "batch:SubmitJob")
    named = list(resources)
    variables = get(function.props, "environment", "variables")
    if any(is_wildcard(r) for r in resources) and isinstance(variables, dict):
        named += list(variables.values())
    return _jobs(named, graph)


def _jobs(values: list, graph: UnitGraph) -> list[Resource]:
    """The job definitions of the unit that `values` (Links, names, ARNs) point at, once each."""
    found = (graph.resolve(value, *JOB_DEFINITION_TYPES) for value in values)
    return list({job.address: job for job in found if isinstance(job, Resource)}.values())
