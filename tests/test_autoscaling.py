"""Linking Application Auto Scaling targets, policies and scheduled actions to what they scale."""
from __future__ import annotations

from mllint.facts.autoscaling import autoscaling
from mllint.graph import UnitGraph
from mllint.records import UNKNOWN, Link, Resource

ECS = "ecs:service:DesiredCount"
VARIANT = "sagemaker:variant:DesiredInstanceCount"


def resource(type_: str, address: str, refs: tuple[str, ...] = (), **props) -> Resource:
    return Resource("cloudformation", type_, address, "t.yaml", 1, "t.yaml", props, refs)


def target(address: str, resource_id, refs=(), namespace="ecs", dimension=ECS, **props) -> Resource:
    return resource(
        "AWS::ApplicationAutoScaling::ScalableTarget", address, refs,
        ServiceNamespace=namespace, ScalableDimension=dimension, ResourceId=resource_id, **props,
    )


def policy(address: str, target_address: str) -> Resource:
    return resource(
        "AWS::ApplicationAutoScaling::ScalingPolicy", address, (target_address,), ScalingTargetId=Link(target_address)
    )


API = resource("AWS::ECS::Service", "Api", ServiceName="api")
WORKER = resource("AWS::ECS::Service", "Worker", ServiceName="worker")


def scaled(resources, service=API, parts=("service", "ml", "api"), **options):
    return autoscaling(UnitGraph([API, WORKER, *resources]), service, ECS, list(parts), **options)


def test_a_policy_on_a_target_named_by_its_id_string_scales_the_service():
    assert scaled([target("T", "service/ml/api"), policy("P", "T")]) == (True, ["P scales it through T"])


def test_a_target_whose_id_reads_the_service_scales_it_and_not_another():
    resources = [target("T", UNKNOWN, refs=("Cluster", "Api")), policy("P", "T")]
    assert scaled(resources)[0] is True
    assert scaled(resources, service=WORKER, parts=("service", "ml", "worker"))[0] is False


def test_a_reference_that_does_not_say_which_variant_is_unknown():
    endpoint = resource("AWS::SageMaker::Endpoint", "Endpoint", EndpointName="ranker")
    resources = [endpoint, target("T", UNKNOWN, refs=("Endpoint",), namespace="sagemaker", dimension=VARIANT), policy("P", "T")]
    parts = ["endpoint", "ranker", "variant", "Primary"]
    assert autoscaling(UnitGraph(resources), endpoint, VARIANT, parts, by_reference=False) == (UNKNOWN, [])
    assert autoscaling(UnitGraph(resources), endpoint, VARIANT, parts)[0] is True


def test_a_target_without_a_policy_does_not_scale():
    verdict, evidence = scaled([target("T", "service/ml/api")])
    assert verdict is False
    assert evidence == ["T registers it as a scalable target, but no scaling policy or scheduled action uses it"]


def test_inline_scheduled_actions_scale_the_target():
    assert scaled([target("T", "service/ml/api", ScheduledActions=[{"Schedule": "cron(0 8 * * ? *)"}])])[0] is True


def test_an_id_that_can_not_be_evaluated_and_reads_no_service_might_be_it():
    assert scaled([target("T", UNKNOWN), policy("P", "T")]) == (UNKNOWN, [])


def test_other_ids_and_dimensions_are_not_the_service():
    resources = [target("T", "service/ml/worker"), policy("P", "T"), target("U", "service/ml/api", dimension="other"), policy("Q", "U")]
    assert scaled(resources) == (False, ["no scalable target in this template registers service/ml/api"])


def test_an_unknown_cluster_never_differs():
    assert scaled([target("T", "service/prod/api"), policy("P", "T")], parts=("service", UNKNOWN, "api")) == (UNKNOWN, [])
