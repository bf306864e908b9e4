"""UnitGraph.target_of: a property's target, or the one referenced resource when the value is unknown."""
from mllint.graph import UnitGraph
from mllint.records import UNKNOWN, Link, Resource

CONFIG = "aws_sagemaker_endpoint_configuration"


def _resource(type_: str, address: str, props: dict, refs: tuple[str, ...] = ()) -> Resource:
    return Resource("terraform", type_, address, "main.tf", 1, ".", props, refs)


def _graph(value, refs: tuple[str, ...]) -> tuple[UnitGraph, dict[str, Resource]]:
    made = {
        "a": _resource(CONFIG, f"{CONFIG}.a", {"name": "config-a"}),
        "b": _resource(CONFIG, f"{CONFIG}.b", {"name": "config-b"}),
        "model": _resource("aws_sagemaker_model", "aws_sagemaker_model.m", {"name": "m"}),
    }
    made["endpoint"] = _resource("aws_sagemaker_endpoint", "aws_sagemaker_endpoint.e", {"endpoint_config_name": value}, refs)
    return UnitGraph(made.values()), made


def test_a_known_value_wins_over_references():
    graph, made = _graph(Link(f"{CONFIG}.b", "name"), (f"{CONFIG}.a", f"{CONFIG}.b"))
    assert graph.target_of(made["endpoint"], "endpoint_config_name", CONFIG) is made["b"]
    graph, made = _graph("config-a", (f"{CONFIG}.b",))
    assert graph.target_of(made["endpoint"], "endpoint_config_name", CONFIG) is made["a"]


def test_an_unknown_value_falls_back_to_the_one_referenced_resource_of_the_type():
    graph, made = _graph(UNKNOWN, (f"{CONFIG}.a", "aws_sagemaker_model.m"))
    assert graph.target_of(made["endpoint"], "endpoint_config_name", CONFIG) is made["a"]


def test_an_unknown_value_with_two_or_no_candidates_stays_unknown():
    graph, made = _graph(UNKNOWN, (f"{CONFIG}.a", f"{CONFIG}.b"))
    assert graph.target_of(made["endpoint"], "endpoint_config_name", CONFIG) is UNKNOWN
    graph, made = _graph(UNKNOWN, ("aws_sagemaker_model.m",))
    assert graph.target_of(made["endpoint"], "endpoint_config_name", CONFIG) is UNKNOWN


def test_a_name_of_nothing_here_is_not_replaced_by_a_reference():
    graph, made = _graph("config-managed-elsewhere", (f"{CONFIG}.a",))
    assert graph.target_of(made["endpoint"], "endpoint_config_name", CONFIG) is None
