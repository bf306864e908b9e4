"""SageMaker training declared in IaC, and whether it uses managed Spot training (ML305).

A training job is a CreateTrainingJob request wherever it is written: a training-job
resource, a SageMaker Pipelines `Training` step's Arguments, a Step Functions
`sagemaker:createTrainingJob` task's Parameters (JSONPath) or Arguments (JSONata);
tuning jobs carry one or more such requests as training job definitions. Keys are
read ignoring case and underscores, so one reader serves Terraform and the JSON APIs.
"""
from __future__ import annotations

import json
import re
from typing import Any, Iterator

from mllint.facts.access import as_number, blocks, decode_json, first_of, get
from mllint.facts.signals import Signals
from mllint.graph import UnitGraph, own_name
from mllint.records import UNKNOWN, Resource

TRAINING_TASK = re.compile(r":states:::sagemaker:create(TrainingJob|HyperParameterTuningJob)(\.sync|\.waitForTaskToken)?$")
SPOT = "EnableManagedSpotTraining"
TUNING_DEFINITIONS = ("TrainingJobDefinition", "TrainingJobDefinitions")


def training_job_facts(job: Resource, graph: UnitGraph, signals: Signals) -> dict:
    _add_signals(job.props, signals)
    verdict = spot_verdict(job.props)
    name = own_name(job) or job.address
    return {"trainings_without_spot": UNKNOWN if verdict is UNKNOWN else _missing(f"training job {name}", verdict)}


def pipeline_facts(pipeline: Resource, graph: UnitGraph, signals: Signals) -> dict:
    definition = _pipeline_definition(pipeline)
    if not isinstance(definition, dict) or not isinstance(definition.get("Steps"), list):
        return {}
    defaults = _parameter_defaults(definition.get("Parameters"))
    found: list[str] = []
    for name, kind, arguments in _pipeline_steps(definition.get("Steps")):
        arguments = _with_parameters(arguments, defaults)
        for label, request in _requests(f"step {name}", kind, arguments):
            _add_signals(request, signals)
            found.extend(_missing(label, spot_verdict(request)))
    return {"trainings_without_spot": found}


def state_machine_facts(machine: Resource, graph: UnitGraph, signals: Signals) -> dict:
    definition = _state_machine_definition(machine)
    if not isinstance(definition, dict) or not isinstance(definition.get("States"), dict):
        return {}
    found: list[str] = []
    for name, state in _states(definition):
        resource = state.get("Resource")
        task = TRAINING_TASK.search(resource) if isinstance(resource, str) else None
        if task is None:
            continue
        request = state.get("Parameters", state.get("Arguments"))
        kind = "Training" if task.group(1) == "TrainingJob" else "Tuning"
        for label, training in _requests(f"state {name}", kind, request):
            _add_signals(training, signals)
            found.extend(_missing(label, spot_verdict(training)))
    return {"trainings_without_spot": found}


def spot_verdict(request: Any) -> Any:
    """True when a CreateTrainingJob request uses managed Spot, or Spot is not an option for it
    (a warm pool, a training plan's reserved capacity, a serverless job); False when
    EnableManagedSpotTraining is false or left out (AWS's default); UNKNOWN when it is set at run
    time (`EnableManagedSpotTraining.$`, JSONata) or can't be evaluated."""
    if not isinstance(request, dict) or _dynamic(request, SPOT) or _dynamic(request, "ResourceConfig"):
        return UNKNOWN
    resources = get(request, "resource_config")
    keep_alive = as_number(get(resources, "keep_alive_period_in_seconds"))
    if keep_alive is UNKNOWN:
        return UNKNOWN
    if keep_alive or get(resources, "training_plan_arn") is not None or get(request, "serverless_job_config") is not None:
        return True
    spot = get(request, SPOT)
    if isinstance(spot, str) and spot.lower() in ("true", "false"):
        spot = spot.lower() == "true"
    if spot is None:
        return False
    return spot if isinstance(spot, bool) else UNKNOWN


def _missing(label: str, verdict: Any) -> list[str]:
    return [label] if verdict is False else []


def _dynamic(request: dict, key: str) -> bool:
    """A Step Functions JSONPath key (`Key.$`) sets the value at run time."""
    return any(isinstance(k, str) and k.lower() == f"{key.lower()}.$" for k in request)


