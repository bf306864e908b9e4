"""Inbound edges that say how a resource is invoked: an API or load balancer in front, a schedule."""
from __future__ import annotations

from collections import defaultdict

from mllint.facts.access import blocks, first_of, get
from mllint.facts.signals import Trigger
from mllint.facts.submissions import api_job_submissions
from mllint.graph import UnitGraph
from mllint.records import Link, Resource

# Resources whose every reference is something they put traffic in front of.
FRONT_DOORS = {
    "aws_api_gateway_integration": "api-gateway",
    "aws_apigatewayv2_integration": "api-gateway",
    "aws_lambda_function_url": "function-url",
    "aws_lb_target_group_attachment": "load-balancer",
    "aws_alb_target_group_attachment": "load-balancer",
    "AWS::ApiGateway::Method": "api-gateway",
    "AWS::ApiGatewayV2::Integration": "api-gateway",
    "AWS::Lambda::Url": "function-url",
    "AWS::ElasticLoadBalancingV2::TargetGroup": "load-balancer",
}
PERMISSION_PRINCIPALS = {
    "apigateway.amazonaws.com": "api-gateway",
    "elasticloadbalancing.amazonaws.com": "load-balancer",
}
SAM_EVENTS = {"Api": "api-gateway", "HttpApi": "api-gateway", "Schedule": "schedule", "ScheduleV2": "schedule"}


def find_triggers(graph: UnitGraph) -> dict[str, list[Trigger]]:
    """Map each resource address to the triggers that reach it, sorted."""
    found: dict[str, set[Trigger]] = defaultdict(set)

    def add(target: object, kind: str, source: Resource) -> None:
        resolved = graph.resolve(target)
        if isinstance(resolved, Resource):
            found[resolved.address].add(Trigger(kind, source.address))

    for resource in graph.resources:
        kind = FRONT_DOORS.get(resource.type)
        if kind and _submits_a_job(resource):
            continue
        if kind:
            for address in resource.refs:
                if address in graph.by_address and graph.by_address[address].type not in FRONT_DOORS:
                    found[address].add(Trigger(kind, resource.address))
        elif resource.type in ("aws_lambda_permission", "AWS::Lambda::Permission"):
            principal = get(resource.props, "principal")
            if isinstance(principal, str) and principal in PERMISSION_PRINCIPALS:
                add(get(resource.props, "function_name"), PERMISSION_PRINCIPALS[principal], resource)
        elif resource.type in ("aws_ecs_service", "AWS::ECS::Service"):
            balancers = blocks(get(resource.props, "load_balancer") or get(resource.props, "load_balancers"))
            if isinstance(balancers, list) and balancers:
                add(get(resource.props, "task_definition"), "load-balancer", resource)
        elif resource.type == "AWS::Serverless::Function":
            _sam_events(resource, found)
        for target in scheduled_targets(resource, graph):
            add(target, "schedule", resource)
    for address, trigger in api_job_submissions(graph, found):
        found[address].add(trigger)  # kind api-job-submission: an API that submits a Batch job
    return {address: sorted(triggers) for address, triggers in found.items()}


def _submits_a_job(integration: Resource) -> bool:
    """An API Gateway AWS-service integration that calls an action (EMR AddJobFlowSteps,
    Batch SubmitJob, ...) starts work; it does not put request traffic on what it names.
    Lambda integrations (AWS_PROXY, or AWS with a `lambda:path` URI) do."""
    settings = get(integration.props, "integration") if integration.type == "AWS::ApiGateway::Method" else integration.props
    kind = first_of(settings, "type", "integration_type")
    uri = first_of(settings, "uri", "integration_uri")
    if not isinstance(kind, str) or kind.upper() != "AWS":
        return False
    return not (isinstance(uri, str) and ":lambda:path/" in uri)


def _sam_events(function: Resource, found: dict[str, set[Trigger]]) -> None:
    events = get(function.props, "events")
    if isinstance(events, dict):
        for name, event in events.items():
            event_type = get(event, "type")
            kind = SAM_EVENTS.get(event_type) if isinstance(event_type, str) else None
            if kind:
                found[function.address].add(Trigger(kind, f"{function.address}.Events.{name}"))
    if isinstance(get(function.props, "function_url_config"), dict):
        found[function.address].add(Trigger("function-url", f"{function.address}.FunctionUrlConfig"))


def scheduled_targets(resource: Resource, graph: UnitGraph) -> list:
    """Target values (Links or names) that a scheduled rule, target or schedule invokes."""
    if resource.type == "aws_cloudwatch_event_target":
        rule = graph.resolve(get(resource.props, "rule"), "aws_cloudwatch_event_rule")
        if not isinstance(rule, Resource) or not isinstance(get(rule.props, "schedule_expression"), str):
            return []
        return _target_values(resource.props)
    if resource.type == "AWS::Events::Rule" and isinstance(get(resource.props, "schedule_expression"), str):
        targets = blocks(get(resource.props, "targets"))
        return [v for t in targets if isinstance(t, dict) for v in _target_values(t)] if isinstance(targets, list) else []
    if resource.type in ("aws_scheduler_schedule", "AWS::Scheduler::Schedule"):
        if isinstance(get(resource.props, "schedule_expression"), str):
            return _target_values(get(resource.props, "target") or {})
    if resource.type in ("aws_glue_trigger", "AWS::Glue::Trigger") and get(resource.props, "type") == "SCHEDULED":
        return _glue_jobs(resource, graph)
    return []


def _glue_jobs(trigger: Resource, graph: UnitGraph) -> list:
    """Links to the Glue jobs a Glue trigger starts (actions name them by a name string or reference)."""
    actions = blocks(get(trigger.props, "actions")) or []
    jobs = [graph.resolve(get(action, "job_name"), "aws_glue_job", "AWS::Glue::Job") for action in actions]
    return [Link(job.address) for job in jobs if isinstance(job, Resource)]


def _target_values(target: object) -> list:
    return [
        get(target, "arn"),
        get(target, "ecs_target", "task_definition_arn"),
        get(target, "ecs_parameters", "task_definition_arn"),
        get(target, "batch_target", "job_definition"),
        get(target, "batch_parameters", "job_definition"),
    ]
