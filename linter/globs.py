"""Path globs for `exclude` and `overrides`: `**` spans directories, `*` and `?` stay within one.

A glob is matched against a posix path relative to the config file's directory,
and against each of the path's parent directories, so `legacy` and `legacy/**`
both cover everything under `legacy/`.
"""
from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=None)
def _compile(glob: str) -> re.Pattern[str]:
    glob = glob.strip().removeprefix("./").rstrip("/")
    parts, i = [], 0
    while i < len(glob):
        if glob.startswith("**/", i):
            parts.append("(?:.*/)?")
            i += 3
        elif glob.startswith("**", i):
            parts.append(".*")
            i += 2
        elif glob[i] == "*":
            parts.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            parts.append("[^/]")
            i += 1
        else:
            parts.append(re.escape(glob[i]))
            i += 1
    return re.compile("".join(parts))


def matches(glob: str, path: str) -> bool:
    """True when `glob` matches the relative posix `path` or one of its parent directories."""
    pattern = _compile(glob)
    segments = path.split("/")
    return any(pattern.fullmatch("/".join(segments[:n])) for n in range(1, len(segments) + 1))


def matches_any(globs, path: str) -> bool:
    return any(matches(glob, path) for glob in globs)
