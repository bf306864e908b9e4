"""Safe YAML loading with libyaml's C parser when it is available (policies, evidence, config)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlFileError(Exception):
    """A YAML file that can't be read or parsed; str() is one line: `file[:line]: problem`."""


def safe_load(stream: Any) -> Any:
    """`yaml.safe_load`, several times faster: never constructs arbitrary Python objects."""
    return yaml.load(stream, Loader=_SafeLoader)  # noqa: S506 - a safe loader


def load_file(path: Path, shown: str | None = None) -> Any:
    """The parsed file; `shown` is how the file is named in the error (default: the path)."""
    shown = shown or str(path)
    try:
        return safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise YamlFileError(f"{shown}: cannot read: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise YamlFileError(f"{shown}{where}: invalid YAML: {getattr(exc, 'problem', None) or exc}") from None
