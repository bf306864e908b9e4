"""Facts of SageMaker endpoint configurations, training jobs and pipelines, and Step Functions state machines.

An endpoint configuration is followed to the endpoints that serve it and to the
model of each production variant; its facts say which instance-backed variants
no scaling policy reaches (ML304) and whether it serves a light CPU model
(ML211). Training facts (ML305) come from `mllint.facts.training`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any


from mllint.facts.access import as_number, blocks, first_of, get
from mllint.facts.autoscaling import autoscaling
from mllint.facts.signals import Signals, Trigger
from mllint.facts.training import pipeline_facts, state_machine_facts, training_job_facts
from mllint.graph import UnitGraph, label_of, own_name
from mllint.paths import policies_dir
from mllint.records import UNKNOWN, Resource
from mllint.yamlio import safe_load

ENDPOINT_TYPES = ("aws_sagemaker_endpoint", "AWS::SageMaker::Endpoint")
MODEL_TYPES = ("aws_sagemaker_model", "AWS::SageMaker::Model")
VARIANT_DIMENSION = "sagemaker:variant:DesiredInstanceCount"
SERVED_BY = "sagemaker-endpoint"  # the trigger kind a real-time endpoint puts on its configuration


@dataclass(frozen=True)
class Clue:
    label: str
    where: str  # image | name
    pattern: re.Pattern


@dataclass(frozen=True)
class LightEvidence:
    small_cpu_instance: re.Pattern
    light: tuple[Clue, ...]
    heavy: tuple[Clue, ...]


@lru_cache(maxsize=None)
def light_evidence() -> LightEvidence:
    """The light-model evidence of `policies/evidence/sagemaker.yaml`."""
    with open(policies_dir() / "evidence" / "sagemaker.yaml", encoding="utf-8") as handle:
        raw = safe_load(handle)

    def clues(items: list) -> tuple[Clue, ...]:
        return tuple(Clue(i["label"], i["where"], re.compile(i["pattern"], re.IGNORECASE)) for i in items)

    return LightEvidence(re.compile(raw["small_cpu_instance"], re.IGNORECASE), clues(raw["light"]), clues(raw["heavy"]))


def endpoint_config_facts(config: Resource, graph: UnitGraph, signals: Signals) -> dict:
    variants = blocks(get(config.props, "production_variants"))
    if variants is UNKNOWN:
        return {}
    endpoints = [e for e in graph.of_type(*ENDPOINT_TYPES) if graph.target_of(e, "endpoint_config_name", config.type) is config]
    models = [graph.resolve(get(variant, "model_name"), *MODEL_TYPES) for variant in variants]
    _add_signals(signals, variants, models, endpoints)
    asynchronous = get(config.props, "async_inference_config")
    if asynchronous is not None or not endpoints:
        return {}  # asynchronous inference, or not known to be deployed here
    signals.triggers = [*signals.triggers, *(Trigger(SERVED_BY, e.address) for e in endpoints)]
    missing, evidence = _variants_without_autoscaling(variants, endpoints, graph)
    light, light_why = _light_model(config, variants, models, endpoints)
    return {
        "variants_without_autoscaling": missing,
        "variant_scaling_evidence": evidence,
        "light_model": light,
        "light_model_evidence": light_why,
    }


def _add_signals(signals: Signals, variants: list, models: list, endpoints: list[Resource]) -> None:
    """Instance types, model names, images and environment, and endpoint names, as role evidence."""
    for variant in variants:
        instance_type = get(variant, "instance_type")
        if isinstance(instance_type, str):
            signals.instance_types.append(instance_type)
    for resource in [m for m in models if isinstance(m, Resource)] + endpoints:
        signals.names.extend(n for n in (label_of(resource), own_name(resource)) if n)
    for model in models:
        for container in (model_containers(model) if isinstance(model, Resource) else None) or []:
            image = get(container, "image")
            if isinstance(image, str):
                signals.add_image(image)
            environment = get(container, "environment")
            if isinstance(environment, dict):
                signals.env.update({k: v for k, v in environment.items() if isinstance(k, str)})


def model_containers(model: Resource) -> list | Any:
    """The containers of a model: its primary container, or its inference pipeline (UNKNOWN if unreadable)."""
    primary = get(model.props, "primary_container")
    if primary is UNKNOWN:
        return UNKNOWN
    if primary:
        return blocks(primary)
    return blocks(first_of(model.props, "container", "containers"))


def _instance_backed(variant: Any) -> Any:
    """True for a variant that hosts a model on instances; False for serverless and
    inference-component variants (no model_name); UNKNOWN when that can't be told."""
    serverless = get(variant, "serverless_config")
    if serverless is UNKNOWN:
        return UNKNOWN
    return serverless is None and get(variant, "model_name") is not None


