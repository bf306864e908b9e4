"""Facts of AWS Batch job definitions, compute environments and the queues between them."""
from __future__ import annotations

import re
from typing import Any

from mllint.facts.access import as_number, as_str_list, blocks, get, spelled
from mllint.facts.containers import batch_containers, container_signals, gpu_count
from mllint.facts.fargate import batch_job_size
from mllint.facts.retries import SPOT_RECLAIM_STATUS, reclaim_outcome, spell, strategy_errors
from mllint.facts.signals import Signals
from mllint.facts.submissions import QUEUE_TYPES, Submission, batch_submissions
from mllint.graph import UnitGraph
from mllint.records import UNKNOWN, Resource

COMPUTE_ENVIRONMENT_TYPES = ("aws_batch_compute_environment", "AWS::Batch::ComputeEnvironment")
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
    submissions = [s for s in batch_submissions(graph) if graph.points_at(s.job_definition, jd) is True]
    attempts, retry_evidence = effective_attempts(jd, submissions)
    gpu_capacity, gpu_capacity_evidence = queue_gpu_capacity(submissions, graph)
    reclaim_exits, reclaim_evidence = spot_reclaim_exits(jd, submissions, graph)
    facts: dict[str, Any] = {
        "gpu_count": gpu_count(containers),
        "platforms": UNKNOWN if platform is UNKNOWN else [platform],
        "on_fargate": UNKNOWN if platform is UNKNOWN else platform == "fargate",
        "fargate_evidence": [f"{spelled(jd, 'platform_capabilities')} is {capabilities[0]}"] if platform == "fargate" else [],
        "retry_attempts": attempts,
        "retry_evidence": retry_evidence,
        "retry_strategy_errors": retry_strategy_errors(jd, submissions),
        "queue_gpu_capacity": gpu_capacity,
        "queue_gpu_evidence": gpu_capacity_evidence,
        "spot_reclaim_exits": reclaim_exits,
        "spot_reclaim_evidence": reclaim_evidence,
        "api_submitters": [t.source for t in signals.triggers if t.kind == "api-job-submission"],
    }
    facts.update(batch_job_size(jd))
    return facts


def own_attempts(jd: Resource) -> Any:
    """Attempts the job definition itself allows (1 when it sets no retry strategy)."""
    strategy = get(jd.props, "retry_strategy")
    if strategy is UNKNOWN:
        return UNKNOWN
    attempts = as_number(get(strategy, "attempts"))
    return DEFAULT_ATTEMPTS if attempts is None else attempts


def effective_attempts(jd: Resource, submissions: list[Submission]) -> tuple[Any, list[str]]:
    """The fewest attempts any submitter ends up giving the job, with the reasons.

    A submitter that sets its own attempts (EventBridge `job_attempts` /
    `BatchParameters.RetryStrategy.Attempts`, a SubmitJob `RetryStrategy` from
    EventBridge Scheduler or Step Functions) overrides the job definition's.
    """
    base = own_attempts(jd)
    if not get(jd.props, "retry_strategy"):
        base_why = f"{jd.address} has no retry strategy (1 attempt)"
    elif get(jd.props, "retry_strategy", "attempts") is None:
        base_why = f"{jd.address} has a retry strategy without attempts (1 attempt)"
    else:
        base_why = f"{jd.address} sets attempts = {base}"
    if not submissions:
        return base, [] if base is UNKNOWN else [base_why]
    results: list[tuple[Any, str]] = []
    for submission in submissions:
        override = submission_attempts(submission)
        if override is None:
            results.append((base, f"{submission.source} submits it without overriding attempts; {base_why}"))
        else:
            results.append((override, f"{submission.source} submits it with attempts = {override}"))
    if any(value is UNKNOWN for value, _ in results):
        return UNKNOWN, []
    fewest = min(value for value, _ in results)
    return fewest, [why for value, why in results if value == fewest]


def submission_attempts(submission: Submission) -> Any:
    """The attempts a submitter sets itself: None when it leaves them to the job definition."""
    if submission.retry is UNKNOWN:
        return UNKNOWN
    return as_number(get(submission.retry, "attempts")) if submission.retry else None


def retry_strategy_errors(jd: Resource, submissions: list[Submission]) -> list[str] | Any:
    """What the Batch API rejects in the job's retry strategy and in those its submitters pass."""
    own = strategy_errors(get(jd.props, "retry_strategy"), spelled(jd, "retry_strategy") + ".")
    errors = [] if own is UNKNOWN else list(own)
    unknown = own is UNKNOWN
    for submission in submissions:
        found = strategy_errors(submission.retry, submission.retry_path)
        if found is UNKNOWN:
            unknown = True
        else:
            errors.extend(f"{submission.source} submits it with {error}" for error in found)
    return UNKNOWN if unknown and not errors else errors


def queue_gpu_capacity(submissions: list[Submission], graph: UnitGraph) -> tuple[Any, list[str]]:
    """Whether every queue the job is submitted to can launch NVIDIA GPU instances.

    False (with the queues that cannot) as soon as one known queue has none; absent when
    nothing submits the job or a queue, its environments or their instance types are unknown.
    """
    answers = [_queue_gpu(submission, graph) for submission in submissions]
    missing = [why for gpu, why in answers if gpu is False]
    if missing:
        return False, missing
    return (True, []) if answers and all(gpu is True for gpu, _ in answers) else (UNKNOWN, [])


