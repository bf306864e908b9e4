"""How a file that cannot be read is reported, the same way by discovery and every loader."""
from __future__ import annotations

import errno
import os
from pathlib import Path

NOT_REGULAR = "not a regular file (a pipe, socket or device); not read"


def cannot_read(path: Path, exc: OSError) -> str:
    """Why `path` could not be read, in one line."""
    if exc.errno == errno.ENOENT and path.is_symlink():
        return f"broken symbolic link (to {os.readlink(path)})"
    return f"cannot read file: {exc.strerror or exc}"
