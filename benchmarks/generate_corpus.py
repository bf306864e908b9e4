#!/usr/bin/env python3
"""Generate a deterministic synthetic corpus of ML infrastructure for benchmarks.

The corpus holds N Terraform root modules (`terraform/mod-NNNNN/{main,variables}.tf`)
and M CloudFormation templates (`cloudformation/stack-NNNNN.yaml`, every fourth one
`.json`) built from ECS, Batch, Lambda, EMR and EventBridge resources with S3 and
IAM filler. Item i depends only on (seed, i), so a 10x corpus starts with the 1x one.
Standard library only: YAML is written by the small emitter below.

    python benchmarks/generate_corpus.py                      # 200 + 200 into benchmarks/corpus/
    python benchmarks/generate_corpus.py /tmp/c --scale 10    # 2000 + 2000
"""
from __future__ import annotations

import argparse
import json
import random
import re
import shutil
from pathlib import Path

GENERATOR_VERSION = 1
DEFAULT_OUT = Path(__file__).resolve().parent / "corpus"
MANIFEST = "MANIFEST"  # no IaC suffix, so no scanner reads it

PROJECTS = ["fraud", "churn", "recsys", "vision", "nlp", "forecast", "search", "ads", "pricing", "speech"]
ENVS = ["dev", "staging", "prod"]
DLC = "763104351884.dkr.ecr.us-east-1.amazonaws.com"
# (role, label stem, image, command, uses a GPU when it can)
WORKLOADS = [
    ("training", "train", DLC + "/pytorch-training:2.3.0-gpu-py311-cu121-ubuntu20.04-ec2", ["python", "train.py", "--epochs", "20"], True),
    ("training", "finetune", DLC + "/huggingface-pytorch-training:2.1.0-transformers4.36.0-gpu-py310-cu121-ubuntu20.04", ["python", "finetune.py"], True),
    ("realtime-inference", "serve", DLC + "/pytorch-inference:2.3.0-cpu-py311-ubuntu20.04-ec2", ["torchserve", "--start", "--model-store", "/models"], False),
    ("realtime-inference", "inference", DLC + "/tensorflow-inference:2.14.1-gpu-py310-cu118-ubuntu20.04-ec2", ["tensorflow_model_server", "--port=8500"], True),
    ("batch-inference", "score", "123456789012.dkr.ecr.us-east-1.amazonaws.com/batch-scoring:1.4.0", ["python", "score.py", "--input", "s3://in/"], True),
    ("data-processing", "features", "public.ecr.aws/docker/library/python:3.11-slim", ["python", "build_features.py"], False),
    ("data-processing", "etl", "public.ecr.aws/docker/library/python:3.12-slim", ["python", "-m", "etl.run"], False),
]
GPU_TYPES = [["g5.xlarge", "g5.2xlarge"], ["p3.2xlarge"], ["g4dn.xlarge", "g4dn.2xlarge"], ["p4d.24xlarge"], ["g6.xlarge"]]
CPU_TYPES = [["c5.large", "c5.xlarge"], ["m5.large"], ["optimal"], ["r5.xlarge", "r5.2xlarge"]]


def label(text: str) -> str:
    return re.sub(r"[^a-z0-9_]", "_", text.lower())


# --------------------------------------------------------------------------- Terraform


_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def hcl(value, indent: int = 0) -> str:
    """A Python value as an HCL expression (for jsonencode bodies and lists)."""
    pad = " " * indent
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        if all(not isinstance(v, (dict, list)) for v in value):
            return "[" + ", ".join(hcl(v) for v in value) + "]"
        inner = ",\n".join(f"{pad}  {hcl(v, indent + 2)}" for v in value)
        return f"[\n{inner},\n{pad}]"
    if isinstance(value, dict):
        keys = {k: k if _IDENT.match(k) else json.dumps(k) for k in value}
        width = max(len(k) for k in keys.values()) if value else 0
        inner = "\n".join(f"{pad}  {keys[k].ljust(width)} = {hcl(v, indent + 2)}" for k, v in value.items())
        return f"{{\n{inner}\n{pad}}}"
    raise TypeError(type(value))


class Raw:
    """An HCL expression written as is (a reference, a function call)."""

    def __init__(self, text: str):
        self.text = text


def tf_block(header: str, body: list) -> str:
    """`header { body }` where body items are (key, value) attributes or (name, [items]) nested blocks."""
    return header + " {\n" + _tf_body(body, 2) + "}\n"


def _tf_body(body: list, indent: int) -> str:
    pad = " " * indent
    attrs = [item for item in body if not isinstance(item, Block)]
    width = max((len(k) for k, _ in attrs), default=0)
    out = []
    for item in body:
        if isinstance(item, Block):
            out.append(f"{pad}{item.name} {{\n{_tf_body(item.body, indent + 2)}{pad}}}\n")
        else:
            key, value = item
            out.append(f"{pad}{key.ljust(width)} = {hcl(value, indent)}\n")
    return "".join(out)


class Block:
    def __init__(self, name: str, body: list):
        self.name, self.body = name, body


