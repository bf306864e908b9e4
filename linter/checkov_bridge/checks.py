"""checkov checks that carry mllint's policies: one per policy and framework.

Each check is registered with checkov's Terraform or CloudFormation resource
registry and answers from mllint's scan of what checkov is scanning (see
`verdicts.py`); checkov's parsed configuration is not re-judged, so the
verdicts, unknown values included, are mllint's.
"""
from __future__ import annotations

import argparse
import os
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

from checkov.cloudformation.checks.resource.registry import cfn_registry
from checkov.common.bridgecrew.platform_integration import bc_integration
from checkov.common.bridgecrew.severities import Severities
from checkov.common.checks.base_check import BaseCheck
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.registry import resource_registry

from mllint.checkov_bridge.verdicts import FAILED, SEVERITIES, Answer, Target, Verdicts, checkov_id, log, resource_types
from mllint.policy import Policy

CATEGORY = getattr(CheckCategories, "AI_AND_ML", CheckCategories.CONVENTION)
ERROR_ID = "CKV_MLLINT_ERROR"
VERDICTS = Verdicts()


def _targets() -> tuple[tuple[Target, Path], ...]:
    """What this checkov run scans (its `-d` directories, its `-f` files), each with the base
    directory that checkov makes file names relative to."""
    return _targets_of(tuple(bc_integration.scan_dir or ()), tuple(bc_integration.scan_file or ()), tuple(sys.argv[1:]))


def _var_files(argv: tuple[str, ...]) -> tuple[Path, ...]:
    """The `--var-file`s on checkov's command line (a check is not given checkov's options)."""
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument("--var-file", action="append", default=[])
    known, _ = parser.parse_known_args(list(argv))
    return tuple(Path(f).resolve() for f in known.var_file)


@lru_cache(maxsize=8)
def _targets_of(directories: tuple[str, ...], given_files: tuple[str, ...], argv: tuple[str, ...]) -> tuple[tuple[Target, Path], ...]:
    found = []
    var_files = _var_files(argv)
    for directory in directories:
        root = Path(directory).resolve()
        found.append((Target((root,), root, var_files), Path(os.path.abspath(directory))))
    files = [os.path.abspath(f) for f in given_files]
    if files:
        common = Path(os.path.commonpath([os.path.dirname(f) for f in files]))
        target = Target(tuple(Path(f).resolve() for f in files), common, var_files)
        # Terraform names files relative to their common prefix, CloudFormation relative to the working directory.
        found.append((target, Path(os.path.dirname(os.path.commonprefix(files)))))
        found.append((target, Path.cwd()))
    return tuple(found)


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


class BridgeCheck(BaseCheck):
    """A check registered for some Terraform or CloudFormation resource types, answered by `answer`."""

    def __init__(self, check_id: str, name: str, severity: str, guideline: str | None, framework: str,
                 types: list[str], registry) -> None:
        super().__init__(name=name, id=check_id, categories=[CATEGORY], supported_entities=types,
                         block_type="resource", guideline=guideline)
        self.framework = framework
        self.severity = Severities[severity]
        registry.register(self)

    def run(self, scanned_file: str, entity_configuration: dict[str, Any], entity_name: str, entity_type: str,
            skip_info) -> dict[str, Any]:
        if skip_info:  # a `checkov:skip=` comment: checkov records it
            return super().run(scanned_file, entity_configuration, entity_name, entity_type, skip_info)
        if self.framework == "terraform":
            address = entity_configuration.get("__address__") or f"{entity_type}.{entity_name}"
        else:
            address = entity_name
        answer = self.answer(scanned_file, address)
        self.details = list(answer.details)
        result: dict[str, Any] = {"result": CheckResult[answer.result], "evaluated_keys": []}
        if answer.reason:
            result["suppress_comment"] = answer.reason
        return result

    def answer(self, scanned_file: str, address: str) -> Answer:
        raise NotImplementedError

    def scan_entity_conf(self, conf: dict[str, Any], entity_type: str) -> CheckResult:
        """Not used: `run` answers from mllint's scan, which sees the links and the calling module."""
        raise NotImplementedError


class PolicyCheck(BridgeCheck):
    """One mllint policy (CKV_MLLINT_101 for ML101), for one framework."""

    def __init__(self, policy: Policy, framework: str, types: list[str], registry) -> None:
        super().__init__(checkov_id(policy.id), policy.title, SEVERITIES[policy.severity], policy.help_uri,
                         framework, types, registry)
        self.policy_id = policy.id

    def answer(self, scanned_file: str, address: str) -> Answer:
        target, file = locate(scanned_file)
        return VERDICTS.answer(target, file, address, self.policy_id)


class ErrorCheck(BridgeCheck):
    """Fails every resource mllint would judge, when mllint's policies or configuration cannot be
    loaded: a broken configuration must fail the checkov run, not silently drop mllint's checks."""

    def __init__(self, error: str, framework: str, types: list[str], registry) -> None:
        super().__init__(ERROR_ID, "mllint could not load its policies or configuration", "HIGH", None,
                         framework, types, registry)
        self.error = error

    def answer(self, scanned_file: str, address: str) -> Answer:
        return Answer(FAILED, (f"mllint: error: {self.error}",))


def register() -> None:
    """Register a check per policy and framework with checkov's resource registries."""
    from mllint.config import ConfigError
    from mllint.model import KINDS
    from mllint.policy import PolicyError

    try:
        policies = VERDICTS.policies(list(dict.fromkeys(target for target, _ in _targets())))
    except (PolicyError, ConfigError) as exc:
        log.error("mllint: error: %s", exc)
        types = sorted(KINDS)
        ErrorCheck(str(exc), "terraform", [t for t in types if not t.startswith("AWS::")], resource_registry)
        ErrorCheck(str(exc), "cloudformation", [t for t in types if t.startswith("AWS::")], cfn_registry)
        return
    for policy in policies:
        terraform, cloudformation = resource_types(policy)
        PolicyCheck(policy, "terraform", terraform, resource_registry)
        PolicyCheck(policy, "cloudformation", cloudformation, cfn_registry)
