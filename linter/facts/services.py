"""Facts of other AWS services that ML data and serving land on: Elastic Beanstalk, Kinesis Data Firehose, Glue, Data Pipeline."""
from __future__ import annotations

import re
from typing import Any

from mllint.facts.access import as_number, blocks, decode_json, first_of, get
from mllint.facts.iam import ROLE_TYPES, allowed_resources, function_statements, role_statements
from mllint.facts.signals import Signals, Trigger
from mllint.facts.triggers import find_triggers
from mllint.graph import UnitGraph
from mllint.records import UNKNOWN, Link, Resource

FIREHOSE_TYPES = ("aws_kinesis_firehose_delivery_stream", "AWS::KinesisFirehose::DeliveryStream")
GLUE_JOB_TYPES = ("aws_glue_job", "AWS::Glue::Job")
PRODUCER_TYPES = ("aws_lambda_function", "AWS::Lambda::Function", "AWS::Serverless::Function", *GLUE_JOB_TYPES)
PUT_ACTIONS = ("firehose:PutRecord", "firehose:PutRecordBatch")
# SAM policy templates that grant both put actions (samtranslator policy_templates.json).
SAM_FIREHOSE_TEMPLATES = {"FirehoseWritePolicy", "FirehoseCrudPolicy"}
# Words that say a stream or job carries a bulk load of history, not a live feed.
BULK_HISTORY = re.compile(
    r"(^|[-_./:=\s])(historical|backfill|back-fill|bulk[-_]?(load|export|import|ingest|upload)|(daily|nightly|weekly|monthly)[-_]?(export|dump|extract|snapshot|batch|load))([-_./:\s]|$)",
    re.IGNORECASE,
)
RATE = re.compile(r"^rate\(\s*(?P<value>\d+)\s+(?P<unit>minutes?|hours?|days?)\s*\)$")
# Firehose buffering maxima (API BufferingHints: IntervalInSeconds 0-900, SizeInMBs 1-128).
MAX_BUFFER_INTERVAL_S = 900
MAX_BUFFER_SIZE_MB = 128

BEANSTALK_TEMPLATE_TYPES = ("aws_elastic_beanstalk_configuration_template", "AWS::ElasticBeanstalk::ConfigurationTemplate")
BEANSTALK_APPLICATION_TYPES = ("aws_elastic_beanstalk_application", "AWS::ElasticBeanstalk::Application")
BEANSTALK_VERSION_TYPES = ("aws_elastic_beanstalk_application_version",)
BUNDLE_OBJECT_TYPES = ("aws_s3_object", "aws_s3_bucket_object")
INSTANCE_TYPE_OPTIONS = {("aws:autoscaling:launchconfiguration", "instancetype"), ("aws:ec2:instances", "instancetypes")}
ENVIRONMENT_NAMESPACE = "aws:elasticbeanstalk:application:environment"

DATAPIPELINE_DEFINITION_TYPES = ("aws_datapipeline_pipeline_definition",)


# ---- Elastic Beanstalk ----------------------------------------------------------


def beanstalk_facts(env: Resource, graph: UnitGraph, signals: Signals) -> dict:
    """Signals for the role and GPU classifiers, and what the environment runs as evidence."""
    template = graph.resolve(get(env.props, "template_name"), *BEANSTALK_TEMPLATE_TYPES)
    template = template if isinstance(template, Resource) else None
    evidence = [f"settings from {template.address}"] if template else []
    for (namespace, name), value in option_settings(env, template).items():
        if (namespace, name.lower()) in INSTANCE_TYPE_OPTIONS and isinstance(value, str):
            signals.instance_types.extend(t.strip() for t in value.split(",") if t.strip())
            evidence.append(f"instance types {value}")
        elif namespace == ENVIRONMENT_NAMESPACE:
            signals.env[name] = value
    if signals.env:
        evidence.append("environment variables " + ", ".join(sorted(signals.env)))
    application = _application_name(first_of(env.props, "application", "application_name"), graph)
    if application:
        signals.names.append(application)
    image = _bundle_image(env, graph)
    if image:
        signals.add_image(image)
        evidence.append(f"runs image {image}")
    return {"beanstalk_evidence": evidence}


def option_settings(env: Resource, template: Resource | None) -> dict[tuple[str, str], Any]:
    """(namespace, option name) -> value: the configuration template's settings, overridden by the environment's."""
    settings: dict[tuple[str, str], Any] = {}
    for source in ([template] if template else []) + [env]:
        for setting in blocks(first_of(source.props, "setting", "option_settings")) or []:
            namespace, name = get(setting, "namespace"), first_of(setting, "name", "option_name")
            if isinstance(namespace, str) and isinstance(name, str):
                settings[(namespace.lower(), name)] = get(setting, "value")
    return settings