def _requests(label: str, kind: Any, arguments: Any) -> Iterator[tuple[str, Any]]:
    """(label, CreateTrainingJob request) for a Training step/task, or each definition of a Tuning one."""
    if kind == "Training":
        yield label, arguments
    elif kind == "Tuning":
        if not isinstance(arguments, dict) or any(_dynamic(arguments, key) for key in TUNING_DEFINITIONS):
            yield label, UNKNOWN
            return
        single = arguments.get("TrainingJobDefinition")
        if single is not None:
            yield label, single
        for index, definition in enumerate(blocks(arguments.get("TrainingJobDefinitions")) or []):
            name = get(definition, "definition_name")
            yield f"{label} definition {name if isinstance(name, str) else index}", definition


def _pipeline_definition(pipeline: Resource) -> Any:
    """The pipeline definition JSON (Terraform `pipeline_definition`, CloudFormation `PipelineDefinitionBody`)."""
    if pipeline.framework == "terraform":
        return decode_json(get(pipeline.props, "pipeline_definition"))
    return _json(get(pipeline.props, "pipeline_definition", "pipeline_definition_body"))


def _pipeline_steps(steps: Any) -> Iterator[tuple[str, Any, Any]]:
    """(name, type, arguments) of every step, including the branches of Condition steps."""
    for step in steps if isinstance(steps, list) else []:
        if not isinstance(step, dict):
            continue
        arguments = step.get("Arguments")
        yield str(step.get("Name")), step.get("Type"), arguments
        if step.get("Type") == "Condition" and isinstance(arguments, dict):
            yield from _pipeline_steps((arguments.get("IfSteps") or []) + (arguments.get("ElseSteps") or []))


def _parameter_defaults(parameters: Any) -> dict[str, Any]:
    """Pipeline parameter name -> default value (UNKNOWN without a default)."""
    defaults: dict[str, Any] = {}
    for parameter in parameters if isinstance(parameters, list) else []:
        if isinstance(parameter, dict) and isinstance(parameter.get("Name"), str):
            defaults[parameter["Name"]] = parameter.get("DefaultValue", UNKNOWN)
    return defaults


def _with_parameters(value: Any, defaults: dict[str, Any]) -> Any:
    """`{"Get": "Parameters.X"}` replaced by the parameter's default (UNKNOWN if it has none)."""
    if isinstance(value, dict):
        reference = value.get("Get") if len(value) == 1 else None
        if isinstance(reference, str) and reference.startswith("Parameters."):
            return defaults.get(reference.removeprefix("Parameters."), UNKNOWN)
        return {key: _with_parameters(item, defaults) for key, item in value.items()}
    if isinstance(value, list):
        return [_with_parameters(item, defaults) for item in value]
    return value


def _state_machine_definition(machine: Resource) -> Any:
    """The Amazon States Language definition: Terraform `definition`, CloudFormation / SAM
    `Definition` (an object) or `DefinitionString`; a definition in S3 is UNKNOWN."""
    if machine.framework == "terraform":
        return decode_json(get(machine.props, "definition"))
    inline = get(machine.props, "definition")
    if inline is not None:
        return inline
    text = get(machine.props, "definition_string")
    if text is None and first_of(machine.props, "definition_s3_location", "definition_uri") is None:
        return None
    return _json(text)


def _states(machine: Any) -> Iterator[tuple[str, dict]]:
    """Every state, walking into Parallel branches and Map item processors."""
    states = machine.get("States") if isinstance(machine, dict) else None
    for name, state in states.items() if isinstance(states, dict) else ():
        if not isinstance(state, dict):
            continue
        yield name, state
        for branch in state.get("Branches") if isinstance(state.get("Branches"), list) else []:
            yield from _states(branch)
        yield from _states(state.get("ItemProcessor") or state.get("Iterator"))


def _json(text: Any) -> Any:
    if not isinstance(text, str):
        return UNKNOWN
    try:
        return json.loads(text)
    except ValueError:
        return UNKNOWN


def _add_signals(request: Any, signals: Signals) -> None:
    """The training image, entry point and instance types as role evidence."""
    specification = get(request, "algorithm_specification")
    image = get(specification, "training_image")
    if isinstance(image, str):
        signals.add_image(image)
    entrypoint = get(specification, "container_entrypoint")
    if isinstance(entrypoint, list):
        signals.commands.append(" ".join(word for word in entrypoint if isinstance(word, str)))
    resources = get(request, "resource_config")
    for group in [resources, *(blocks(get(resources, "instance_groups")) or [])]:
        instance_type = get(group, "instance_type")
        if isinstance(instance_type, str):
            signals.instance_types.append(instance_type)
