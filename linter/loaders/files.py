"""How a file that cannot be read is reported, the same way by discovery and every loader."""
from __future__ import annotations

import errno
import json
import os
import stat
from pathlib import Path
from typing import Any

NOT_REGULAR = "not a regular file (a pipe, socket or device); not read"


def cannot_read(path: Path, exc: OSError) -> str:
    """Why `path` could not be read, in one line."""
    if exc.errno == errno.ENOENT and path.is_symlink():
        return f"broken symbolic link (to {os.readlink(path)})"
    return f"cannot read file: {exc.strerror or exc}"


def read_small_text(path: Path, max_bytes: int) -> str | None:
    """The UTF-8 text of a regular file of at most `max_bytes`, or None: missing, unreadable,
    too large, not UTF-8, or not a regular file (reading a pipe would wait forever)."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode) or info.st_size > max_bytes:
            return None
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def read_small_json(path: Path, max_bytes: int) -> Any:
    """The parsed JSON of `read_small_text(path, max_bytes)`, or None when there is none or it is not JSON."""
    text = read_small_text(path, max_bytes)
    try:
        return json.loads(text) if text is not None else None
    except ValueError:
        return None
