"""What mllint reads from CDK for Terraform's output (`cdktf synth` writes `cdktf.out/`).

Each stack is `cdktf.out/stacks/<stack>/cdk.tf.json`: Terraform JSON, scanned as a
Terraform module like any other. `manifest.json` is not infrastructure (skipped
quietly). A stack's `assets/` folder holds what the app copied in: function code,
files, archives — skipped, never scanned or executed — and the local modules it
calls (`__cdktf_module_asset_*`), which are evaluated through the stack.
"""
from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

STACK_FILE = "cdk.tf.json"
ASSETS = "assets"
MODULE_ASSET_PREFIX = "__cdktf_module_asset"
COMMENT_KEY = "//"
_ID_HASH = re.compile(r"_[0-9A-F]{8}$")  # the hash CDKTF appends to a construct's logical id


def asset_folders(directory: Path, names: list[str]) -> list[str]:
    """The entries of `directory` that are assets other than modules, when it is a stack's `assets/`."""
    if directory.name != ASSETS or not (directory.parent / STACK_FILE).is_file():
        return []
    return [name for name in names if not name.startswith(MODULE_ASSET_PREFIX)]


def construct_notes(body: dict | None) -> tuple[str, ...]:
    """("CDK for Terraform construct ml-stack/trainer",) for a resource body CDKTF synthesised
    (its `"//": {"metadata": {"path": ...}}`), else ()."""
    comment = body.get(COMMENT_KEY) if isinstance(body, dict) else None
    metadata = comment.get("metadata") if isinstance(comment, dict) else None
    path = metadata.get("path") if isinstance(metadata, dict) else None
    return (f"CDK for Terraform construct {path}",) if isinstance(path, str) and path else ()


def construct_label(label: str, file: str) -> str:
    """A resource label without the hash CDKTF appends (`nightly-retrain_trainer_5E2B9C41` ->
    `nightly-retrain_trainer`) when the resource is written in a stack file (`cdk.tf.json`);
    any other label unchanged."""
    if PurePosixPath(file).name != STACK_FILE:
        return label
    return _ID_HASH.sub("", label) or label