def tf_variables(rng: random.Random, project: str) -> str:
    gpu = rng.choice([1, 1, 2, 4])
    variables = [
        ("project", "string", json.dumps(project), "Project name used in resource names."),
        ("environment", "string", json.dumps(rng.choice(ENVS)), "Deployment stage."),
        ("region", "string", '"us-east-1"', "AWS region."),
        ("image_tag", "string", json.dumps(f"v{rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}"), "Container image tag."),
        ("gpu_count", "number", str(gpu), "GPUs per training container."),
        ("task_cpu", "number", str(rng.choice([1024, 2048, 4096])), "Task CPU units."),
        ("task_memory", "number", str(rng.choice([4096, 8192, 16384])), "Task memory (MiB)."),
        ("max_vcpus", "number", str(rng.choice([16, 64, 256])), "Batch compute environment maximum vCPUs."),
        ("subnet_ids", "list(string)", hcl([f"subnet-{rng.getrandbits(32):08x}" for _ in range(2)]), "Private subnets."),
        ("security_group_ids", "list(string)", hcl([f"sg-{rng.getrandbits(32):08x}"]), "Security groups."),
        ("enable_schedule", "bool", rng.choice(["true", "false"]), "Create the scheduled rules."),
    ]
    out = []
    for name, typ, default, description in variables:
        out.append(f'variable "{name}" {{\n  description = {json.dumps(description)}\n  type        = {typ}\n  default     = {default}\n}}\n')
    # One variable without a default: its value is unknown to a static scanner.
    out.append('variable "kms_key_arn" {\n  description = "KMS key for artifacts (set per account)."\n  type        = string\n}\n')
    return "\n".join(out)


def tf_filler(rng: random.Random) -> list[str]:
    blocks = [
        tf_block('resource "aws_s3_bucket" "artifacts"', [("bucket", Raw('"${local.name}-artifacts"')), ("tags", Raw("local.tags"))]),
        tf_block('resource "aws_s3_bucket_versioning" "artifacts"', [
            ("bucket", Raw("aws_s3_bucket.artifacts.id")),
            Block("versioning_configuration", [("status", "Enabled")]),
        ]),
        tf_block('resource "aws_s3_bucket_server_side_encryption_configuration" "artifacts"', [
            ("bucket", Raw("aws_s3_bucket.artifacts.id")),
            Block("rule", [Block("apply_server_side_encryption_by_default", [("sse_algorithm", "aws:kms"), ("kms_master_key_id", Raw("var.kms_key_arn"))])]),
        ]),
    ]
    for service in ("ecs-tasks", "batch", "lambda", "events", "elasticmapreduce", "ec2"):
        name = label(service)
        blocks.append(tf_block(f'resource "aws_iam_role" "{name}"', [
            ("name", Raw(f'"${{local.name}}-{service}"')),
            ("assume_role_policy", Raw("jsonencode(" + hcl({
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"Service": f"{service}.amazonaws.com"}, "Action": "sts:AssumeRole"}],
            }, 2) + ")")),
            ("tags", Raw("local.tags")),
        ]))
        blocks.append(tf_block(f'resource "aws_iam_role_policy_attachment" "{name}_s3"', [
            ("role", Raw(f"aws_iam_role.{name}.name")),
            ("policy_arn", "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"),
        ]))
    blocks.append(tf_block('resource "aws_iam_instance_profile" "ec2"', [("name", Raw('"${local.name}-ec2"')), ("role", Raw("aws_iam_role.ec2.name"))]))
    for i in range(rng.randint(0, 4)):
        blocks.append(tf_block(f'resource "aws_s3_bucket" "data_{i}"', [("bucket", Raw(f'"${{local.name}}-data-{i}"')), ("tags", Raw("local.tags"))]))
    return blocks


def tf_ecs(rng: random.Random, p: str, workload) -> list[str]:
    role, stem, image, command, wants_gpu = workload
    fargate = rng.random() < 0.5
    gpu = wants_gpu and rng.random() < 0.8
    container = {
        "name": stem,
        "image": image if rng.random() < 0.7 else Raw(f'"123456789012.dkr.ecr.us-east-1.amazonaws.com/{stem}:${{var.image_tag}}"'),
        "essential": True,
        "command": command,
        "environment": [{"name": "MODEL_BUCKET", "value": Raw("aws_s3_bucket.artifacts.bucket")}, {"name": "STAGE", "value": Raw("var.environment")}],
        "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": f"/ecs/{p}", "awslogs-region": Raw("var.region"), "awslogs-stream-prefix": stem}},
    }
    if gpu:
        container["resourceRequirements"] = [{"type": "GPU", "value": Raw("tostring(var.gpu_count)")}]
    if role == "realtime-inference":
        container["portMappings"] = [{"containerPort": 8080, "protocol": "tcp"}]
    out = [
        tf_block(f'resource "aws_ecs_cluster" "{p}"', [
            ("name", Raw(f'"${{local.name}}-{p}"')),
            Block("setting", [("name", "containerInsights"), ("value", "enabled")]),
        ]),
        tf_block(f'resource "aws_ecs_task_definition" "{p}"', [
            ("family", Raw(f'"${{local.name}}-{p}"')),
            ("requires_compatibilities", ["FARGATE"] if fargate else ["EC2"]),
            ("network_mode", "awsvpc"),
            ("cpu", Raw("var.task_cpu")),
            ("memory", Raw("var.task_memory")),
            ("execution_role_arn", Raw("aws_iam_role.ecs_tasks.arn")),
            ("task_role_arn", Raw("aws_iam_role.ecs_tasks.arn")),
            ("container_definitions", Raw("jsonencode([" + hcl(container, 2) + "])")),
            ("tags", Raw(f'merge(local.tags, {{ Workload = "{role}" }})' if rng.random() < 0.5 else "local.tags")),
        ]),
    ]
    if role in ("realtime-inference", "data-processing") or rng.random() < 0.5:
        launch = [("launch_type", "FARGATE" if fargate else "EC2")] if rng.random() < 0.6 else [
            Block("capacity_provider_strategy", [("capacity_provider", "FARGATE_SPOT" if fargate else f"{p}-gpu"), ("weight", 1)])
        ]
        out.append(tf_block(f'resource "aws_ecs_service" "{p}"', [
            ("name", p),
            ("cluster", Raw(f"aws_ecs_cluster.{p}.id")),
            ("task_definition", Raw(f"aws_ecs_task_definition.{p}.arn")),
            ("desired_count", rng.choice([1, 2, 3])),
            *launch,
            Block("network_configuration", [("subnets", Raw("var.subnet_ids")), ("security_groups", Raw("var.security_group_ids"))]),
        ]))
    else:
        out.append(tf_schedule(rng, p, [
            ("arn", Raw(f"aws_ecs_cluster.{p}.arn")),
            ("role_arn", Raw("aws_iam_role.events.arn")),
            Block("ecs_target", [
                ("task_definition_arn", Raw(f"aws_ecs_task_definition.{p}.arn")),
                ("task_count", 1),
                ("launch_type", "FARGATE" if fargate else "EC2"),
                Block("network_configuration", [("subnets", Raw("var.subnet_ids"))]),
            ]),
        ]))
    return out