def _queue_gpu(submission: Submission, graph: UnitGraph) -> tuple[Any, str]:
    if submission.overrides_resources:
        return UNKNOWN, ""  # the submitter may change what the job asks for
    queue = graph.resolve(submission.queue, *QUEUE_TYPES)
    environments = queue_compute_environments(queue, graph) if isinstance(queue, Resource) else UNKNOWN
    if environments is UNKNOWN or not environments:
        return UNKNOWN, ""
    gpus = [environment_gpu(ce) for ce in environments]
    if True in gpus:
        return True, ""
    if UNKNOWN in gpus:
        return UNKNOWN, ""
    described = ", ".join(f"{ce.address} ({_capacity_summary(ce)})" for ce in environments)
    return False, f"{submission.source} submits it to {queue.address}, whose compute environments have no NVIDIA GPU instance type: {described}"


def environment_gpu(ce: Resource) -> Any:
    """Whether a compute environment can launch NVIDIA GPU instances.

    Fargate never can; EC2 and Spot environments can when an instance type is an NVIDIA
    GPU family (`optimal` and `default_*` hold none). UNKNOWN for unmanaged environments,
    ECS Managed Instances, and instance types that are unknown or left out.
    """
    resources = get(ce.props, "compute_resources")
    purchase, gpu = _capacity(resources)
    if purchase in ("fargate", "fargate-spot"):
        return False
    if purchase not in ("on-demand", "spot") or not as_str_list(first_instance_types(resources)):
        return UNKNOWN
    return gpu


def _capacity_summary(ce: Resource) -> str:
    resources = get(ce.props, "compute_resources")
    types = as_str_list(first_instance_types(resources))
    return ", ".join([str(get(resources, "type"))] + (types if isinstance(types, list) else []))


def queue_compute_environments(queue: Resource, graph: UnitGraph) -> list[Resource] | Any:
    """The compute environments of a job queue, or UNKNOWN when one is not in the unit."""
    environments = [graph.resolve(value, *COMPUTE_ENVIRONMENT_TYPES) for value in queue_environments(queue)]
    return environments if all(isinstance(ce, Resource) for ce in environments) else UNKNOWN


def spot_reclaim_exits(jd: Resource, submissions: list[Submission], graph: UnitGraph) -> tuple[Any, list[str]]:
    """Whether some submission of the job runs on EC2 Spot, retries, and still ends on a Spot reclaim."""
    outcomes = [_reclaim(jd, submission, graph) for submission in submissions]
    for verdict, evidence in outcomes:
        if verdict is True:
            return True, evidence
    return (False, []) if outcomes and all(verdict is False for verdict, _ in outcomes) else (UNKNOWN, [])


def _reclaim(jd: Resource, submission: Submission, graph: UnitGraph) -> tuple[Any, list[str]]:
    queue = graph.resolve(submission.queue, *QUEUE_TYPES)
    environments = queue_compute_environments(queue, graph) if isinstance(queue, Resource) else UNKNOWN
    if environments is UNKNOWN:
        return UNKNOWN, []
    purchases = [_capacity(get(ce.props, "compute_resources"))[0] for ce in environments]
    spot = [ce for ce, purchase in zip(environments, purchases) if purchase == "spot"]
    if not spot:
        return (False, []) if all(p in ("on-demand", "fargate") for p in purchases) else (UNKNOWN, [])
    rules, where, attempts = _strategy_in_effect(jd, submission)
    if attempts is UNKNOWN or rules is UNKNOWN:
        return UNKNOWN, []
    if attempts <= 1:
        return False, []  # no retry at all: ML302's finding, not this one
    outcome, rule = reclaim_outcome(rules, where)
    if outcome != "EXIT":
        return (False, []) if outcome == "RETRY" else (UNKNOWN, [])
    return True, [
        f"{submission.source} submits it to {queue.address}, which uses Spot compute environment {spot[0].address}",
        f"{rule} is the first rule to match a Spot reclaim (status reason {SPOT_RECLAIM_STATUS!r}, no reason, no exit code)",
    ]


def _strategy_in_effect(jd: Resource, submission: Submission) -> tuple[Any, str, Any]:
    """(evaluate_on_exit rules, where they are written, attempts) for one submission.

    A submitter's retry strategy overrides the job definition's. When it sets attempts
    only while the job definition has rules, whether those rules still apply is not
    documented: the rules are UNKNOWN.
    """
    own_where = spell(spelled(jd, "retry_strategy") + ".", "evaluate_on_exit")
    own_rules = get(jd.props, "retry_strategy", "evaluate_on_exit")
    if submission.retry is None:
        return (own_rules if own_rules is not None else []), own_where, own_attempts(jd)
    if submission.retry is UNKNOWN:
        return UNKNOWN, "", UNKNOWN
    rules = get(submission.retry, "evaluate_on_exit")
    attempts = submission_attempts(submission)
    attempts = own_attempts(jd) if attempts is None else attempts
    if rules is None:
        return (UNKNOWN if own_rules is UNKNOWN or own_rules else []), "", attempts
    return rules, spell(submission.retry_path, "evaluate_on_exit"), attempts


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
