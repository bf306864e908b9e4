"""Properties that hold for any input: the loaders, the intrinsic resolver, the model and
the engine never raise, and every problem is a one-line LoadError.

Inputs are mutated fixtures and random structures from tests/fuzz_inputs.py (the same
generators benchmarks/fuzz.py runs at scale). Runs are derandomized, so CI is
deterministic; tfparse runs in worker processes, so a crash in it costs one unit.
"""
from __future__ import annotations

import random
import shutil
import textwrap
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fuzz_inputs as F
from mllint.engine import evaluate
from mllint.loaders.cfn_foreach import LoopError
from mllint.loaders.cfn_intrinsics import Resolver
from mllint.loaders.cloudformation import load_template
from mllint.model import Subject, model_unit
from mllint.policy import load_policies
from mllint.records import Link, LoadError, LoadResult, Resource
from mllint.scan import ScanOptions, scan
from mllint.suppress import with_diagnostics
from mllint.workers import WorkerPool

POLICIES = with_diagnostics(load_policies(installed=False))
LOAD_MODULE = "mllint.loaders.terraform:load_module"
# Crashes inside tfparse (native code) are contained by the worker pool and reported; they are
# not mllint bugs. An exception in mllint's own Python is.
CONTAINED = ("evaluator crashed", "evaluation timed out")
FACTS = jsonschema.Draft202012Validator(F.facts_schema())


def fuzz(examples: int):
    return settings(
        max_examples=examples, deadline=None, derandomize=True, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
    )


randoms = st.randoms(use_true_random=False)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def assert_well_formed(result: LoadResult) -> None:
    """Every error is one line naming a file; nothing leaked from our own code."""
    assert isinstance(result, LoadResult)
    for error in result.errors:
        assert isinstance(error, LoadError) and isinstance(error.file, str) and error.file
        assert isinstance(error.line, int) and error.line >= 0
        assert error.message and "\n" not in error.message and "Traceback" not in error.message
        assert not error.message.startswith("internal error"), error
    assert all(isinstance(r, Resource) for r in result.resources)


def model_and_evaluate(resources: list[Resource]) -> None:
    subjects = model_unit(resources)
    for finding in evaluate(subjects, POLICIES):
        assert finding.address in {r.address for r in resources}


# --- CloudFormation -------------------------------------------------------------------------------


@fuzz(400)
@given(rng=randoms, source=st.sampled_from(F.cfn_files()))
def test_mutated_fixture_templates(workdir, rng, source):
    path = workdir / f"mutated{source.suffix}"
    path.write_bytes(F.mutate_bytes(source.read_bytes(), rng))
    result = load_template(path, workdir)
    assert_well_formed(result)
    model_and_evaluate(result.resources)


@fuzz(300)
@given(rng=randoms)
def test_random_templates(workdir, rng):
    path = workdir / "random.yaml"
    path.write_bytes(F.render_template(F.random_template(rng), rng))
    result = load_template(path, workdir)
    assert_well_formed(result)
    model_and_evaluate(result.resources)


@fuzz(300)
@given(rng=randoms)
def test_resolver_on_random_values(rng):
    """Any value in any template resolves to a value, or the resolver says the loop is malformed."""
    template = F.random_template(rng)
    resolver = Resolver(template)
    for _ in range(3):
        try:
            resolver.resolve_properties(F.random_value(rng), rng.choice([None, "C0", "Missing"]))
        except LoopError as exc:
            assert str(exc) and "\n" not in str(exc)


@fuzz(40)
@given(rng=randoms)
def test_whole_scan_of_random_templates(workdir, rng):
    """Discovery, loading, suppressions, rules and reports together, in-process."""
    path = workdir / "scanned" / "template.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(F.mutate_bytes(F.render_template(F.random_template(rng), rng), rng) if rng.random() < 0.3
                     else F.render_template(F.random_template(rng), rng))
    report = scan(ScanOptions(paths=[path.parent], root=path.parent, jobs=1, installed_packs=False))
    for error in report.errors:
        assert "\n" not in error.message and not error.message.startswith("internal error")


# --- Terraform ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pool():
    with WorkerPool(jobs=2, timeout=30) as workers:
        yield workers


@pytest.fixture(scope="module")
def tf_resources(pool) -> list[list[Resource]]:
    """The resources of the first Terraform case of every policy's fixtures."""
    modules = []
    for policy_dir in sorted(F.FIXTURES.glob("ML*/terraform")):
        cases = sorted(p for p in policy_dir.iterdir() if p.is_dir())
        if cases:
            modules.append(cases[0])
    results = list(pool.map([(LOAD_MODULE, (m, m), m.name) for m in modules]))
    return [r.resources for r in results if r.resources]


@fuzz(400)
@given(rng=randoms)
def test_model_and_engine_on_mutated_terraform_properties(tf_resources, rng):
    resources = F.mutate_resources(rng.choice(tf_resources), rng)
    model_and_evaluate(resources)


def small_modules() -> list[Path]:
    """Fixture modules that tfparse evaluates quickly (a few kilobytes of .tf)."""
    return [m for m in F.tf_modules() if sum(p.stat().st_size for p in m.rglob("*.tf")) < 4000][:60]