def tf_schedule(rng: random.Random, p: str, target_body: list) -> str:
    rule = tf_block(f'resource "aws_cloudwatch_event_rule" "{p}"', [
        ("name", Raw(f'"${{local.name}}-{p}"')),
        ("schedule_expression", rng.choice(["rate(1 day)", "cron(0 3 * * ? *)", "rate(6 hours)"])),
        ("state", Raw('var.enable_schedule ? "ENABLED" : "DISABLED"')),
    ])
    target = tf_block(f'resource "aws_cloudwatch_event_target" "{p}"', [("rule", Raw(f"aws_cloudwatch_event_rule.{p}.name")), *target_body])
    return rule + "\n" + target


def tf_batch(rng: random.Random, p: str, workload) -> list[str]:
    role, stem, image, command, wants_gpu = workload
    fargate = not wants_gpu and rng.random() < 0.5
    gpu = wants_gpu and rng.random() < 0.85
    spot = rng.random() < 0.5
    if fargate:
        resources = [("type", "FARGATE_SPOT" if spot else "FARGATE"), ("max_vcpus", Raw("var.max_vcpus")),
                     ("subnets", Raw("var.subnet_ids")), ("security_group_ids", Raw("var.security_group_ids"))]
    else:
        resources = [
            ("type", "SPOT" if spot else "EC2"),
            ("allocation_strategy", "SPOT_PRICE_CAPACITY_OPTIMIZED" if spot else "BEST_FIT_PROGRESSIVE"),
            ("min_vcpus", 0),
            ("max_vcpus", Raw("var.max_vcpus")),
            ("instance_type", rng.choice(GPU_TYPES if gpu else CPU_TYPES)),
            ("instance_role", Raw("aws_iam_instance_profile.ec2.arn")),
            ("subnets", Raw("var.subnet_ids")),
            ("security_group_ids", Raw("var.security_group_ids")),
        ]
    out = [tf_block(f'resource "aws_batch_compute_environment" "{p}"', [
        ("compute_environment_name", Raw(f'"${{local.name}}-{p}"')),
        ("type", "MANAGED"),
        ("service_role", Raw("aws_iam_role.batch.arn")),
        Block("compute_resources", resources),
    ])]
    order = [Block("compute_environment_order", [("order", 1), ("compute_environment", Raw(f"aws_batch_compute_environment.{p}.arn"))])]
    if gpu and not spot and rng.random() < 0.4:  # an On-Demand GPU fallback behind a Spot GPU environment
        out.append(tf_block(f'resource "aws_batch_compute_environment" "{p}_spot"', [
            ("compute_environment_name", Raw(f'"${{local.name}}-{p}-spot"')),
            ("type", "MANAGED"),
            ("service_role", Raw("aws_iam_role.batch.arn")),
            Block("compute_resources", [("type", "SPOT"), ("allocation_strategy", "SPOT_PRICE_CAPACITY_OPTIMIZED"), ("max_vcpus", Raw("var.max_vcpus")),
                                        ("instance_type", rng.choice(GPU_TYPES)), ("instance_role", Raw("aws_iam_instance_profile.ec2.arn")),
                                        ("subnets", Raw("var.subnet_ids")), ("security_group_ids", Raw("var.security_group_ids"))]),
        ]))
        order.insert(0, Block("compute_environment_order", [("order", 0), ("compute_environment", Raw(f"aws_batch_compute_environment.{p}_spot.arn"))]))
    out.append(tf_block(f'resource "aws_batch_job_queue" "{p}"', [
        ("name", Raw(f'"${{local.name}}-{p}"')), ("state", "ENABLED"), ("priority", rng.randint(1, 10)), *order,
    ]))
    requirements = [{"type": "VCPU", "value": "1" if fargate else str(rng.choice([4, 8]))},
                    {"type": "MEMORY", "value": "2048" if fargate else str(rng.choice([16384, 32768]))}]
    if gpu:
        requirements.append({"type": "GPU", "value": Raw("tostring(var.gpu_count)")})
    properties = {"image": image, "command": command, "resourceRequirements": requirements,
                  "environment": [{"name": "MODEL_BUCKET", "value": Raw("aws_s3_bucket.artifacts.bucket")}]}
    if fargate:
        properties["executionRoleArn"] = Raw("aws_iam_role.ecs_tasks.arn")
        properties["fargatePlatformConfiguration"] = {"platformVersion": "LATEST"}
        properties["networkConfiguration"] = {"assignPublicIp": "DISABLED"}
    body = [
        ("name", Raw(f'"${{local.name}}-{p}"')),
        ("type", "container"),
        ("platform_capabilities", ["FARGATE"] if fargate else ["EC2"]),
        ("container_properties", Raw("jsonencode(" + hcl(properties, 2) + ")")),
    ]
    if rng.random() < 0.5:
        body.append(Block("retry_strategy", [
            ("attempts", rng.choice([1, 2, 3, 5])),
            Block("evaluate_on_exit", [("on_status_reason", "Host EC2*"), ("action", "RETRY")]),
            Block("evaluate_on_exit", [("on_reason", "*"), ("action", "EXIT")]),
        ]))
    body.append(Block("timeout", [("attempt_duration_seconds", rng.choice([3600, 14400, 86400]))]))
    body.append(("tags", Raw("local.tags")))
    out.append(tf_block(f'resource "aws_batch_job_definition" "{p}"', body))
    if rng.random() < 0.5:
        target = [("job_definition", Raw(f"aws_batch_job_definition.{p}.arn")), ("job_name", p)]
        if rng.random() < 0.3:
            target.append(("job_attempts", rng.choice([1, 3])))
        out.append(tf_schedule(rng, p, [("arn", Raw(f"aws_batch_job_queue.{p}.arn")), ("role_arn", Raw("aws_iam_role.events.arn")), Block("batch_target", target)]))
    return out


