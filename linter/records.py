"""The value objects that flow through the pipeline.

discover -> load -> (resolve) -> model -> classify -> evaluate -> report

Loaders produce `Resource` records and `LoadError`s; the model turns resources
into facts; the engine turns facts into `Finding`s. All of these are plain,
immutable and picklable, because loaders run in worker processes.

Values inside `Resource.props` follow one convention for both frameworks:

* `UNKNOWN` stands for a value that cannot be known statically (an unresolved
  variable, a data source, an intrinsic that can't be evaluated, a tfparse
  `null`). It never produces a finding.
* `Link(address, attr)` stands for a reference to another resource in the same
  unit (Terraform `aws_x.y.arn`, CloudFormation `!Ref X` / `!GetAtt X.Arn`).
* Terraform nested blocks are always lists of dicts (tfparse returns a dict for
  a block that appears once); attribute maps such as `tags` stay dicts.
  Terraform JSON-string attributes (`container_definitions`) stay strings.
* CloudFormation intrinsics are resolved where their parts are known
  (`Ref` to a parameter -> its `Default`, `Fn::Sub`/`Fn::Join` of known parts);
  `AWS::NoValue` removes the key. `props` itself is UNKNOWN when a whole
  `Properties` block can't be known (an `Fn::If` whose condition can't be
  evaluated): nothing about the resource is known, not even what it leaves unset.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping


class _Unknown:
    """Singleton for a value that cannot be known statically."""

    _instance: "_Unknown | None" = None

    def __new__(cls) -> "_Unknown":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self):
        return (_Unknown, ())


UNKNOWN = _Unknown()


def is_unknown(value: Any) -> bool:
    return value is UNKNOWN


@dataclass(frozen=True)
class Link:
    """A reference to another resource of the same unit, by its address."""

    address: str
    attr: str | None = None

    def __str__(self) -> str:
        return f"{self.address}.{self.attr}" if self.attr else self.address


@dataclass(frozen=True)
class Suppression:
    """An inline suppression as a loader read it (grammar: `mllint.directives`;
    applied by `mllint.suppress`). One record per directive written in the source,
    shared by every resource instance it covers."""

    ids: tuple[str, ...]  # policy ids or names, as written
    reason: str  # "" when none is given
    source: str  # "comment" | "metadata" | "tag"
    scope: str  # "resource" | "module" | "file"
    target: str  # what it covers: address without instance keys, logical id, or file
    file: str  # where it is written, relative to the scan root
    line: int
    problem: str = ""  # why it cannot apply as written (malformed, misplaced); "" = well-formed


@dataclass(frozen=True)
class Resource:
    """One IaC resource, loaded and evaluated, in native attribute names."""

    framework: str  # "terraform" | "cloudformation"
    type: str  # "aws_ecs_task_definition" | "AWS::ECS::TaskDefinition"
    address: str  # "module.train.aws_ecs_task_definition.this[0]" | logical id
    file: str  # posix path relative to the scan root
    line: int  # 1-based first line of the resource
    unit: str  # the Terraform module dir or CloudFormation file it was loaded from
    props: Mapping[str, Any] = field(default_factory=dict)
    refs: tuple[str, ...] = ()  # addresses of resources this one references
    condition: str | None = None  # CloudFormation `Condition`, if any
    suppressions: tuple[Suppression, ...] = ()  # inline suppressions covering it, most specific first
    # What every finding on it must say about where its values came from, for example
    # "only when condition UseGpu is true" or "module input: module.batch (terraform-aws-modules/batch/aws)".
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, order=True)
class LoadError:
    """A file that could not be read, parsed or evaluated."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}" if self.line else f"{self.file}: {self.message}"


@dataclass
class LoadResult:
    """What loading one unit (a Terraform module or a template) produced."""

    unit: str
    resources: list[Resource] = field(default_factory=list)
    errors: list[LoadError] = field(default_factory=list)
    suppressions: list[Suppression] = field(default_factory=list)  # every one read, used or not


@dataclass(frozen=True)
class Finding:
    """One policy violation on one resource."""

    policy_id: str
    policy_name: str
    severity: str  # "error" | "warning" | "info"
    title: str
    file: str
    line: int
    address: str
    message: str
    evidence: tuple[str, ...]
    fix: str
    help_uri: str
    suppressed: bool = False
    suppression: Suppression | None = None  # the inline suppression that suppressed it

    def sort_key(self) -> tuple:
        return (self.file, self.line, self.policy_id, self.address)
