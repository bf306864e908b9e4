"""Safe YAML loading with libyaml's C parser when it is available (policies, evidence, config)."""
from __future__ import annotations

from typing import Any

import yaml

_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(stream: Any) -> Any:
    """`yaml.safe_load`, several times faster: never constructs arbitrary Python objects."""
    return yaml.load(stream, Loader=_SafeLoader)  # noqa: S506 - a safe loader
