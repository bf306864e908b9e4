"""Hostile input generators shared by tests/test_properties.py and benchmarks/fuzz.py.

Each generator takes a `random.Random`, so one seed reproduces one input (Hypothesis
drives them through `st.randoms()`, the fuzz script through numbered seeds):

* `mutate_bytes`: byte flips, truncations, line shuffles and inserted brackets, quotes,
  tags and anchors applied to a fixture file (Terraform or CloudFormation).
* `random_template` / `render_template`: CloudFormation templates made of fixture
  resources with mutated subtrees and of random resources, with parameters, conditions,
  mappings, loops and intrinsic functions given odd arguments, written as JSON, as
  block YAML, or as flow YAML with short-form tags.
* `mutate_props`: Terraform-shaped resource properties (`UNKNOWN`, `Link`, JSON strings,
  nested blocks) with random subtrees replaced, for the model and the engine.
* `random_facts`: facts dicts of the types `schemas/facts.schema.json` declares.
"""
from __future__ import annotations

import copy
import json
import random
from functools import lru_cache
from pathlib import Path
from typing import Any

from mllint.discover import looks_like_cloudformation
from mllint.loaders.cfn_yaml import TemplateError, parse_template
from mllint.model import KINDS
from mllint.records import UNKNOWN, Link, Resource

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
CFN_SUFFIXES = (".yaml", ".yml", ".json", ".template")

# --- fixture files ----------------------------------------------------------------------------------


@lru_cache(maxsize=None)
def cfn_files() -> tuple[Path, ...]:
    """Every fixture file that reads as a CloudFormation template."""
    found = []
    for path in sorted(FIXTURES.rglob("*")):
        if path.suffix in CFN_SUFFIXES and path.is_file() and path.name != "expected.yaml":
            if looks_like_cloudformation(path.read_text(encoding="utf-8", errors="replace")):
                found.append(path)
    return tuple(found)


@lru_cache(maxsize=None)
def tf_modules() -> tuple[Path, ...]:
    """Every fixture directory that holds .tf files directly (local modules included)."""
    return tuple(sorted({path.parent for path in FIXTURES.rglob("*.tf")}))


@lru_cache(maxsize=None)
def seed_resources() -> tuple[tuple[str, Any], ...]:
    """(Type, body) of every resource in the fixture templates, modelled types first."""
    found = []
    for path in cfn_files():
        try:
            template = parse_template(path.read_text(encoding="utf-8"))
        except (TemplateError, UnicodeDecodeError):
            continue
        resources = template.get("Resources") if isinstance(template, dict) else None
        for body in (resources or {}).values() if isinstance(resources, dict) else ():
            if isinstance(body, dict) and isinstance(body.get("Type"), str):
                found.append((body["Type"], _plain(body)))
    return tuple(sorted(found, key=lambda item: (item[0] not in KINDS, item[0])))


