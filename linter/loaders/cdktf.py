"""What mllint reads from CDK for Terraform's output (`cdktf synth` writes `cdktf.out/`).

Each stack is `cdktf.out/stacks/<stack>/cdk.tf.json`: Terraform JSON, scanned as a
Terraform module like any other. `manifest.json` is not infrastructure (skipped
quietly). A stack's `assets/` folder holds what the app copied in: function code,
files, archives — skipped, never scanned or executed — and the local modules it
calls (`__cdktf_module_asset_*`), which are evaluated through the stack.
"""
from __future__ import annotations

from pathlib import Path

STACK_FILE = "cdk.tf.json"
ASSETS = "assets"
MODULE_ASSET_PREFIX = "__cdktf_module_asset"
COMMENT_KEY = "//"


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
