"""What mllint reads from a CDK cloud assembly (`cdk synth`'s output folder, `cdk.out/`).

Only the stack templates are infrastructure: those `manifest.json` lists
(artifacts of type `aws:cloudformation:stack`, `properties.templateFile`) and the
nested stack templates (`*.nested.template.json`, linked from their parent by the
`aws:asset:path` metadata of its `AWS::CloudFormation::Stack`). The manifest, the
tree, the asset manifests and the `asset.<hash>` folders (function code,
Dockerfiles) are skipped, never scanned as IaC and never executed.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mllint.loaders.files import read_small_json

MANIFEST = "manifest.json"
MARKER = "cdk.out"  # the file `cdk synth` writes with the assembly's schema version
NESTED_SUFFIX = ".nested.template.json"
STACK_ARTIFACT = "aws:cloudformation:stack"
CONSTRUCT_PATH = "aws:cdk:path"  # resource Metadata: the construct that synthesised it
MAX_MANIFEST_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class Assembly:
    """The files of one cloud assembly directory that are stack templates."""

    templates: frozenset[str]  # file names in the directory

    @staticmethod
    def is_asset(name: str) -> bool:
        """An `asset.<hash>` folder or file: the app's code and images, not infrastructure."""
        return name.startswith("asset.")


def cloud_assembly(directory: Path, names: list[str]) -> Assembly | None:
    """The assembly in `directory` (whose file names are `names`), or None when it is not
    one: it has a `manifest.json` with `artifacts`, or the `cdk.out` marker file. Without a
    readable manifest, its `*.template.json` files are taken as the templates."""
    if MANIFEST not in names:
        return None
    manifest = read_small_json(directory / MANIFEST, MAX_MANIFEST_BYTES)
    artifacts = manifest.get("artifacts") if isinstance(manifest, dict) else None
    if not isinstance(artifacts, dict):
        if MARKER not in names:
            return None
        return Assembly(frozenset(n for n in names if n.endswith(".template.json")))
    listed = {_template_file(artifact) for artifact in artifacts.values()}
    nested = {name for name in names if name.endswith(NESTED_SUFFIX)}
    return Assembly(frozenset(name for name in listed | nested if name in names))


def construct_notes(body: dict) -> tuple[str, ...]:
    """("CDK construct MlStack/Trainer/Resource",) for a resource CDK synthesised, else ()."""
    metadata = body.get("Metadata")
    path = metadata.get(CONSTRUCT_PATH) if isinstance(metadata, dict) else None
    return (f"CDK construct {path}",) if isinstance(path, str) and path else ()


def _template_file(artifact: Any) -> str | None:
    if not isinstance(artifact, dict) or artifact.get("type") != STACK_ARTIFACT:
        return None
    properties = artifact.get("properties")
    name = properties.get("templateFile") if isinstance(properties, dict) else None
    return name if isinstance(name, str) else None
