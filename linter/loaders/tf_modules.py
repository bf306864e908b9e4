"""Module calls as written, read before tfparse evaluates a module.

* A `source` that is not a literal string (`var.x`, `local.y`, `"${var.x}"`): Terraform
  refuses it ("Variables not allowed"); tfparse evaluates it, loads whatever directory it
  names and, when that is the module itself (a default of `"./"`), never returns.
  `source_errors` reports each one at its line. `path.module` forms read as the local paths
  tfparse makes of them (`"."`, `"./x"`), so the local-module reading
  (`local_module_calls`) refuses their cycles.
* Modules `terraform init` downloaded: tfparse reads the code of every call that
  `.terraform/modules/modules.json` maps (by its key, `outer.inner`), so
  `downloaded_modules` lists those directories for the same checks as local modules.
"""
from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from mllint.discover import MAX_TF_BYTES
from mllint.loaders.files import read_small_json
from mllint.loaders.hcl_scan import attribute, block_tokens, blocks
from mllint.loaders.tf_json import block_bodies

MANIFEST = Path(".terraform") / "modules" / "modules.json"
_INTERPOLATION = re.compile(r"(?<!\$)[$%]\{(?P<inner>[^}]*)\}")
_PATH_MODULE = re.compile(r"^\$\{path\.module\}(?:/.*)?$", re.DOTALL)
_FUNCTION = re.compile(r"[A-Za-z_][\w-]*(?:::[\w-]+)*\s*\(")
_NAME = re.compile(r"[A-Za-z_][\w-]*")
_LITERALS = {"true", "false", "null"}
_LOCAL_PATH = re.compile(r"^\.{1,2}(?:/|$)")
_VARIABLES = "Variables not allowed"
_FUNCTIONS = "Function calls not allowed"


@dataclass(frozen=True)
class ModuleCall:
    name: str
    source: str | None  # the literal source; None when it is not one
    line: int  # of the `source` argument
    refused: str | None  # Terraform's summary when it refuses the source, else None


def module_calls(filename: str, text: str) -> list[ModuleCall]:
    """The `module` blocks of one `.tf` or `.tf.json` file, with their sources."""
    if filename.endswith(".tf.json"):
        return _json_calls(text)
    calls = []
    for name, start in blocks(text, "module"):
        found = attribute(text, block_tokens(text, start), "source")
        if found is None:
            continue
        position, tokens = found
        line = text.count("\n", 0, position) + 1
        if len(tokens) == 1 and tokens[0].startswith('"'):
            calls.append(_template_call(name, tokens[0][1:-1], line))
        elif tokens == ["path", ".", "module"]:
            calls.append(ModuleCall(name, ".", line, None))  # Terraform refuses it; tfparse reads the module itself
        else:
            calls.append(ModuleCall(name, None, line, _expression_refused(tokens)))
    return calls


def source_errors(filename: str, text: str) -> list[tuple[int, str]]:
    """(line, message) for each module call whose `source` Terraform refuses."""
    return [
        (call.line, f'module "{call.name}": {call.refused}; the source must be a literal string; the module was not evaluated')
        for call in module_calls(filename, text)
        if call.refused
    ]


def downloaded_modules(module_dir: Path) -> list[Path]:
    """Directories from `.terraform/modules/modules.json` (in `module_dir`) that tfparse loads
    for the calls `module_dir` makes, directly or through the modules it calls."""
    manifest = _manifest(module_dir)
    if not manifest:
        return []
    found: list[Path] = []
    seen = {module_dir}
    pending = [(module_dir, "")]
    while pending:
        directory, prefix = pending.pop()
        for call in sorted(calls_in(directory), key=lambda c: c.name):
            key = prefix + call.name
            if key in manifest:
                target = manifest[key]
            elif call.source is not None and _LOCAL_PATH.match(call.source):
                target = (directory / call.source).resolve()
            else:
                continue
            if target in seen or not target.is_dir():
                continue
            seen.add(target)
            pending.append((target, key + "."))
            if key in manifest:
                found.append(target)
    return sorted(found)