def _application_name(value: Any, graph: UnitGraph) -> str | None:
    """The application's name, written as a string or read from the application it refers to."""
    application = graph.resolve(value, *BEANSTALK_APPLICATION_TYPES)
    if isinstance(application, Resource):
        value = first_of(application.props, "application_name", "name")
    return value if isinstance(value, str) else None


def _bundle_image(env: Resource, graph: UnitGraph) -> str | None:
    """The image a Docker environment runs, from a Dockerrun.aws.json source bundle declared in the module.

    Environment `version_label` -> application version -> the S3 object at its key,
    whose `content` is the Dockerrun file (v1 `Image.Name`, v2 `containerDefinitions[].image`).
    """
    version = graph.resolve(get(env.props, "version_label"), *BEANSTALK_VERSION_TYPES)
    if not isinstance(version, Resource):
        return None
    key = get(version.props, "key")
    for bundle in graph.of_type(*BUNDLE_OBJECT_TYPES):
        if key == get(bundle.props, "key") or (isinstance(key, Link) and key.address == bundle.address):
            dockerrun = decode_json(get(bundle.props, "content"))
            image = get(dockerrun, "image", "name")
            if not isinstance(image, str):
                image = get(dockerrun, "container_definitions", "image")
            return image if isinstance(image, str) else None
    return None


# ---- Kinesis Data Firehose and Glue: streaming services fed batch data ----------


def firehose_facts(stream: Resource, graph: UnitGraph, signals: Signals) -> dict:
    """A Firehose stream is streaming; batch evidence: schedules, scheduled producers, bulk-history names."""
    evidence = [f"{why} puts records into it" for why in batch_schedules(signals.triggers, graph)]
    evidence += scheduled_producers(stream, graph)
    evidence += _bulk_history_words(signals, [])
    if evidence and _buffering_maxed(stream):
        evidence.append("buffering is set to the maximum (900 s, 128 MiB), holding records back as long as Firehose allows")
    return {"streaming": True, "batch_feed_evidence": evidence}


def glue_job_facts(job: Resource, graph: UnitGraph, signals: Signals) -> dict:
    """Whether the job is a streaming job, and batch evidence: schedules, bulk-history names and arguments."""
    command = get(job.props, "command", "name")
    arguments = get(job.props, "default_arguments")
    values = [v for v in arguments.values() if isinstance(v, str)] if isinstance(arguments, dict) else []
    evidence = [f"{why} starts it" for why in batch_schedules(signals.triggers, graph)]
    evidence += _bulk_history_words(signals, values)
    return {
        # An unset command name is glueetl (Terraform provider docs), a batch job.
        "streaming": UNKNOWN if command is UNKNOWN else command == "gluestreaming",
        "batch_feed_evidence": evidence,
    }


def scheduled_producers(stream: Resource, graph: UnitGraph) -> list[str]:
    """Lambda functions and Glue jobs run in batches that refer to the stream and may put records into it."""
    triggers = find_triggers(graph)
    found = []
    for producer in graph.of_type(*PRODUCER_TYPES):
        schedules = batch_schedules(triggers.get(producer.address, []), graph)
        if schedules and _names_stream(producer, stream, graph) and _may_put_records(producer, graph):
            found.append(f"{producer.address}, run by {'; '.join(schedules)}, refers to it and may put records into it")
    return found


def batch_schedules(triggers: list[Trigger], graph: UnitGraph) -> list[str]:
    """`source (expression)` of the schedule triggers that run at most once an hour (a batch cadence)."""
    found = []
    for trigger in triggers:
        expression = _schedule_expression(trigger.source, graph) if trigger.kind == "schedule" else None
        if _batch_cadence(expression):
            found.append(f"{trigger.source} ({expression})")
    return found


def _schedule_expression(source: str, graph: UnitGraph) -> Any:
    """The expression of a rule, EventBridge target, schedule, Glue trigger or SAM `Events` entry."""
    function, _, event = source.partition(".Events.")
    resource = graph.by_address.get(function)
    if resource is None:
        return None
    if event:
        return first_of(get(resource.props, "events", event, "properties"), "schedule", "schedule_expression")
    if resource.type == "aws_cloudwatch_event_target":
        resource = graph.resolve(get(resource.props, "rule"), "aws_cloudwatch_event_rule")
        if not isinstance(resource, Resource):
            return None
    return first_of(resource.props, "schedule_expression", "schedule")


def _batch_cadence(expression: Any) -> bool:
    """At most once an hour: rate() of an hour or more, cron() at one fixed minute, or a one-time at()."""
    if not isinstance(expression, str):
        return False
    text = expression.strip().lower()
    rate = RATE.match(text)
    if rate:
        return not rate["unit"].startswith("minute") or int(rate["value"]) >= 60
    if text.startswith("cron(") and text.endswith(")"):
        fields = text[5:-1].split()
        return bool(fields) and fields[0].isdigit()
    return text.startswith("at(")