def _plain(value: Any) -> Any:
    """`LineDict`s as plain dicts (for yaml.safe_dump and deep copies)."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


# --- byte-level mutations -----------------------------------------------------------------------------

INSERTS = (
    b"{", b"}", b"[", b"]", b"(", b")", b'"', b"'", b":", b",", b"\n", b"\t", b"  ", b"- ", b"#", b"\\",
    b"!Ref ", b"!GetAtt ", b"!If ", b"!Sub ", b"!ForEach ", b"!!binary ", b"!!python/object ", b"&a ", b"*a",
    b"<<: *a", b"? ", b"|\n", b">-\n", b"%YAML 1.1\n", b"---\n", b"...\n", b"${", b"}", b"${aws_x.y.z}",
    b"var.", b"local.", b"module.", b"each.value", b"count.index", b"= ", b"<<EOF\n", b"\nEOF\n", b"/*", b"*/",
    b"for_each = 5\n", b'source = "./"\n', b'source = "../"\n', b"dynamic \"d\" {\n", b"\x00", b"\xff",
    b"\xc3\x28", b"\xe2\x80\xa8", b"\xef\xbb\xbf", b"\r", b"1e999", b"-0",
    b"null", b"~", b"true", b"0x1F", b"0o17", b".inf", b"AWS::NoValue", b"Fn::If", b"Fn::ForEach::X",
)


def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    """1 to 4 random edits of `data`."""
    for _ in range(rng.randint(1, 4)):
        data = rng.choice(_BYTE_MUTATIONS)(data, rng)
    return data


def _flip(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return bytes([rng.randrange(256)])
    position = rng.randrange(len(data))
    return data[:position] + bytes([rng.randrange(256)]) + data[position + 1:]


def _truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randint(0, len(data))]


def _insert(data: bytes, rng: random.Random) -> bytes:
    position = rng.randint(0, len(data))
    return data[:position] + rng.choice(INSERTS) * rng.choice((1, 1, 1, 2, 7)) + data[position:]


def _delete(data: bytes, rng: random.Random) -> bytes:
    start = rng.randint(0, len(data))
    return data[:start] + data[start + rng.randint(1, 64):]


def _lines(data: bytes, rng: random.Random) -> bytes:
    """Shuffle, drop, duplicate or swap lines."""
    lines = data.split(b"\n")
    if len(lines) < 2:
        return data
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    action = rng.randrange(4)
    if action == 0:
        chunk = lines[min(i, j):max(i, j) + 1]
        rng.shuffle(chunk)
        lines[min(i, j):max(i, j) + 1] = chunk
    elif action == 1:
        del lines[i]
    elif action == 2:
        lines.insert(j, lines[i])
    else:
        lines[i], lines[j] = lines[j], lines[i]
    return b"\n".join(lines)


def _indent(data: bytes, rng: random.Random) -> bytes:
    lines = data.split(b"\n")
    i = rng.randrange(len(lines))
    lines[i] = (b" " * rng.randint(1, 5) + lines[i]) if rng.random() < 0.5 else lines[i].lstrip()
    return b"\n".join(lines)


_BYTE_MUTATIONS = (_flip, _truncate, _insert, _insert, _delete, _lines, _lines, _indent)

# Terraform expressions that parse but stress evaluation: unknowns, wrong types, odd functions.
HCL_EXPRESSIONS = (
    "null", "5", "-1", "1e400", '"x"', '""', "true", "[]", "{}", "[null]", "var.missing", "local.missing",
    "module.missing.out", "data.aws_vpc", "data.aws_vpc.x.id", "aws_x.y.z", "aws_iam_role.r[5].arn", "each.value",
    "each.key", "count.index", "self.id", "path.module", "terraform.workspace", "jsonencode([{ a = 1 }])",
    'jsondecode("[1")', '[for x in var.v : x]', "{ for k, v in var.m : k => v }", "length(null)", "element([], 0)",
    'lookup({}, "a")', "try(var.x, 1)", "5 / 0", '"${var.x}-${aws_x.y.z}"', "toset(5)", 'file("nope")',
    "tolist(5)", "var.v[*].id", "(((1)))", "!true", '"a" + 1', "{ a = var.missing }", "[[[[[]]]]]",
    'templatefile("nope.tpl", {})', "merge(null, {})", 'format("%d", "x")', "range(-1)", 'split(",", null)',
)


def mutate_hcl(data: bytes, rng: random.Random) -> bytes:
    """Replace the value of 1 to 3 `name = value` lines with an expression from HCL_EXPRESSIONS."""
    lines = data.split(b"\n")
    assignments = [i for i, line in enumerate(lines) if b" = " in line and not line.rstrip().endswith((b"{", b"[", b"(", b"<<EOF"))]
    for i in rng.sample(assignments, min(len(assignments), rng.randint(1, 3))):
        name = lines[i].split(b" = ", 1)[0]
        lines[i] = name + b" = " + rng.choice(HCL_EXPRESSIONS).encode()
    return b"\n".join(lines)

# --- random CloudFormation values -------------------------------------------------------------------

RESOURCE_IDS = ("R0", "R1", "R2", "Task", "Cluster")
PARAMETERS = ("P0", "P1", "Gpu")
CONDITIONS = ("C0", "C1")
STRINGS = (
    "", "x", "FARGATE", "EC2", "FARGATE_SPOT", "GPU", "1", "0", "-1", "4096", "ml.p3.2xlarge", "ml.m5.large",
    "p3.2xlarge", "g5.xlarge", "t3.micro", "SPOT", "MANAGED", "AWS::NoValue", "AWS::Region", "AWS::AccountId",
    "${AWS::Region}", "${R0}", "${R0.Arn}", "${P0}", "${Missing}", "${!Literal}", "${", "}", "$", "a,b,,c",
    "arn:aws:iam::123456789012:role/x", "R0.Arn", "R0.Arn.Deeper", ".", "..", "Fn::If", "Ref",
    '{"json": [1, 2]}', '[{"resourceRequirements": [{"type": "GPU", "value": "1"}]}]', "\u00e9\u4e2d\U0001f680",
    "training", "inference", "python train.py", "*", "None", "true", "false", "null",
)
FUNCTIONS = (
    "Ref", "Condition", "Fn::If", "Fn::Sub", "Fn::Join", "Fn::Select", "Fn::Split", "Fn::GetAtt", "Fn::FindInMap",
    "Fn::Base64", "Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or", "Fn::Length", "Fn::ToJsonString", "Fn::ImportValue",
    "Fn::GetAZs", "Fn::Cidr", "Fn::Transform", "Fn::Unknown",
)
RESOURCE_TYPES = tuple(sorted(t for t in KINDS if "::" in t)) + (
    "AWS::IAM::Role", "AWS::Events::Rule", "AWS::Scheduler::Schedule", "AWS::ApiGateway::Method",
    "AWS::ElasticLoadBalancingV2::TargetGroup", "AWS::Batch::JobQueue", "AWS::EC2::LaunchTemplate",
    "AWS::ECS::CapacityProvider", "AWS::ECS::ClusterCapacityProviderAssociations", "AWS::ECS::Cluster",
    "AWS::CloudFormation::Stack", "Custom::Thing", "AWS::Serverless::Api", "Not::A::Type", "",
)


def random_scalar(rng: random.Random) -> Any:
    roll = rng.random()
    if roll < 0.55:
        return rng.choice(STRINGS + RESOURCE_IDS + PARAMETERS + CONDITIONS)
    if roll < 0.75:
        return rng.choice((0, 1, -1, 2, 5, 10, 11, 4096, 2 ** 63, -(2 ** 64), 0.5, 1e308, -0.0))
    if roll < 0.9:
        return rng.choice((True, False))
    return None


def random_value(rng: random.Random, depth: int = 0) -> Any:
    """A scalar, list, mapping or intrinsic call with arguments of any shape."""
    roll = rng.random() if depth < 6 else 0.0
    if roll < 0.4:
        return random_scalar(rng)
    if roll < 0.55:
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    if roll < 0.7:
        keys = STRINGS[:12] + ("Type", "Value", "Name", "Image", "ResourceRequirements", "Fn::ForEach::L")
        return {rng.choice(keys): random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))}
    return random_call(rng, depth)


def random_call(rng: random.Random, depth: int) -> dict:
    """An intrinsic function call, its arguments well-formed about half the time."""
    name = rng.choice(FUNCTIONS)
    if rng.random() < 0.5:
        return {name: random_value(rng, depth + 1)}  # arguments of any shape
    value = lambda: random_value(rng, depth + 1)  # noqa: E731
    names = RESOURCE_IDS + PARAMETERS + ("AWS::NoValue", "AWS::Region", "Missing")
    well_formed = {
        "Ref": lambda: rng.choice(names),
        "Condition": lambda: rng.choice(CONDITIONS + ("Missing",)),
        "Fn::If": lambda: [rng.choice(CONDITIONS + ("Missing",)), value(), value()],
        "Fn::Sub": lambda: rng.choice([rng.choice(STRINGS), [rng.choice(STRINGS), {"P0": value(), "X": value()}]]),
        "Fn::Join": lambda: [rng.choice((",", "", ":")), [value() for _ in range(rng.randint(0, 3))]],
        "Fn::Select": lambda: [rng.choice((0, 1, -1, "0", "x", 99)), value()],
        "Fn::Split": lambda: [rng.choice((",", "", ":")), value()],
        "Fn::GetAtt": lambda: rng.choice([[rng.choice(RESOURCE_IDS), rng.choice(("Arn", "Name", "A.B"))],
                                          rng.choice(("R0.Arn", "R1", "Task.Family")), [value()], [value(), value(), value()]]),
        "Fn::FindInMap": lambda: ["M0", value(), value()] + ([{"DefaultValue": value()}] if rng.random() < 0.3 else []),
        "Fn::Equals": lambda: [value(), value()],
        "Fn::Not": lambda: [random_condition(rng, depth + 1)],
        "Fn::And": lambda: [random_condition(rng, depth + 1) for _ in range(rng.randint(0, 11))],
        "Fn::Or": lambda: [random_condition(rng, depth + 1) for _ in range(rng.randint(0, 11))],
        "Fn::Length": lambda: value(),
        "Fn::ToJsonString": lambda: value(),
    }
    return {name: well_formed.get(name, value)()}


def random_condition(rng: random.Random, depth: int = 0) -> Any:
    if depth > 4 or rng.random() < 0.4:
        return rng.choice([{"Condition": rng.choice(CONDITIONS + ("Missing",))},
                           {"Fn::Equals": [{"Ref": rng.choice(PARAMETERS)}, rng.choice(STRINGS)]}, True, "C0"])
    return random_call(rng, depth)


def random_loop(rng: random.Random, depth: int) -> tuple[str, Any]:
    """An `Fn::ForEach::Name` entry, well-formed or not."""
    key = "Fn::ForEach::" + rng.choice(("L", "M", ""))
    if rng.random() < 0.3:
        return key, random_value(rng, depth + 1)
    collection = rng.choice([["A", "B"], ["a-b", "a_b"], {"Ref": "P0"}, [], [1, {"Ref": "P1"}], random_value(rng, depth + 1)])
    output_key = rng.choice(("R${X}", "&{X}", "Fixed", "${X}${X}", "${Y}"))
    fragment = {output_key: random_resource(rng, depth + 1)} if depth == 0 else {output_key: random_value(rng, depth + 1)}
    return key, [rng.choice(("X", "Y", "")), collection, fragment][: rng.choice((3, 3, 3, 2, 4))]


def random_resource(rng: random.Random, depth: int = 0) -> Any:
    """A fixture resource with mutated subtrees, or a random one."""
    seeds = seed_resources()
    if seeds and rng.random() < 0.6:
        body = copy.deepcopy(rng.choice(seeds)[1])
        for _ in range(rng.randint(1, 3)):
            if isinstance(body, dict) and isinstance(body.get("Properties"), dict) and rng.random() < 0.85:
                body["Properties"] = mutate_tree(body["Properties"], rng)  # usually deep inside the properties
            else:
                body = mutate_tree(body, rng)
        return body
    body: dict[str, Any] = {"Type": rng.choice(RESOURCE_TYPES)}
    if rng.random() < 0.9:
        body["Properties"] = random_value(rng, depth + 1) if rng.random() < 0.2 else {
            rng.choice(PROPERTY_NAMES): random_value(rng, depth + 1) for _ in range(rng.randint(0, 6))
        }
    for key, make in (("Condition", lambda: rng.choice(CONDITIONS + ("Missing", 3))), ("DependsOn", lambda: random_value(rng, 5)),
                      ("Metadata", lambda: {"mllint": {"ignore": random_value(rng, 5)}})):
        if rng.random() < 0.15:
            body[key] = make()
    return body if rng.random() < 0.95 else random_value(rng, depth)


PROPERTY_NAMES = (
    "RequiresCompatibilities", "ContainerDefinitions", "Cpu", "Memory", "Family", "LaunchType", "Cluster", "TaskDefinition",
    "CapacityProviderStrategy", "ComputeResources", "ContainerProperties", "RetryStrategy", "PlatformCapabilities", "Timeout",
    "Type", "InstanceType", "InstanceTypes", "ProductionVariants", "ResourceConfig", "StoppingCondition", "Role", "Handler",
    "Runtime", "MemorySize", "Events", "Tags", "Environment", "Image", "ImageId", "UserData", "Definition", "DefinitionString",
    "Instances", "JobFlowRole", "LaunchTemplate", "MixedInstancesPolicy", "Command", "MaxCapacity", "GlueVersion", "WorkerType",
)


def mutate_tree(value: Any, rng: random.Random, depth: int = 0) -> Any:
    """`value` with one random subtree replaced, removed, wrapped in a call or turned into text."""
    children = list(value.items()) if isinstance(value, dict) else list(enumerate(value)) if isinstance(value, list) else []
    if children and depth < 8 and rng.random() < 0.8:
        key, child = rng.choice(children)
        value[key] = mutate_tree(child, rng, depth + 1)
        return value
    roll = rng.random()
    if roll < 0.35:
        return random_value(rng, depth)
    if roll < 0.5:
        return random_call(rng, depth)
    if roll < 0.6:
        return json.dumps(value, default=str)  # a structure where text is expected
    if roll < 0.7:
        return [value] if rng.random() < 0.5 else {rng.choice(PROPERTY_NAMES): value}
    if roll < 0.8 and children:
        return type(value)() if isinstance(value, (dict, list)) else value
    return random_scalar(rng)


def random_template(rng: random.Random) -> dict:
    """A whole template: parameters, conditions, mappings, resources (loops among them)."""
    template: dict[str, Any] = {}
    if rng.random() < 0.8:
        template["AWSTemplateFormatVersion"] = rng.choice(("2010-09-09", 2010, None))
    if rng.random() < 0.3:
        template["Transform"] = rng.choice(("AWS::Serverless-2016-10-31", "AWS::LanguageExtensions",
                                           ["AWS::LanguageExtensions", "AWS::Serverless-2016-10-31"], random_value(rng, 4)))
    if rng.random() < 0.6:
        template["Parameters"] = {
            name: rng.choice([
                {"Type": rng.choice(("String", "Number", "CommaDelimitedList", "List<String>",
                                     "AWS::SSM::Parameter::Value<String>", 5)), "Default": random_value(rng, 4)},
                {"Type": "String"}, random_value(rng, 4),
            ])
            for name in rng.sample(PARAMETERS, rng.randint(0, len(PARAMETERS)))
        }
    if rng.random() < 0.5:
        template["Conditions"] = {name: random_condition(rng) for name in rng.sample(CONDITIONS, rng.randint(0, 2))}
    if rng.random() < 0.3:
        template["Mappings"] = {"M0": {"k": {"v": random_value(rng, 4)}}, **({"M1": random_value(rng, 4)} if rng.random() < 0.3 else {})}
    if rng.random() < 0.2:
        template["Globals"] = {"Function": random_value(rng, 3) if rng.random() < 0.3 else {"Timeout": 3, "Environment": random_value(rng, 3)}}
    resources: dict[str, Any] = {}
    for logical_id in rng.sample(RESOURCE_IDS, rng.randint(1, len(RESOURCE_IDS))):
        resources[logical_id] = random_resource(rng)
    if rng.random() < 0.2:
        key, loop = random_loop(rng, 0)
        resources[key] = loop
    template["Resources"] = resources if rng.random() < 0.97 else random_value(rng, 3)
    return template


# --- rendering ------------------------------------------------------------------------------------------

SHORT_FORMS = {"Ref": "!Ref", "Condition": "!Condition", **{f"Fn::{n}": f"!{n}" for n in (
    "If", "Sub", "Join", "Select", "Split", "GetAtt", "FindInMap", "Base64", "Equals", "Not", "And", "Or", "Length",
    "ToJsonString", "ImportValue", "GetAZs", "Cidr", "Transform")}}


def render_template(template: dict, rng: random.Random) -> bytes:
    """As JSON, block YAML (one top-level key per line) with flow values, or flow YAML with short-form tags."""
    style = rng.randrange(3)
    if style == 0:
        return json.dumps(template, indent=rng.choice((None, 2)), default=str).encode()
    lines = []
    for key, value in template.items():
        if isinstance(value, dict) and value:
            lines.append(f"{_key(key)}:")
            lines.extend(f"  {_key(k)}: {_flow(v, rng, style == 2)}" for k, v in value.items())
        else:
            lines.append(f"{_key(key)}: {_flow(value, rng, style == 2)}")
    return ("\n".join(lines) + "\n").encode()


def _key(key: Any) -> str:
    return json.dumps(key if isinstance(key, str) else str(key), ensure_ascii=False)


def _flow(value: Any, rng: random.Random, tags: bool) -> str:
    if isinstance(value, dict):
        if tags and len(value) == 1 and next(iter(value)) in SHORT_FORMS and rng.random() < 0.7:
            name, args = next(iter(value.items()))
            if name == "Fn::GetAtt" and isinstance(args, list) and all(isinstance(a, str) for a in args) and rng.random() < 0.5:
                return f"{SHORT_FORMS[name]} {'.'.join(args)}"
            inner = _flow(args, rng, tags)
            if not inner.startswith("!"):  # `!Base64 !Sub x`: YAML allows one tag per node
                return f"{SHORT_FORMS[name]} {inner}"
        return "{" + ", ".join(f"{_key(k)}: {_flow(v, rng, tags)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(item, rng, tags) for item in value) + "]"
    if isinstance(value, float) and value != value:
        return ".nan"
    return json.dumps(value, default=str, ensure_ascii=False)


# --- Terraform-shaped properties and facts ----------------------------------------------------------


def random_tf_value(rng: random.Random, addresses: list[str], depth: int = 0) -> Any:
    """A value as the Terraform loader produces them: UNKNOWN, Links, JSON strings, blocks."""
    roll = rng.random() if depth < 5 else 0.0
    if roll < 0.15:
        return UNKNOWN
    if roll < 0.3 and addresses:
        return Link(rng.choice(addresses), rng.choice((None, "arn", "id", "name", "family", "revision", "[0]")))
    if roll < 0.5:
        return random_scalar(rng)
    if roll < 0.6:
        return json.dumps(_jsonable(random_value(rng, depth + 1)))
    if roll < 0.8:
        return [random_tf_value(rng, addresses, depth + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(TF_ATTRIBUTES): random_tf_value(rng, addresses, depth + 1) for _ in range(rng.randint(0, 4))}


TF_ATTRIBUTES = (
    "requires_compatibilities", "container_definitions", "cpu", "memory", "family", "launch_type", "cluster",
    "task_definition", "capacity_provider_strategy", "capacity_provider", "compute_resources", "type", "instance_type",
    "instance_types", "container_properties", "retry_strategy", "attempts", "evaluate_on_exit", "platform_capabilities",
    "production_variants", "resource_config", "role", "role_arn", "arn", "name", "tags", "environment", "variables",
    "image", "image_uri", "user_data", "definition", "launch_template", "mixed_instances_policy", "job_queue",
    "schedule_expression", "event_pattern", "target", "batch_target", "ecs_target", "value", "key",
)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value if value is None or isinstance(value, (str, int, float, bool)) else str(value)


def mutate_props(props: Any, rng: random.Random, addresses: list[str], depth: int = 0) -> Any:
    """Terraform props with one random subtree replaced by a random Terraform-shaped value."""
    children = list(props.items()) if isinstance(props, dict) else list(enumerate(props)) if isinstance(props, list) else []
    if children and depth < 8 and rng.random() < 0.75:
        key, child = rng.choice(children)
        props = copy.copy(props)
        props[key] = mutate_props(child, rng, addresses, depth + 1)
        return props
    if isinstance(props, str) and props[:1] in "[{" and rng.random() < 0.5:
        try:  # a JSON string (container definitions): mutate inside it
            return json.dumps(_jsonable(mutate_tree(json.loads(props), rng)))
        except ValueError:
            pass
    return random_tf_value(rng, addresses, depth)


def mutate_resources(resources: list[Resource], rng: random.Random) -> list[Resource]:
    """`resources` with 1 to 4 property mutations spread over them."""
    if not resources:
        return resources
    addresses = [r.address for r in resources] + ["aws_missing.x"]
    resources = list(resources)
    for _ in range(rng.randint(1, 4)):
        index = rng.randrange(len(resources))
        old = resources[index]
        props = mutate_props(dict(old.props), rng, addresses)
        resources[index] = Resource(old.framework, old.type, old.address, old.file, old.line, old.unit,
                                    props if isinstance(props, dict) else {"x": props}, old.refs, old.condition,
                                    old.suppressions, old.notes)
    return resources


@lru_cache(maxsize=None)
def facts_schema() -> dict:
    return json.loads((REPO / "schemas" / "facts.schema.json").read_text(encoding="utf-8"))


def random_facts(rng: random.Random) -> dict:
    """A facts dict of the declared types: `kind` and a random subset of the other facts."""
    properties = facts_schema()["properties"]
    facts = {"kind": rng.choice(properties["kind"]["enum"])}
    for name in rng.sample(sorted(properties), rng.randint(0, len(properties))):
        if name != "kind":
            facts[name] = _of_schema(properties[name], rng)
    return facts


def _of_schema(schema: dict, rng: random.Random) -> Any:
    if "enum" in schema:
        return rng.choice(schema["enum"])
    kind = schema.get("type")
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "number":
        low = schema.get("minimum", -5)
        return rng.choice((low, low + 1, 0.5 + max(low, 0), 10, 2 ** 40, 1.0, float(low + 4)))
    if kind == "array":
        return [_of_schema(schema.get("items", {"type": "string"}), rng) for _ in range(rng.randint(0, 3))]
    return rng.choice(STRINGS)  # strings, and anything not declared more precisely
