"""Find the comments in Terraform and YAML source, with their lines.

Text inside strings, heredocs and YAML scalars is not a comment, so a `#` line in
user data never reads as one.
"""
from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass

import yaml

_HEREDOC = re.compile(r"<<-?([A-Za-z_][\w-]*)[ \t]*\r?\n")
_JSON_COMMENT = re.compile(r'"//"\s*:\s*("(?:[^"\\]|\\.)*")')
_YAML_COMMENT = re.compile(r"(?:^|(?<=[ \t]))#", re.MULTILINE)


@dataclass(frozen=True)
class Comment:
    line: int  # 1-based line where the comment starts
    column: int  # 0-based column of its marker
    text: str  # without the marker (`#`, `//`, `/* */`)
    alone: bool  # nothing but whitespace before it on its line


def hcl_comments(text: str) -> list[Comment]:
    """Comments in HCL: `#` and `//` to the end of the line, `/* ... */`."""
    found: list[Comment] = []
    stack: list[str] = []  # open strings ('"') and template interpolations ('{' = one brace level)
    i, n, line, line_start = 0, len(text), 1, 0
    while i < n:
        char = text[i]
        if char == "\n":
            line, line_start = line + 1, i + 1
            i += 1
            continue
        if stack and stack[-1] == '"':
            if char == "\\":
                i += 2
            elif text.startswith(("$${", "%%{"), i):
                i += 3
            elif text.startswith(("${", "%{"), i):
                stack.append("{")
                i += 2
            else:
                if char == '"':
                    stack.pop()
                i += 1
            continue
        alone = not text[line_start:i].strip()
        if char == "#" or text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            found.append(Comment(line, i - line_start, text[i + (1 if char == "#" else 2):end], alone))
            i = end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end
            found.append(Comment(line, i - line_start, text[i + 2:end], alone))
            line += text.count("\n", i, end)
            if "\n" in text[i:end]:
                line_start = text.rfind("\n", i, end) + 1
            i = end + 2
        elif char == '"':
            stack.append('"')
            i += 1
        elif char == "{" and stack:
            stack.append("{")
            i += 1
        elif char == "}" and stack:
            stack.pop()
            i += 1
        elif char == "<" and (heredoc := _HEREDOC.match(text, i)) is not None:
            i, line, line_start = _skip_heredoc(text, heredoc, line)
        else:
            i += 1
    return found


def _skip_heredoc(text: str, heredoc: re.Match, line: int) -> tuple[int, int, int]:
    """Index, line and line start just past the heredoc's closing marker line."""
    marker = heredoc.group(1)
    position = heredoc.end()
    line += 1
    while position < len(text):
        end = text.find("\n", position)
        end = len(text) if end < 0 else end
        if text[position:end].strip() == marker:
            return end, line, position
        position, line = end + 1, line + 1
    return len(text), line, position


def json_comments(text: str) -> list[Comment]:
    """Terraform JSON comments: the values of `"//"` properties."""
    found = []
    for match in _JSON_COMMENT.finditer(text):
        start = match.start()
        line_start = text.rfind("\n", 0, start) + 1
        try:
            value = json.loads(match.group(1))
        except ValueError:
            continue
        found.append(Comment(text.count("\n", 0, start) + 1, start - line_start, value, not text[line_start:start].strip()))
    return found


def yaml_comments(text: str) -> list[Comment]:
    """Comments in YAML: a `#` at the start of a line or after whitespace, outside
    every scalar (quoted, plain or block). Text YAML cannot scan has none."""
    spans: list[tuple[int, int]] = []
    try:
        for token in yaml.scan(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
            if isinstance(token, yaml.ScalarToken):
                spans.append((token.start_mark.index, token.end_mark.index))
    except yaml.YAMLError:
        return []
    starts = [start for start, _ in spans]
    found: list[Comment] = []
    line_end = -1
    for match in _YAML_COMMENT.finditer(text):
        position = match.start()
        index = bisect.bisect_right(starts, position) - 1
        if position < line_end or (index >= 0 and spans[index][0] <= position < spans[index][1]):
            continue
        line_start = text.rfind("\n", 0, position) + 1
        line_end = text.find("\n", position)
        line_end = len(text) if line_end < 0 else line_end
        alone = not text[line_start:position].strip()
        found.append(Comment(text.count("\n", 0, position) + 1, position - line_start, text[position + 1:line_end], alone))
    return found
