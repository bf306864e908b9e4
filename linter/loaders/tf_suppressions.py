"""Read the suppression comments of one evaluated Terraform module and attach them.

tfparse drops comments, so the module's files are read again. A directive comment
belongs to the innermost resource or `module` block around it (tfparse's line
ranges). A `module` block's directive covers every resource below every instance of
the call (`count`, `for_each`, nested modules); `ignore-file` covers the resources
defined in its file.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from mllint.directives import attach, parse_comment, place
from mllint.loaders.comments import hcl_comments, json_comments
from mllint.records import Resource, Suppression

_INSTANCE_KEY = re.compile(r'\[(?:\d+|"(?:[^"\\]|\\.)*")\]')
_SUFFIXES = (".tf", ".tf.json")
NOT_IN_BLOCK = "suppression comment is not inside a resource or module block that was evaluated, so it suppresses nothing"


@dataclass(frozen=True)
class _Block:
    kind: str  # "resource" | "module"
    file: str  # relative to the scan root
    start: int
    end: int
    path: str  # address of this instance


def without_keys(address: str) -> str:
    """`module.m["a"].aws_x.y[0]` -> `module.m.aws_x.y`: the block as written."""
    return _INSTANCE_KEY.sub("", address)


def read_suppressions(data: dict, resources: list[Resource], module_dir: Path, root: Path) -> tuple[list[Resource], list[Suppression]]:
    """The resources with the suppressions that cover them, and every suppression read."""
    blocks = _blocks(data, module_dir, root)
    placed = []
    for path in _files(module_dir, blocks, root):
        rel = _rel(path, root)
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue  # the loader reports unreadable module files
        if "mllint" not in text:
            continue
        comments = json_comments(text) if path.name.endswith(".json") else hcl_comments(text)
        for comment in comments:
            directive = parse_comment(comment.text)
            if directive is None:
                continue
            if directive.file_level:
                covered = [r.address for r in resources if r.file == rel]
                placed.append((place(directive, "comment", "file", rel, rel, comment.line), covered))
                continue
            block = _innermost(blocks, rel, comment.line)
            if block is None:
                placed.append((place(directive, "comment", "resource", rel, rel, comment.line, NOT_IN_BLOCK), ()))
                continue
            placed.append((place(directive, "comment", block.kind, without_keys(block.path), rel, comment.line), _covered(block, blocks, resources)))
    return attach(resources, placed, target=lambda r: without_keys(r.address))


def _blocks(data: dict, module_dir: Path, root: Path) -> list[_Block]:
    found = []
    for key, items in data.items():
        for item in items:
            meta = item.get("__tfmeta") if isinstance(item, dict) else None
            if not meta or not meta.get("filename") or not meta.get("path") or "line_start" not in meta:
                continue
            kind = "module" if key == "module" else "resource" if meta.get("type") == "resource" else None
            if kind:
                path = Path(os.path.normpath(module_dir / meta["filename"]))
                found.append(_Block(kind, _rel(path, root), meta["line_start"], meta.get("line_end", meta["line_start"]), meta["path"]))
    return found


def _files(module_dir: Path, blocks: list[_Block], root: Path) -> list[Path]:
    """The Terraform files of the module and of every module directory it reaches."""
    directories = {module_dir} | {Path(os.path.normpath(root / b.file)).parent for b in blocks}
    files = []
    for directory in sorted(directories):
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            continue
        files.extend(directory / name for name in names if name.endswith(_SUFFIXES))
    return files


def _innermost(blocks: list[_Block], file: str, line: int) -> _Block | None:
    around = [b for b in blocks if b.file == file and b.start <= line <= b.end]
    return min(around, key=lambda b: (b.end - b.start, b.path), default=None)


def _covered(block: _Block, blocks: list[_Block], resources: list[Resource]) -> list[str]:
    """Addresses of the resources a directive in `block` covers, across its instances."""
    same = [b.path for b in blocks if (b.kind, b.file, b.start) == (block.kind, block.file, block.start)]
    if block.kind == "resource":
        return same
    prefixes = tuple(path + "." for path in same)
    return [r.address for r in resources if r.address.startswith(prefixes)]


@lru_cache(maxsize=4096)  # every resource of a file asks for the same path
def _rel(path: Path, root: Path) -> str:
    rel = os.path.relpath(path, root) if path.drive == root.drive else str(path)
    return Path(rel).as_posix()