def tf_lambda(rng: random.Random, p: str, workload) -> list[str]:
    role, stem, image, command, wants_gpu = workload
    body: list = []
    names = sorted(rng.sample(["a", "b", "c", "eu", "us"], 2)) if rng.random() < 0.2 else None
    if names:
        body.append(("for_each", Raw("toset(" + hcl(names) + ")")))
        body.append(("function_name", Raw(f'"${{local.name}}-{p}-${{each.key}}"')))
    else:
        body.append(("function_name", Raw(f'"${{local.name}}-{p}"')))
    body.append(("role", Raw("aws_iam_role.lambda.arn")))
    if rng.random() < 0.35:
        gpu_image = wants_gpu and rng.random() < 0.6
        body += [("package_type", "Image"), ("image_uri", image if gpu_image else f"123456789012.dkr.ecr.us-east-1.amazonaws.com/{stem}-lambda:latest")]
    else:
        body += [("runtime", rng.choice(["python3.12", "python3.13"])), ("handler", f"{stem}.handler"),
                 ("s3_bucket", Raw("aws_s3_bucket.artifacts.bucket")), ("s3_key", f"lambda/{stem}.zip")]
    body += [("memory_size", rng.choice([128, 512, 3008, 10240])), ("timeout", rng.choice([3, 30, 300, 900]))]
    env = {"MODEL_BUCKET": Raw("aws_s3_bucket.artifacts.bucket"), "STAGE": Raw("var.environment")}
    if role == "training":
        env["EPOCHS"] = str(rng.randint(1, 50))
    body.append(Block("environment", [("variables", env)]))
    if rng.random() < 0.3:
        body.append(Block("ephemeral_storage", [("size", rng.choice([512, 4096, 10240]))]))
    body.append(("tags", Raw("local.tags")))
    out = [tf_block(f'resource "aws_lambda_function" "{p}"', body)]
    if not names and rng.random() < 0.3:
        out.append(tf_schedule(rng, p, [("arn", Raw(f"aws_lambda_function.{p}.arn"))]))
    return out


def tf_emr(rng: random.Random, p: str, workload) -> list[str]:
    role, stem, image, command, wants_gpu = workload
    body = [
        ("name", Raw(f'"${{local.name}}-{p}"')),
        ("release_label", rng.choice(["emr-6.15.0", "emr-7.1.0", "emr-7.2.0"])),
        ("applications", rng.choice([["Spark"], ["Spark", "Livy"], ["Spark", "Hadoop", "JupyterEnterpriseGateway"]])),
        ("service_role", Raw("aws_iam_role.elasticmapreduce.arn")),
        ("keep_job_flow_alive_when_no_steps", rng.random() < 0.6),
        ("termination_protection", False),
        Block("ec2_attributes", [("subnet_id", Raw("var.subnet_ids[0]")), ("instance_profile", Raw("aws_iam_instance_profile.ec2.arn"))]),
        Block("master_instance_group", [("instance_type", rng.choice(["m5.xlarge", "m6g.xlarge"]))]),
        Block("core_instance_group", [("instance_type", rng.choice(["r5.2xlarge", "m5.2xlarge", "g5.2xlarge"])), ("instance_count", rng.randint(2, 10))]),
        Block("step", [
            ("action_on_failure", "CONTINUE"), ("name", stem),
            Block("hadoop_jar_step", [("jar", "command-runner.jar"), ("args", ["spark-submit", f"s3://scripts/{stem}.py"])]),
        ]),
    ]
    if rng.random() < 0.5:
        body.append(Block("auto_termination_policy", [("idle_timeout", 3600)]))
    if role == "realtime-inference" and rng.random() < 0.5:  # a cluster declared to serve predictions
        body = [item for item in body if not (isinstance(item, Block) and item.name == "step")]
        body.append(("tags", Raw('merge(local.tags, { "mllint:workload" = "realtime-inference" })')))
    else:
        body.append(("tags", Raw(f'merge(local.tags, {{ Workload = "{role}" }})')))
    return [tf_block(f'resource "aws_emr_cluster" "{p}"', body)]