def _manifest(module_dir: Path) -> dict[str, Path]:
    """modules.json as key -> directory ({} when absent or unreadable: tfparse then ignores it too)."""
    document = read_small_json(module_dir / MANIFEST, MAX_TF_BYTES)
    entries = document.get("Modules") if isinstance(document, dict) else None
    mapping = {}
    for entry in entries if isinstance(entries, list) else ():
        if isinstance(entry, dict) and isinstance(entry.get("Key"), str) and isinstance(entry.get("Dir"), str) and entry["Key"]:
            mapping[entry["Key"]] = Path(os.path.normpath(module_dir / entry["Dir"]))
    return mapping


def local_module_calls(module_dir: Path) -> set[Path]:
    """Directories of local modules (`source = "./..."`) that the .tf / .tf.json files in `module_dir` call.

    Only `module` blocks count, as written (not a commented-out call, not a file provisioner's
    `source`); `source = path.module` (which tfparse evaluates) is the module itself."""
    return {
        (module_dir / call.source).resolve()
        for call in calls_in(module_dir)
        if call.source is not None and _LOCAL_PATH.match(call.source)
    }


def calls_in(directory: Path) -> list[ModuleCall]:
    """The module calls of every .tf / .tf.json file in `directory` (files that can't be read
    are left to the loader, which reports them)."""
    calls = []
    for path in sorted(directory.glob("*.tf")) + sorted(directory.glob("*.tf.json")):
        try:
            info = path.stat()
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_TF_BYTES:
                continue  # the loader reports it
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue  # the loader reports it
        calls.extend(module_calls(path.name, text))
    return calls


def _template_call(name: str, source: str, line: int) -> ModuleCall:
    """A call whose source is a string: literal unless it interpolates (`${...}`, `%{...}`)."""
    inner = [m["inner"] for m in _INTERPOLATION.finditer(source)]
    if not inner:
        return ModuleCall(name, source.replace("$${", "${").replace("%%{", "%{"), line, None)
    if _PATH_MODULE.match(source) and len(inner) == 1:
        return ModuleCall(name, "." + source[len("${path.module}"):], line, None)  # as tfparse reads it
    if any(_FUNCTION.search(text) for text in inner):
        return ModuleCall(name, None, line, _FUNCTIONS)
    if any(set(_NAME.findall(text)) - _LITERALS for text in inner):
        return ModuleCall(name, None, line, _VARIABLES)
    return ModuleCall(name, None, line, None)  # only literals inside: not refused, not followed


def _expression_refused(tokens: list[str]) -> str | None:
    """Terraform's summary for the first reference or function call in a source expression."""
    for index, token in enumerate(tokens):
        if token.startswith('"'):
            refused = _template_call("", token[1:-1], 0).refused
            if refused:
                return refused
        elif _NAME.fullmatch(token) and token not in _LITERALS:
            is_call = index + 1 < len(tokens) and tokens[index + 1] in ("(", ":")
            if index == 0 or tokens[index - 1] not in (".", ":"):
                return _FUNCTIONS if is_call else _VARIABLES
    return None


def _json_calls(text: str) -> list[ModuleCall]:
    calls = []
    for name, body in block_bodies(text, "module"):
        source = body.get("source")
        if not isinstance(source, str):
            continue
        calls.append(_template_call(name, source, _json_line(text, source)))
    return calls


def _json_line(text: str, source: str) -> int:
    """The line of the `"source": "<source>"` member (1 when it cannot be found)."""
    for match in re.finditer(r'"source"\s*:\s*("(?:[^"\\]|\\.)*")', text):
        try:
            if json.loads(match.group(1)) == source:
                return text.count("\n", 0, match.start()) + 1
        except ValueError:
            continue
    return 1
