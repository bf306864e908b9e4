"""Read a few attributes of HCL blocks as tokens, before tfparse evaluates anything.

Enough of HCL's grammar to find a block (`variable "x" {`, `module "m" {`) and the
tokens of one of its own attributes (`type = ...`, `source = ...`): whitespace,
comments and heredocs are skipped; strings, names and punctuation are tokens.
"""
from __future__ import annotations

import re
from typing import Iterator

_TOKEN = re.compile(
    r'(?P<skip>\s+|#[^\n]*|//[^\n]*|/\*.*?\*/|<<-?(?P<tag>\w+)\n.*?\n[ \t]*(?P=tag)[ \t]*(?=\n|$))'
    r'|(?P<token>"(?:[^"\\\n]|\\.)*"|[A-Za-z_][\w-]*|\d+(?:\.\d+)?|[(){}\[\],=:.]|\S)',
    re.DOTALL,
)


def tokens_of(expression: str) -> list[str]:
    """The tokens of an expression written on its own (a `.tf.json` string such as `"list(string)"`)."""
    return [match["token"] for match in _TOKEN.finditer(expression) if match["token"] is not None]


def blocks(text: str, kind: str) -> Iterator[tuple[str, int]]:
    """(label, position after `{`) of each top-level-looking `kind "label" {` block."""
    pattern = re.compile(
        rf'^[ \t]*{kind}[ \t]+(?:"(?P<quoted>[^"\n]*)"|(?P<bare>[A-Za-z_][\w-]*))[ \t]*\{{', re.MULTILINE
    )
    for block in pattern.finditer(text):
        yield (block["quoted"] if block["quoted"] is not None else block["bare"]), block.end()


def block_tokens(text: str, start: int) -> list[re.Match] | None:
    """The tokens of a block body, from `start` (after its `{`) to its closing `}`."""
    tokens: list[re.Match] = []
    depth = 1
    for match in _TOKEN.finditer(text, start):
        token = match["token"]
        if token is None:
            continue
        if token in "({[":
            depth += 1
        elif token in ")}]":
            depth -= 1
            if depth == 0:
                return tokens
        tokens.append(match)
    return None


def attribute(text: str, tokens: list[re.Match] | None, name: str) -> tuple[int, list[str]] | None:
    """The position and tokens of the block's own `name = ...`: from `=` to the end of its
    line, or further while brackets are open (as HCL reads an attribute)."""
    depth = 0
    for index, match in enumerate(tokens or ()):
        token = match["token"]
        if depth == 0 and token == name and index + 2 < len(tokens) and tokens[index + 1]["token"] == "=":
            expression, inner = [], 0
            for previous, current in zip(tokens[index + 1:], tokens[index + 2:]):
                if inner == 0 and expression and "\n" in text[previous.end():current.start()]:
                    break
                value = current["token"]
                inner += 1 if value in "({[" else -1 if value in ")}]" else 0
                expression.append(value)
            return match.start(), expression
        depth += 1 if token in "({[" else -1 if token in ")}]" else 0
    return None
