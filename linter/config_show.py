"""`mllint config show`: each effective setting, and where it came from."""
from __future__ import annotations

import json
from typing import Any

from mllint.config import KEYS, Settings


def _value(key: str, value: Any) -> list[str]:
    """The value as text, one line per override."""
    if key == "overrides":
        return [_override(o) for o in value] or ["none"]
    if isinstance(value, dict):
        return [", ".join(f"{k}: {v}" for k, v in value.items()) or "none"]
    if isinstance(value, list):
        return [", ".join(str(v) for v in value) or ("all policies" if key == "select" else "none")]
    return ["none" if value is None else str(value)]


def _override(override: dict) -> str:
    parts = [f"ignore {', '.join(override['ignore'])}"] if override.get("ignore") else []
    if override.get("severity"):
        parts.append("severity " + ", ".join(f"{k}: {v}" for k, v in override["severity"].items()))
    return f"{', '.join(override['paths'])}: {'; '.join(parts)}"


def as_text(settings: Settings) -> str:
    source = settings.rules.source
    rows = [(key, line, origin) for key, value, origin in settings.origins for line in _value(key, value)]
    width = max(len(value) for _, value, _ in rows)
    lines = [
        f"Configuration file: {source or 'none found'}",
        f"Precedence: command line > {source or 'config file'} > defaults",
        "",
    ]
    previous = None
    for key, value, origin in rows:
        lines.append(f"{key if key != previous else '':<12} {value:<{width}}  {origin}")
        previous = key
    return "\n".join(lines) + "\n"


def as_json(settings: Settings) -> str:
    document: dict[str, Any] = {"file": settings.rules.source or None, "settings": {key: [] for key in KEYS}}
    for key, value, origin in settings.origins:
        document["settings"][key].append({"value": value, "from": origin})
    return json.dumps(document, indent=2) + "\n"