def _may_put_records(producer: Resource, graph: UnitGraph) -> bool:
    """A readable Allow statement of its role (or SAM policies, templates included) covers a Firehose put."""
    if producer.type in GLUE_JOB_TYPES:
        role = graph.resolve(first_of(producer.props, "role_arn", "role"), *ROLE_TYPES)
        statements = role_statements(role, graph) if isinstance(role, Resource) else []
    else:
        statements = function_statements(producer, graph)
    if any(allowed_resources(statements, action) for action in PUT_ACTIONS):
        return True
    policies = get(producer.props, "policies") if producer.type == "AWS::Serverless::Function" else None
    templates = [p for p in policies if isinstance(p, dict)] if isinstance(policies, list) else []
    return any(SAM_FIREHOSE_TEMPLATES & set(p) for p in templates)


def _names_stream(producer: Resource, stream: Resource, graph: UnitGraph) -> bool:
    """The producer refers to the stream: a reference anywhere, or its name in a variable or job argument."""
    if stream.address in producer.refs:
        return True
    variables = get(producer.props, "environment", "variables")
    arguments = get(producer.props, "default_arguments")
    values = [*(variables.values() if isinstance(variables, dict) else []), *(arguments.values() if isinstance(arguments, dict) else [])]
    return any(isinstance(v, str) and graph.resolve(v, *FIREHOSE_TYPES) is stream for v in values)


def _bulk_history_words(signals: Signals, extra: list[str]) -> list[str]:
    """The first name, tag or job argument that says the data is a bulk load of history."""
    candidates = [*signals.names, *(f"{k}={v}" for k, v in signals.tags.items()), *extra]
    return [f"{value!r} names a bulk or historical load" for value in candidates if BULK_HISTORY.search(value)][:1]


def _buffering_maxed(stream: Resource) -> bool:
    """Its S3 destination buffers as long and as much as Firehose allows (900 s and 128 MiB)."""
    for destination in ("extended_s3_configuration", "s3_configuration", "extended_s3_destination_configuration", "s3_destination_configuration"):
        config = get(stream.props, destination)
        hints = get(config, "buffering_hints") or config
        interval = as_number(first_of(hints, "buffering_interval", "buffer_interval", "interval_in_seconds"))
        size = as_number(first_of(hints, "buffering_size", "buffer_size", "size_in_mbs"))
        if interval == MAX_BUFFER_INTERVAL_S and size == MAX_BUFFER_SIZE_MB:
            return True
    return False


# ---- Data Pipeline --------------------------------------------------------------


def datapipeline_facts(pipeline: Resource, graph: UnitGraph, signals: Signals) -> dict:
    """The activities of the pipeline's definition; its CloudFormation `PipelineTags` join the tags."""
    signals.tags.update(_pipeline_tags(pipeline))
    return {"pipeline_activities": pipeline_activities(pipeline, graph)}


def pipeline_activities(pipeline: Resource, graph: UnitGraph) -> list[str]:
    """`Type (object name)` of every activity in the pipeline's definition (CloudFormation objects or a TF definition)."""
    objects = list(blocks(get(pipeline.props, "pipeline_objects")) or [])
    for definition in graph.of_type(*DATAPIPELINE_DEFINITION_TYPES):
        if graph.points_at(get(definition.props, "pipeline_id"), pipeline) is True:
            objects.extend(blocks(get(definition.props, "pipeline_object")) or [])
    found = []
    for entry in objects:
        pairs = ((get(f, "key"), first_of(f, "string_value", "ref_value")) for f in blocks(first_of(entry, "fields", "field")) or [])
        fields = {key: value for key, value in pairs if isinstance(key, str)}
        kind = fields.get("type")
        if isinstance(kind, str) and kind.endswith("Activity"):
            found.append(f"{kind} ({first_of(entry, 'name', 'id')})")
    return found


def _pipeline_tags(pipeline: Resource) -> dict[str, str]:
    """CloudFormation spells Data Pipeline tags `PipelineTags`; the engine reads `Tags`."""
    tags = {}
    for tag in blocks(get(pipeline.props, "pipeline_tags")) or []:
        key, value = get(tag, "key"), get(tag, "value")
        if isinstance(key, str) and isinstance(value, str):
            tags[key] = value
    return tags


KINDS = {
    "aws_elastic_beanstalk_environment": ("beanstalk-environment", beanstalk_facts),
    "AWS::ElasticBeanstalk::Environment": ("beanstalk-environment", beanstalk_facts),
    "aws_kinesis_firehose_delivery_stream": ("firehose-stream", firehose_facts),
    "AWS::KinesisFirehose::DeliveryStream": ("firehose-stream", firehose_facts),
    "aws_glue_job": ("glue-job", glue_job_facts),
    "AWS::Glue::Job": ("glue-job", glue_job_facts),
    "aws_datapipeline_pipeline": ("datapipeline-pipeline", datapipeline_facts),
    "AWS::DataPipeline::Pipeline": ("datapipeline-pipeline", datapipeline_facts),
}