def _variants_without_autoscaling(variants: list, endpoints: list[Resource], graph: UnitGraph) -> tuple[list[str], list[str]]:
    """Instance-backed variants, per serving endpoint, that no scaling policy or scheduled action reaches."""
    missing: list[str] = []
    evidence: list[str] = []
    for endpoint in endpoints:
        name = first_of(endpoint.props, "endpoint_name", "name")
        for variant in variants:
            if _instance_backed(variant) is not True:
                continue
            variant_name = get(variant, "variant_name")
            resource_id = ["endpoint", name, "variant", variant_name]
            scaled, why = autoscaling(graph, endpoint, VARIANT_DIMENSION, resource_id, by_reference=False)
            if scaled is False:
                shown = variant_name if isinstance(variant_name, str) else (
                    "(variant whose name is unknown)" if variant_name is UNKNOWN else "(unnamed variant)"
                )
                missing.append(f"{shown} on {endpoint.address}")
                evidence.extend(f"{endpoint.address} variant {shown}: {reason}" for reason in why)
    return missing, evidence


def _light_model(config: Resource, variants: list, models: list, endpoints: list[Resource]) -> tuple[Any, list[str]]:
    """Whether the configuration's one variant runs a light CPU model on one small CPU instance:
    True with the evidence, False when something rules it out, UNKNOWN when a setting it
    depends on can't be known."""
    small = _small_deployment(config, variants)
    if small is not True:
        return small, []
    model = models[0]
    if not isinstance(model, Resource):
        return UNKNOWN, []
    names = [n for r in (config, model, *endpoints) for n in (label_of(r), own_name(r)) if n]
    light, evidence = _light_image_or_names(model, names)
    if light is not True:
        return light, []
    return True, [*evidence, f"{model.address} runs on 1 x {get(variants[0], 'instance_type')}, a small CPU instance"]


def _small_deployment(config: Resource, variants: list) -> Any:
    """One instance-backed variant on one small CPU instance, without shadow variants,
    data capture (it feeds SageMaker Model Monitor) or an accelerator."""
    shadows, capture = get(config.props, "shadow_production_variants"), get(config.props, "data_capture_config")
    if shadows is UNKNOWN or capture is UNKNOWN:
        return UNKNOWN
    if len(variants) != 1 or shadows or (capture and get(capture, "enable_capture") is not False):
        return False
    variant = variants[0]
    backed = _instance_backed(variant)
    if backed is not True:
        return backed
    if get(variant, "accelerator_type") is not None:
        return False
    instance_type = get(variant, "instance_type")
    count = as_number(get(variant, "initial_instance_count"))
    if not isinstance(instance_type, str) or not isinstance(count, (int, float)):
        return UNKNOWN
    return bool(light_evidence().small_cpu_instance.search(instance_type)) and count == 1


def _light_image_or_names(model: Resource, names: list[str]) -> tuple[Any, list[str]]:
    """A model with one container whose image or names say light and nothing says large."""
    containers = model_containers(model)
    if containers is UNKNOWN or any(not isinstance(c, dict) for c in containers):
        return UNKNOWN, []
    if len(containers) != 1 or str(get(containers[0], "mode")).lower() == "multimodel":
        return False, []
    image = get(containers[0], "image")
    if not isinstance(image, str):
        return UNKNOWN, []  # a model package or an unknown image may be anything
    data = light_evidence()
    if _clues(data.heavy, image, names):
        return False, []
    light = _clues(data.light, image, names)
    return bool(light), light


def _clues(clues: tuple[Clue, ...], image: str, names: list[str]) -> list[str]:
    """`label: value` for each clue that matches the image or one of the names."""
    found = []
    for clue in clues:
        candidates = [image] if clue.where == "image" else names
        match = next((value for value in candidates if clue.pattern.search(value)), None)
        if match is not None:
            found.append(f"{clue.label}: {match}")
    return found


KINDS = {
    "aws_sagemaker_endpoint_configuration": ("sagemaker-endpoint-config", endpoint_config_facts),
    "AWS::SageMaker::EndpointConfig": ("sagemaker-endpoint-config", endpoint_config_facts),
    "aws_sagemaker_training_job": ("sagemaker-training", training_job_facts),
    "AWS::SageMaker::TrainingJob": ("sagemaker-training", training_job_facts),
    "aws_sagemaker_pipeline": ("sagemaker-pipeline", pipeline_facts),
    "AWS::SageMaker::Pipeline": ("sagemaker-pipeline", pipeline_facts),
    "aws_sfn_state_machine": ("step-functions-state-machine", state_machine_facts),
    "AWS::StepFunctions::StateMachine": ("step-functions-state-machine", state_machine_facts),
    "AWS::Serverless::StateMachine": ("step-functions-state-machine", state_machine_facts),
}
