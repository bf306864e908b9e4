"""Facts of AWS Batch job definitions, compute environments and the queues between them."""
from __future__ import annotations

import re
from typing import Any

from mllint.facts.access import as_number, as_str_list, blocks, get, spelled
from mllint.facts.containers import batch_containers, container_signals, gpu_count
from mllint.facts.signals import Signals
from mllint.graph import UnitGraph
from mllint.records import UNKNOWN, Resource

JOB_DEFINITION_TYPES = ("aws_batch_job_definition", "AWS::Batch::JobDefinition")
COMPUTE_ENVIRONMENT_TYPES = ("aws_batch_compute_environment", "AWS::Batch::ComputeEnvironment")
QUEUE_TYPES = ("aws_batch_job_queue", "AWS::Batch::JobQueue")
JOB_PLATFORMS = {"EC2": "ec2", "FARGATE": "fargate", "MANAGED_INSTANCES": "managed-instances"}
PURCHASE = {
    "EC2": "on-demand",
    "SPOT": "spot",
    "FARGATE": "fargate",
    "FARGATE_SPOT": "fargate-spot",
    "ECS_MANAGED_INSTANCES": "managed-instances",
}
DEFAULT_ATTEMPTS = 1  # "By default, each job is given one attempt" (AWS Batch user guide, job retries)
# NVIDIA GPU instance families (p2..p6, g3..g6e, gr6); g4ad is AMD and unusable for GPU requirements.
NVIDIA_GPU_TYPE = re.compile(r"^(ml\.)?(p[2-9][a-z]*(-[a-z0-9]+)?|g(?!4ad)[2-9][a-z]*|gr[0-9][a-z]*)(\.|$)", re.I)


def is_nvidia_gpu_type(instance_type: str) -> bool:
    return bool(NVIDIA_GPU_TYPE.match(instance_type))


def job_definition_facts(jd: Resource, graph: UnitGraph, signals: Signals) -> dict:
    containers = batch_containers(jd.props)
    container_signals(containers, signals)
    capabilities = as_str_list(get(jd.props, "platform_capabilities"))
    if capabilities is UNKNOWN:
        platform: Any = UNKNOWN
    else:
        platform = JOB_PLATFORMS.get((capabilities or ["EC2"])[0].upper(), "other")
    attempts, retry_evidence = effective_attempts(jd, graph)
    facts: dict[str, Any] = {
        "gpu_count": gpu_count(containers),
        "platforms": UNKNOWN if platform is UNKNOWN else [platform],
        "on_fargate": UNKNOWN if platform is UNKNOWN else platform == "fargate",
        "fargate_evidence": [f"{spelled(jd, 'platform_capabilities')} is {capabilities[0]}"] if platform == "fargate" else [],
        "retry_attempts": attempts,
        "retry_evidence": retry_evidence,
    }
    return facts


def own_attempts(jd: Resource) -> Any:
    """Attempts the job definition itself allows (1 when it sets no retry strategy)."""
    strategy = get(jd.props, "retry_strategy")
    if strategy is UNKNOWN:
        return UNKNOWN
    attempts = as_number(get(strategy, "attempts"))
    return DEFAULT_ATTEMPTS if attempts is None else attempts


def effective_attempts(jd: Resource, graph: UnitGraph) -> tuple[Any, list[str]]:
    """The fewest attempts any submitter ends up giving the job, with the reasons.

    A submitter that sets its own retry strategy (EventBridge `job_attempts`,
    `BatchParameters.RetryStrategy.Attempts`) overrides the job definition's.
    """
    base = own_attempts(jd)
    if not get(jd.props, "retry_strategy"):
        base_why = f"{jd.address} has no retry strategy (1 attempt)"
    elif get(jd.props, "retry_strategy", "attempts") is None:
        base_why = f"{jd.address} has a retry strategy without attempts (1 attempt)"
    else:
        base_why = f"{jd.address} sets attempts = {base}"
    submitters = submitter_overrides(jd, graph)
    if not submitters:
        return base, [] if base is UNKNOWN else [base_why]
    results: list[tuple[Any, str]] = []
    for source, override in submitters:
        if override is None:
            results.append((base, f"{source} submits it without overriding attempts; {base_why}"))
        else:
            results.append((override, f"{source} submits it with attempts = {override}"))
    if any(value is UNKNOWN for value, _ in results):
        return UNKNOWN, []
    fewest = min(value for value, _ in results)
    return fewest, [why for value, why in results if value == fewest]