@fuzz(50)
@given(rng=randoms, source=st.sampled_from(small_modules()))
def test_mutated_terraform_modules(workdir, pool, rng, source):
    module = workdir / "tf" / f"{source.parent.name}-{source.name}"
    shutil.rmtree(module, ignore_errors=True)
    shutil.copytree(source, module)
    victim = rng.choice(sorted(module.rglob("*.tf")))
    mutate = F.mutate_hcl if rng.random() < 0.6 else F.mutate_bytes  # mostly still valid syntax, to reach evaluation
    victim.write_bytes(mutate(victim.read_bytes(), rng))
    (result,) = pool.map([(LOAD_MODULE, (module, workdir), module.name)])
    if any(error.message.startswith(CONTAINED) for error in result.errors):
        return  # a native crash or hang in tfparse, reported as one error
    assert_well_formed(result)
    model_and_evaluate(result.resources)


# --- the engine ------------------------------------------------------------------------------------


@fuzz(500)
@given(rng=randoms)
def test_every_policy_on_random_facts(rng):
    facts = F.random_facts(rng)
    assert FACTS.is_valid(facts)  # the generator keeps to the declared types
    resource = Resource("terraform", "aws_x", "aws_x.y", "main.tf", 1, ".", {}, notes=("note",))
    for finding in evaluate([Subject(resource, facts)], POLICIES):
        assert finding.message and "\n" not in finding.title


def test_generators_are_reproducible():
    """One seed, one input: what benchmarks/fuzz.py saves for a crash can be rebuilt."""
    def build(seed: int) -> bytes:
        rng = random.Random(seed)
        return F.render_template(F.random_template(rng), rng) + F.mutate_bytes(F.cfn_files()[seed].read_bytes(), rng)

    assert [build(seed) for seed in range(5)] == [build(seed) for seed in range(5)]


# --- what benchmarks/fuzz.py found (each crashed the scan before its fix) -----------------------------

FOUND_BY_FUZZING = {
    "Ref to a mapping inside Fn::Join": ("""
        Resources:
          Fn:
            Type: AWS::Lambda::Function
            Properties:
              FunctionName: !Join ["-", [{Ref: {}}, x]]
        """, [], {"Fn": "lambda-function"}, None),
    "Fn::Sub naming a resource whose Type is a list": ("""
        Resources:
          Odd:
            Type: [AWS::ECS::Cluster]
          Fn:
            Type: AWS::Lambda::Function
            Properties:
              FunctionName: !Sub "${Odd}-x"
        """, [(2, "resource Odd: Type is missing or not a string")], {"Fn": "lambda-function"}, None),
    "SAM event whose Type is a list": ("""
        Transform: AWS::Serverless-2016-10-31
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              Events:
                Api:
                  Type: [Api]
        """, [], {"Fn": "lambda-function"}, None),
    "Lambda permission whose Principal is a mapping": ("""
        Resources:
          Fn:
            Type: AWS::Lambda::Function
          Perm:
            Type: AWS::Lambda::Permission
            Properties:
              FunctionName: !Ref Fn
              Principal: {Service: apigateway.amazonaws.com}
        """, [], {"Fn": "lambda-function"}, None),
    "EMR Applications that is not a list": ("""
        Resources:
          Cluster:
            Type: AWS::EMR::Cluster
            Properties:
              Applications: true
        """, [], {"Cluster": "emr-cluster"}, "service_applications"),
    "Batch node ranges that are not mappings": ("""
        Resources:
          Job:
            Type: AWS::Batch::JobDefinition
            Properties:
              Type: multinode
              NodeProperties:
                NodeRangeProperties: [x]
        """, [], {"Job": "batch-job"}, "gpu_count"),
    "a condition that names itself through Fn::If": ("""
        Conditions:
          Loop: !Equals [!If [Loop, a, b], a]
        Resources:
          Task:
            Type: AWS::ECS::TaskDefinition
            Properties:
              RequiresCompatibilities: [!If [Loop, FARGATE, EC2]]
        """, [], {"Task": "ecs-task"}, "platforms"),
}


@pytest.mark.parametrize(("text", "errors", "kinds", "unknown"), FOUND_BY_FUZZING.values(), ids=list(FOUND_BY_FUZZING))
def test_inputs_the_fuzzer_found(tmp_path, text, errors, kinds, unknown):
    """Each loads with the errors it deserves; a value that can't be read leaves its fact absent."""
    (tmp_path / "template.yaml").write_text(textwrap.dedent(text).lstrip("\n"))
    result = load_template(tmp_path / "template.yaml", tmp_path)
    assert [(e.line, e.message) for e in result.errors] == errors
    subjects = model_unit(result.resources)
    assert {s.resource.address: s.facts["kind"] for s in subjects} == kinds
    if unknown:
        assert all(unknown not in s.facts for s in subjects)
    assert evaluate(subjects, POLICIES) == []



def test_data_pipeline_field_whose_key_is_a_list():
    """Found by fuzzing: a Terraform pipeline object field with `key = []` crashed the model."""
    pipeline = Resource("terraform", "aws_datapipeline_pipeline", "aws_datapipeline_pipeline.p", "main.tf", 1, ".", {"name": "p"})
    definition = Resource(
        "terraform", "aws_datapipeline_pipeline_definition", "aws_datapipeline_pipeline_definition.d", "main.tf", 5, ".",
        {"pipeline_id": Link("aws_datapipeline_pipeline.p", "id"),
         "pipeline_object": [{"id": "Run", "name": "Run", "field": [
             {"key": [], "string_value": "x"}, {"key": "type", "string_value": "EmrActivity"}]}]},
        refs=("aws_datapipeline_pipeline.p",),
    )
    (subject,) = model_unit([pipeline, definition])
    assert subject.facts["pipeline_activities"] == ["EmrActivity (Run)"]
