"""Documents that read like CloudFormation templates but are not.

Discovery recognises a template by its text (`Resources:` next to `Type: AWS::...`). Two
common documents hold that text without being templates:

- a CodeDeploy AppSpec file (`appspec.yaml` / `.json` of an ECS or Lambda blue/green
  deployment): a top-level `version` (always 0.0) and `Resources` as a *list* of targets,
  where a template's `Resources` is a mapping;
- a CloudFormation macro's request or response event (test events of a macro's function):
  the template sits under a top-level `fragment`, next to `requestId`, `transformId`, ...

Such a file is skipped like any other non-IaC file. Only a file whose text hints at one of
them is parsed here, and only a document whose top level matches is left out: anything else,
a broken template included, is still loaded (and its errors reported).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mllint.loaders.cfn_yaml import TemplateError, parse_template

_HINT = re.compile(r"""["']?(?:version["']?\s*:\s*["']?0\.0\b|fragment["']?\s*:)""")
_TEMPLATE_VERSION = re.compile(r"""["']?AWSTemplateFormatVersion["']?\s*:""")
MAX_BYTES = 5 * 1024 * 1024  # larger files are left to the loader


def not_a_template(path: Path, head: str) -> bool:
    """True when `path` (whose first bytes are `head`) is an AppSpec file or a macro event."""
    if not _HINT.search(head) or _TEMPLATE_VERSION.search(head):
        return False
    try:
        if path.stat().st_size > MAX_BYTES:
            return False
        document = parse_template(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, TemplateError, RecursionError):
        return False  # the loader reports what is wrong with it
    return is_appspec(document) or is_macro_event(document)


def is_appspec(document: Any) -> bool:
    """A CodeDeploy AppSpec: a top-level `version` and a list of `Resources`."""
    return isinstance(document, dict) and "version" in document and isinstance(document.get("Resources"), list)


def is_macro_event(document: Any) -> bool:
    """A macro request or response: the template fragment under `fragment`, no `Resources`."""
    return isinstance(document, dict) and isinstance(document.get("fragment"), dict) and "Resources" not in document