STACKS = {"ecs": tf_ecs, "batch": tf_batch, "lambda": tf_lambda, "emr": tf_emr}
STACK_WEIGHTS = {"ecs": 4, "batch": 4, "lambda": 3, "emr": 1}


def pick_stacks(rng: random.Random, low: int, high: int) -> list[tuple[str, str, tuple]]:
    chosen = []
    for i in range(rng.randint(low, high)):
        kind = rng.choices(list(STACK_WEIGHTS), weights=list(STACK_WEIGHTS.values()))[0]
        workload = rng.choice(WORKLOADS)
        chosen.append((kind, f"{workload[1]}_{i}", workload))
    return chosen


def terraform_module(seed: int, index: int) -> dict[str, str]:
    rng = random.Random(f"{seed}/terraform/{index}")
    project = f"{rng.choice(PROJECTS)}{index}"
    header = (
        'terraform {\n  required_version = ">= 1.5"\n  required_providers {\n    aws = {\n'
        '      source  = "hashicorp/aws"\n      version = ">= 5.40"\n    }\n  }\n}\n\n'
        'provider "aws" {\n  region = var.region\n}\n\n'
        "locals {\n"
        '  name = "${var.project}-${var.environment}"\n'
        "  tags = {\n    Project     = var.project\n    Environment = var.environment\n    ManagedBy   = \"terraform\"\n  }\n}\n"
    )
    blocks = tf_filler(rng)
    for kind, p, workload in pick_stacks(rng, 1, 4):
        blocks.extend(STACKS[kind](rng, p, workload))
    return {"main.tf": header + "\n" + "\n".join(blocks), "variables.tf": tf_variables(rng, project)}


# --------------------------------------------------------------------------- CloudFormation


def ref(name: str) -> dict:
    return {"Ref": name}


def att(name: str, attribute: str = "Arn") -> dict:
    return {"Fn::GetAtt": [name, attribute]}


def sub(text: str) -> dict:
    return {"Fn::Sub": text}


def tags(extra: dict | None = None, *, key_value: bool = True):
    base = {"Project": ref("Project"), "Environment": ref("Environment"), **(extra or {})}
    return [{"Key": k, "Value": v} for k, v in base.items()] if key_value else base


