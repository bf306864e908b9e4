"""Raw observations about a resource that the role classifier weighs as evidence."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, order=True)
class Trigger:
    """Something that invokes a resource: an API in front of it, a schedule, ..."""

    kind: str  # api-gateway | load-balancer | function-url | schedule | sagemaker-endpoint | api-job-submission
    source: str  # address of the resource that creates the trigger

    def describe(self) -> str:
        return f"{self.kind} via {self.source}"


@dataclass
class Signals:
    """What a resource says about itself, by evidence source (`where` in the evidence data)."""

    resource_type: str
    names: list[str] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    images: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    env: dict[str, Any] = field(default_factory=dict)  # variable name -> value (may be UNKNOWN)
    instance_types: list[str] = field(default_factory=list)
    layers: list[str] = field(default_factory=list)
    triggers: list[Trigger] = field(default_factory=list)

    def add_image(self, image: str) -> None:
        """Record an image and its repository name (which reads like a name)."""
        self.images.append(image)
        repository = image.split("@", 1)[0].rsplit("/", 1)[-1].split(":", 1)[0]
        if repository:
            self.names.append(repository)