def submitter_overrides(jd: Resource, graph: UnitGraph) -> list[tuple[str, Any]]:
    """(submitter address, attempts override or None) for every EventBridge target submitting `jd`."""
    found: list[tuple[str, Any]] = []
    for target in graph.of_type("aws_cloudwatch_event_target"):
        for batch in blocks(get(target.props, "batch_target")) or []:
            if isinstance(batch, dict) and graph.points_at(get(batch, "job_definition"), jd) is True:
                found.append((target.address, as_number(get(batch, "job_attempts"))))
    for rule in graph.of_type("AWS::Events::Rule"):
        for entry in blocks(get(rule.props, "targets")) or []:
            batch = get(entry, "batch_parameters")
            if isinstance(batch, dict) and graph.points_at(get(batch, "job_definition"), jd) is True:
                found.append((rule.address, as_number(get(batch, "retry_strategy", "attempts"))))
    return found


def compute_environment_facts(ce: Resource, graph: UnitGraph, signals: Signals) -> dict:
    resources = get(ce.props, "compute_resources")
    purchase, gpu = _capacity(resources)
    if isinstance(resources, (dict, list)):
        types = as_str_list(first_instance_types(resources))
        if isinstance(types, list):
            signals.instance_types.extend(types)
    has_spot_gpu, queue_evidence = queue_spot_gpu(ce, graph)
    return {
        "purchase": purchase,
        "gpu_instances": gpu,
        "queue_has_spot_gpu": has_spot_gpu,
        "queue_evidence": queue_evidence,
    }


def first_instance_types(resources: Any) -> Any:
    return get(resources, "instance_type") if get(resources, "instance_type") is not None else get(resources, "instance_types")


def _capacity(resources: Any) -> tuple[Any, Any]:
    """(purchase option, has NVIDIA GPU instance types) of a compute environment's resources."""
    if resources is UNKNOWN:
        return UNKNOWN, UNKNOWN
    if not resources:
        return None, None  # unmanaged compute environment: capacity is not declared here
    kind = get(resources, "type")
    purchase = PURCHASE.get(kind.upper(), "other") if isinstance(kind, str) else UNKNOWN
    types = as_str_list(first_instance_types(resources))
    gpu = UNKNOWN if types is UNKNOWN else any(is_nvidia_gpu_type(t) for t in types)
    return purchase, gpu


def queue_spot_gpu(ce: Resource, graph: UnitGraph) -> tuple[Any, list[str]]:
    """Whether a queue that uses `ce` also holds a Spot GPU compute environment."""
    queues = [q for q in graph.of_type(*QUEUE_TYPES) if any(graph.points_at(v, ce) is True for v in queue_environments(q))]
    if not queues:
        return UNKNOWN, []
    answer: Any = False
    evidence = []
    for queue in queues:
        for value in queue_environments(queue):
            other = graph.resolve(value, *COMPUTE_ENVIRONMENT_TYPES)
            if not isinstance(other, Resource):
                answer = UNKNOWN if answer is False else answer
                continue
            purchase, gpu = _capacity(get(other.props, "compute_resources"))
            if purchase == "spot" and gpu is True:
                return True, [f"{queue.address} also uses {other.address} (Spot, GPU)"]
        evidence.append(f"{queue.address} has no Spot GPU compute environment")
    return answer, evidence if answer is False else []


def queue_environments(queue: Resource) -> list:
    """The compute environment values (Links or names) of a job queue, in order."""
    values = []
    order = blocks(get(queue.props, "compute_environment_order"))
    if order is UNKNOWN:
        values.append(UNKNOWN)
    else:
        values.extend(get(entry, "compute_environment") for entry in order)
    legacy = get(queue.props, "compute_environments")
    if isinstance(legacy, list):
        values.extend(legacy)
    elif legacy is UNKNOWN:
        values.append(UNKNOWN)
    return values


KINDS = {
    "aws_batch_job_definition": ("batch-job", job_definition_facts),
    "AWS::Batch::JobDefinition": ("batch-job", job_definition_facts),
    "aws_batch_compute_environment": ("batch-compute-environment", compute_environment_facts),
    "AWS::Batch::ComputeEnvironment": ("batch-compute-environment", compute_environment_facts),
}