def cfn_roles() -> dict:
    resources = {}
    for service in ("ecs-tasks", "batch", "lambda", "events", "elasticmapreduce", "ec2"):
        logical = "".join(part.capitalize() for part in re.split(r"[-_]", service)) + "Role"
        resources[logical] = {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"Service": f"{service}.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
            "ManagedPolicyArns": ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"],
            "Tags": tags(),
        }}
    resources["Ec2InstanceProfile"] = {"Type": "AWS::IAM::InstanceProfile", "Properties": {"Roles": [ref("Ec2Role")]}}
    resources["ArtifactsBucket"] = {"Type": "AWS::S3::Bucket", "Properties": {
        "BucketName": sub("${Project}-${Environment}-artifacts-${AWS::AccountId}"),
        "VersioningConfiguration": {"Status": "Enabled"},
        "BucketEncryption": {"ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]},
        "Tags": tags(),
    }}
    return resources


def cfn_name(stem: str) -> str:
    return "".join(part.capitalize() for part in stem.split("_"))


def cfn_schedule(rng: random.Random, p: str, target: dict) -> dict:
    return {f"{p}Schedule": {"Type": "AWS::Events::Rule", "Properties": {
        "ScheduleExpression": rng.choice(["rate(1 day)", "cron(0 3 * * ? *)", "rate(6 hours)"]),
        "State": {"Fn::If": ["ScheduleEnabled", "ENABLED", "DISABLED"]},
        "Targets": [{"Id": p, **target}],
    }}}


def cfn_ecs(rng: random.Random, p: str, workload) -> dict:
    role, stem, image, command, wants_gpu = workload
    fargate = rng.random() < 0.5
    gpu = wants_gpu and rng.random() < 0.8
    container = {
        "Name": stem,
        "Image": image if rng.random() < 0.7 else sub(f"${{AWS::AccountId}}.dkr.ecr.${{AWS::Region}}.amazonaws.com/{stem}:${{ImageTag}}"),
        "Essential": True,
        "Command": command,
        "Environment": [{"Name": "MODEL_BUCKET", "Value": ref("ArtifactsBucket")}, {"Name": "STAGE", "Value": ref("Environment")}],
    }
    if gpu:
        container["ResourceRequirements"] = [{"Type": "GPU", "Value": ref("GpuCount")}]
    if role == "realtime-inference":
        container["PortMappings"] = [{"ContainerPort": 8080, "Protocol": "tcp"}]
    tags_extra = {"Workload": role} if rng.random() < 0.5 else None
    out = {
        f"{p}Cluster": {"Type": "AWS::ECS::Cluster", "Properties": {"ClusterSettings": [{"Name": "containerInsights", "Value": "enabled"}], "Tags": tags()}},
        f"{p}TaskDefinition": {"Type": "AWS::ECS::TaskDefinition", "Properties": {
            "Family": sub(f"${{Project}}-{p}"),
            "RequiresCompatibilities": ["FARGATE"] if fargate else ["EC2"],
            "NetworkMode": "awsvpc",
            "Cpu": ref("TaskCpu"),
            "Memory": ref("TaskMemory"),
            "ExecutionRoleArn": att("EcsTasksRole"),
            "TaskRoleArn": att("EcsTasksRole"),
            "ContainerDefinitions": [container],
            "Tags": tags(tags_extra),
        }},
    }
    if role in ("realtime-inference", "data-processing") or rng.random() < 0.5:
        service = {
            "Cluster": ref(f"{p}Cluster"),
            "TaskDefinition": ref(f"{p}TaskDefinition"),
            "DesiredCount": rng.choice([1, 2, 3]),
            "NetworkConfiguration": {"AwsvpcConfiguration": {"Subnets": ref("SubnetIds"), "SecurityGroups": [ref("SecurityGroupId")]}},
        }
        if rng.random() < 0.6:
            service["LaunchType"] = "FARGATE" if fargate else "EC2"
        else:
            service["CapacityProviderStrategy"] = [{"CapacityProvider": "FARGATE_SPOT" if fargate else f"{p}-gpu", "Weight": 1}]
        out[f"{p}Service"] = {"Type": "AWS::ECS::Service", "Properties": service}
    else:
        out.update(cfn_schedule(rng, p, {
            "Arn": att(f"{p}Cluster"),
            "RoleArn": att("EventsRole"),
            "EcsParameters": {"TaskDefinitionArn": ref(f"{p}TaskDefinition"), "TaskCount": 1, "LaunchType": "FARGATE" if fargate else "EC2",
                              "NetworkConfiguration": {"AwsVpcConfiguration": {"Subnets": ref("SubnetIds")}}},
        }))
    return out


def cfn_batch(rng: random.Random, p: str, workload) -> dict:
    role, stem, image, command, wants_gpu = workload
    fargate = not wants_gpu and rng.random() < 0.5
    gpu = wants_gpu and rng.random() < 0.85
    spot = rng.random() < 0.5
    if fargate:
        resources = {"Type": "FARGATE_SPOT" if spot else "FARGATE", "MaxvCpus": ref("MaxVcpus"), "Subnets": ref("SubnetIds"), "SecurityGroupIds": [ref("SecurityGroupId")]}
    else:
        resources = {
            "Type": "SPOT" if spot else "EC2",
            "AllocationStrategy": "SPOT_PRICE_CAPACITY_OPTIMIZED" if spot else "BEST_FIT_PROGRESSIVE",
            "MinvCpus": 0, "MaxvCpus": ref("MaxVcpus"),
            "InstanceTypes": rng.choice(GPU_TYPES if gpu else CPU_TYPES),
            "InstanceRole": att("Ec2InstanceProfile"),
            "Subnets": ref("SubnetIds"), "SecurityGroupIds": [ref("SecurityGroupId")],
        }
    out = {f"{p}ComputeEnvironment": {"Type": "AWS::Batch::ComputeEnvironment", "Properties": {
        "Type": "MANAGED", "ServiceRole": att("BatchRole"), "ComputeResources": resources}}}
    order = [{"Order": 1, "ComputeEnvironment": ref(f"{p}ComputeEnvironment")}]
    if gpu and not spot and rng.random() < 0.4:
        out[f"{p}SpotComputeEnvironment"] = {"Type": "AWS::Batch::ComputeEnvironment", "Properties": {
            "Type": "MANAGED", "ServiceRole": att("BatchRole"), "ComputeResources": {
                "Type": "SPOT", "AllocationStrategy": "SPOT_PRICE_CAPACITY_OPTIMIZED", "MinvCpus": 0, "MaxvCpus": ref("MaxVcpus"),
                "InstanceTypes": rng.choice(GPU_TYPES), "InstanceRole": att("Ec2InstanceProfile"),
                "Subnets": ref("SubnetIds"), "SecurityGroupIds": [ref("SecurityGroupId")]}}}
        order.insert(0, {"Order": 0, "ComputeEnvironment": ref(f"{p}SpotComputeEnvironment")})
    out[f"{p}JobQueue"] = {"Type": "AWS::Batch::JobQueue", "Properties": {"State": "ENABLED", "Priority": rng.randint(1, 10), "ComputeEnvironmentOrder": order}}
    requirements = [{"Type": "VCPU", "Value": "1" if fargate else str(rng.choice([4, 8]))},
                    {"Type": "MEMORY", "Value": "2048" if fargate else str(rng.choice([16384, 32768]))}]
    if gpu:
        requirements.append({"Type": "GPU", "Value": ref("GpuCount")})
    container = {"Image": image, "Command": command, "ResourceRequirements": requirements,
                 "Environment": [{"Name": "MODEL_BUCKET", "Value": ref("ArtifactsBucket")}]}
    if fargate:
        container["ExecutionRoleArn"] = att("EcsTasksRole")
        container["FargatePlatformConfiguration"] = {"PlatformVersion": "LATEST"}
        container["NetworkConfiguration"] = {"AssignPublicIp": "DISABLED"}
    properties = {"Type": "container", "PlatformCapabilities": ["FARGATE"] if fargate else ["EC2"], "ContainerProperties": container,
                  "Timeout": {"AttemptDurationSeconds": rng.choice([3600, 14400, 86400])}, "Tags": tags(key_value=False)}
    if rng.random() < 0.5:
        properties["RetryStrategy"] = {"Attempts": rng.choice([1, 2, 3, 5]), "EvaluateOnExit": [
            {"OnStatusReason": "Host EC2*", "Action": "RETRY"}, {"OnReason": "*", "Action": "EXIT"}]}
    out[f"{p}JobDefinition"] = {"Type": "AWS::Batch::JobDefinition", "Properties": properties}
    if rng.random() < 0.5:
        batch = {"JobDefinition": ref(f"{p}JobDefinition"), "JobName": p}
        if rng.random() < 0.3:
            batch["RetryStrategy"] = {"Attempts": rng.choice([1, 3])}
        out.update(cfn_schedule(rng, p, {"Arn": ref(f"{p}JobQueue"), "RoleArn": att("EventsRole"), "BatchParameters": batch}))
    return out


def cfn_lambda(rng: random.Random, p: str, workload) -> dict:
    role, stem, image, command, wants_gpu = workload
    properties: dict = {"FunctionName": sub(f"${{Project}}-${{Environment}}-{p}"), "Role": att("LambdaRole")}
    if rng.random() < 0.35:
        gpu_image = wants_gpu and rng.random() < 0.6
        uri = image if gpu_image else f"123456789012.dkr.ecr.us-east-1.amazonaws.com/{stem}-lambda:latest"
        properties.update({"PackageType": "Image", "Code": {"ImageUri": uri}})
    else:
        properties.update({"Runtime": rng.choice(["python3.12", "python3.13"]), "Handler": f"{stem}.handler",
                           "Code": {"S3Bucket": ref("ArtifactsBucket"), "S3Key": f"lambda/{stem}.zip"}})
    properties["MemorySize"] = rng.choice([128, 512, 3008, 10240])
    properties["Timeout"] = rng.choice([3, 30, 300, 900])
    env = {"MODEL_BUCKET": ref("ArtifactsBucket"), "STAGE": ref("Environment")}
    if role == "training":
        env["EPOCHS"] = str(rng.randint(1, 50))
    properties["Environment"] = {"Variables": env}
    if rng.random() < 0.3:
        properties["EphemeralStorage"] = {"Size": rng.choice([512, 4096, 10240])}
    properties["Tags"] = tags()
    out = {f"{p}Function": {"Type": "AWS::Lambda::Function", "Properties": properties}}
    if rng.random() < 0.3:
        out.update(cfn_schedule(rng, p, {"Arn": att(f"{p}Function")}))
    return out


def cfn_emr(rng: random.Random, p: str, workload) -> dict:
    role, stem, image, command, wants_gpu = workload
    properties = {
        "Name": sub(f"${{Project}}-{p}"),
        "ReleaseLabel": rng.choice(["emr-6.15.0", "emr-7.1.0", "emr-7.2.0"]),
        "Applications": [{"Name": name} for name in rng.choice([["Spark"], ["Spark", "Livy"], ["Spark", "Hadoop", "JupyterEnterpriseGateway"]])],
        "ServiceRole": ref("ElasticmapreduceRole"),
        "JobFlowRole": ref("Ec2InstanceProfile"),
        "Instances": {
            "Ec2SubnetId": {"Fn::Select": [0, ref("SubnetIds")]},
            "KeepJobFlowAliveWhenNoSteps": rng.random() < 0.6,
            "MasterInstanceGroup": {"InstanceCount": 1, "InstanceType": rng.choice(["m5.xlarge", "m6g.xlarge"])},
            "CoreInstanceGroup": {"InstanceCount": rng.randint(2, 10), "InstanceType": rng.choice(["r5.2xlarge", "m5.2xlarge", "g5.2xlarge"])},
        },
        "Steps": [{"ActionOnFailure": "CONTINUE", "Name": stem, "HadoopJarStep": {"Jar": "command-runner.jar", "Args": ["spark-submit", f"s3://scripts/{stem}.py"]}}],
        "Tags": tags({"Workload": role}),
    }
    if rng.random() < 0.5:
        properties["AutoTerminationPolicy"] = {"IdleTimeout": 3600}
    if role == "realtime-inference" and rng.random() < 0.5:  # a cluster declared to serve predictions
        del properties["Steps"]
        properties["Tags"] = tags({"mllint:workload": "realtime-inference"})
    return {f"{p}Cluster": {"Type": "AWS::EMR::Cluster", "Properties": properties}}


CFN_STACKS = {"ecs": cfn_ecs, "batch": cfn_batch, "lambda": cfn_lambda, "emr": cfn_emr}


def cfn_template(seed: int, index: int) -> dict:
    rng = random.Random(f"{seed}/cloudformation/{index}")
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"Synthetic ML stack {index} (benchmark corpus)",
        "Parameters": {
            "Project": {"Type": "String", "Default": f"{rng.choice(PROJECTS)}{index}"},
            "Environment": {"Type": "String", "Default": rng.choice(ENVS), "AllowedValues": ENVS},
            "ImageTag": {"Type": "String", "Default": f"v{rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}"},
            "GpuCount": {"Type": "String", "Default": str(rng.choice([1, 1, 2, 4]))},
            "TaskCpu": {"Type": "String", "Default": str(rng.choice([1024, 2048, 4096]))},
            "TaskMemory": {"Type": "String", "Default": str(rng.choice([4096, 8192, 16384]))},
            "MaxVcpus": {"Type": "Number", "Default": rng.choice([16, 64, 256])},
            "SubnetIds": {"Type": "List<AWS::EC2::Subnet::Id>"},
            "SecurityGroupId": {"Type": "AWS::EC2::SecurityGroup::Id"},
            "EnableSchedule": {"Type": "String", "Default": rng.choice(["true", "false"]), "AllowedValues": ["true", "false"]},
        },
        "Conditions": {"ScheduleEnabled": {"Fn::Equals": [ref("EnableSchedule"), "true"]}},
        "Resources": cfn_roles(),
    }
    resources = template["Resources"]
    for i in range(rng.randint(0, 3)):
        resources[f"DataBucket{i}"] = {"Type": "AWS::S3::Bucket", "Properties": {"Tags": tags()}}
    for kind, p, workload in pick_stacks(rng, 1, 3):
        resources.update(CFN_STACKS[kind](rng, cfn_name(p), workload))
    template["Outputs"] = {"ArtifactsBucketName": {"Value": ref("ArtifactsBucket")}}
    if '"ScheduleEnabled"' not in json.dumps(resources):
        del template["Conditions"]
    used = json.dumps([resources, template.get("Conditions")])  # drop parameters nothing uses
    template["Parameters"] = {k: v for k, v in template["Parameters"].items() if f'"Ref": "{k}"' in used or f"${{{k}}}" in used}
    return template


