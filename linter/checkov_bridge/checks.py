"""checkov checks that carry mllint's policies: one per policy and framework.

Each check is registered with checkov's Terraform or CloudFormation resource
registry and answers from mllint's scan of what checkov is scanning (see
`verdicts.py`); checkov's parsed configuration is not re-judged, so the
verdicts, unknown values included, are mllint's.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from checkov.cloudformation.checks.resource.registry import cfn_registry
from checkov.common.bridgecrew.platform_integration import bc_integration
from checkov.common.bridgecrew.severities import Severities
from checkov.common.checks.base_check import BaseCheck
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.registry import resource_registry

from mllint.checkov_bridge.verdicts import SEVERITIES, Target, Verdicts, checkov_id, resource_types
from mllint.policy import Policy

CATEGORY = getattr(CheckCategories, "AI_AND_ML", CheckCategories.CONVENTION)
VERDICTS = Verdicts()


def _targets() -> list[tuple[Target, Path]]:
    """What this checkov run scans (its `-d` directories, its `-f` files), each with the base
    directory that checkov makes file names relative to."""
    found = []
    for directory in bc_integration.scan_dir or []:
        root = Path(directory).resolve()
        found.append((Target((root,), root), Path(os.path.abspath(directory))))
    files = [os.path.abspath(f) for f in bc_integration.scan_file or []]
    if files:
        target = Target(tuple(Path(f).resolve() for f in files), Path(os.path.commonpath([os.path.dirname(f) for f in files])))
        # Terraform names files relative to their common prefix, CloudFormation relative to the working directory.
        found.append((target, Path(os.path.dirname(os.path.commonprefix(files)))))
        found.append((target, Path.cwd()))
    return found


def locate(scanned_file: str) -> tuple[Target, Path]:
    """The target that holds `scanned_file` (checkov's name for it, such as `/modules/x/main.tf`)
    and the file's absolute path."""
    relative = scanned_file.lstrip("/\\")
    for target, base in _targets():
        candidate = (base / relative).resolve()
        if candidate.is_file() and target.holds(candidate):
            return target, candidate
    file = Path(relative).resolve()  # checkov run from Python without its command line
    return Target((file,), file.parent), file


class MllintCheck(BaseCheck):
    """One mllint policy for one framework's resource types."""

    def __init__(self, policy: Policy, framework: str, types: list[str], registry) -> None:
        super().__init__(
            name=policy.title,
            id=checkov_id(policy.id),
            categories=[CATEGORY],
            supported_entities=types,
            block_type="resource",
            guideline=policy.help_uri,
        )
        self.policy_id = policy.id
        self.framework = framework
        self.severity = Severities[SEVERITIES[policy.severity]]
        registry.register(self)

    def run(self, scanned_file: str, entity_configuration: dict[str, Any], entity_name: str, entity_type: str,
            skip_info) -> dict[str, Any]:
        if skip_info:  # a `checkov:skip=` comment: checkov records it
            return super().run(scanned_file, entity_configuration, entity_name, entity_type, skip_info)
        if self.framework == "terraform":
            address = entity_configuration.get("__address__") or f"{entity_type}.{entity_name}"
        else:
            address = entity_name
        target, file = locate(scanned_file)
        answer = VERDICTS.answer(target, file, address, self.policy_id)
        self.details = list(answer.details)
        result: dict[str, Any] = {"result": CheckResult[answer.result], "evaluated_keys": []}
        if answer.reason:
            result["suppress_comment"] = answer.reason
        return result

    def scan_entity_conf(self, conf: dict[str, Any], entity_type: str) -> CheckResult:
        """Not used: `run` answers from mllint's scan, which sees the links and the calling module."""
        raise NotImplementedError


def register() -> None:
    """Register a check per policy and framework; a bad policy or config stops checkov (exit 2)."""
    from mllint.config import ConfigError
    from mllint.policy import PolicyError

    try:
        policies = VERDICTS.policies([target for target, _ in _targets()])
    except (PolicyError, ConfigError) as exc:
        sys.stderr.write(f"mllint: error: {exc}\n")
        raise SystemExit(2) from None
    for policy in policies:
        terraform, cloudformation = resource_types(policy)
        MllintCheck(policy, "terraform", terraform, resource_registry)
        MllintCheck(policy, "cloudformation", cloudformation, cfn_registry)
