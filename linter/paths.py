"""Where the shipped data (policies, evidence, schemas) lives.

In a wheel the data sits inside the package (`mllint/policies`); in a source
checkout or an editable install it sits at the top of the repository.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


@lru_cache(maxsize=None)
def data_dir(name: str) -> Path:
    """The shipped `policies` or `schemas` directory."""
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"mllint installation is missing its {name}/ directory")


def policies_dir() -> Path:
    return data_dir("policies")


def schemas_dir() -> Path:
    return data_dir("schemas")


def schema_path(name: str) -> Path:
    return schemas_dir() / f"{name}.schema.json"