# A minimal YAML emitter: block style, JSON-quoted strings where plain ones would be
# ambiguous, and the short-form intrinsic tags (!Ref, !GetAtt, !Sub, !If, ...).
_PLAIN = re.compile(r"^[A-Za-z_/][A-Za-z0-9_./:*()-]*$")
_RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}


def _intrinsic(value) -> tuple[str, object] | None:
    if isinstance(value, dict) and len(value) == 1:
        (key, arg), = value.items()
        if key == "Ref":
            return "Ref", arg
        if key.startswith("Fn::"):
            return key[4:], arg
    return None


def _inline(value) -> str | None:
    """The value on one line, or None when it needs a block."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        plain = _PLAIN.match(value) and value.lower() not in _RESERVED and ": " not in value
        return value if plain else json.dumps(value)
    if value == {} or value == []:
        return json.dumps(value)
    intrinsic = _intrinsic(value)
    if intrinsic:
        name, arg = intrinsic
        if name == "GetAtt" and isinstance(arg, list) and all(isinstance(a, str) for a in arg):
            return f"!GetAtt {'.'.join(arg)}"
        if isinstance(arg, str):
            return f"!{name} {_inline(arg)}"
    return None


def _block(value, indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    items = value.items() if isinstance(value, dict) else [(None, v) for v in value]
    for key, item in items:
        lead = f"{pad}{key}:" if key is not None else f"{pad}-"
        inline = _inline(item)
        if inline is not None:
            lines.append(f"{lead} {inline}")
        elif _intrinsic(item):
            name, arg = _intrinsic(item)
            lines.append(f"{lead} !{name}")
            lines.extend(_block(arg, indent + 2))
        elif key is None and isinstance(item, dict):
            inner = _block(item, indent + 2)
            lines.append(f"{pad}- {inner[0].lstrip()}")
            lines.extend(inner[1:])
        else:
            lines.append(lead)
            lines.extend(_block(item, indent + 2))
    return lines


def to_yaml(template: dict) -> str:
    return "\n".join(_block(template, 0)) + "\n"


# --------------------------------------------------------------------------- main


def generate(out: Path, modules: int, templates: int, seed: int = 1) -> dict:
    """Write the corpus into `out` and return its manifest. A corpus already there is
    replaced; nothing else in `out` is touched."""
    (out / MANIFEST).unlink(missing_ok=True)  # written last: a half-made corpus has none
    for old in (out / "terraform", out / "cloudformation"):
        if old.exists():
            shutil.rmtree(old)
    files = size = 0
    for i in range(modules):
        directory = out / "terraform" / f"mod-{i:05d}"
        directory.mkdir(parents=True)
        for name, text in terraform_module(seed, i).items():
            size += (directory / name).write_text(text, encoding="utf-8")
            files += 1
    (out / "cloudformation").mkdir(parents=True, exist_ok=True)
    for i in range(templates):
        template = cfn_template(seed, i)
        if i % 4 == 3:
            path, text = out / "cloudformation" / f"stack-{i:05d}.json", json.dumps(template, indent=2) + "\n"
        else:
            path, text = out / "cloudformation" / f"stack-{i:05d}.yaml", to_yaml(template)
        size += path.write_text(text, encoding="utf-8")
        files += 1
    manifest = {"generator": GENERATOR_VERSION, "seed": seed, "modules": modules, "templates": templates, "files": files, "bytes": size}
    (out / MANIFEST).write_text(json.dumps(manifest, sort_keys=True) + "\n", encoding="utf-8")
    return manifest


def read_manifest(out: Path) -> dict | None:
    try:
        return json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="An earlier corpus in the directory (its terraform/ and cloudformation/) is replaced.")
    parser.add_argument("out", nargs="?", type=Path, default=DEFAULT_OUT, help=f"output directory (default: {DEFAULT_OUT})")
    parser.add_argument("--modules", type=int, default=200, metavar="N", help="Terraform root modules at scale 1 (default: 200)")
    parser.add_argument("--templates", type=int, default=200, metavar="M", help="CloudFormation templates at scale 1 (default: 200)")
    parser.add_argument("--scale", type=int, default=1, metavar="K", help="multiply both counts by K (default: 1)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default: 1)")
    args = parser.parse_args(argv)
    manifest = generate(args.out, args.modules * args.scale, args.templates * args.scale, args.seed)
    print(f"{args.out}: {manifest['modules']} Terraform modules, {manifest['templates']} CloudFormation templates, "
          f"{manifest['files']} files, {manifest['bytes'] / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
