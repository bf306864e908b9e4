"""What an EC2 instance's user data runs: its shell lines, the containers and the servers it starts.

User data reaches the facts as a plain script (Terraform `user_data`, the string
inside CloudFormation `Fn::Base64`) or base64-encoded (Terraform
`user_data_base64`, launch template `user_data`); cloud-config `runcmd` items and
files written by heredocs are read as lines too. Parsing is deliberately shallow:
commands are found where they start a simple command, never inside arguments.
"""
from __future__ import annotations

import base64
import binascii
import gzip
import re
import shlex
from dataclasses import dataclass, field
from typing import Any

import yaml

from mllint.records import UNKNOWN
from mllint.yamlio import safe_load

_BASE64 = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")
_ASSIGNMENT = re.compile(r"^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(\S*)$")
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")
_SEPARATORS = {"&&", "||", ";", "|", "&", ";;", "|&"}
# A package installation names software without running it: not evidence of what the instance runs.
_INSTALL = re.compile(r"^(sudo\s+)?((python[0-9.]*\s+-m\s+)?pip[0-9.]*|apt(-get)?|yum|dnf|conda|mamba|apk|zypper)\s+(-\S+\s+)*install\b")
_COMPOSE_IMAGE = re.compile(r"^image:\s*[\"']?([^\s\"']+)")
CONTAINER_CLIS = {"docker", "podman", "nvidia-docker", "nerdctl", "finch"}
WRAPPERS = {"nohup", "exec", "env", "setsid", "time", "nice"}
SUDO_VALUE_OPTIONS = {"-u", "-g"}
SHELLS = {"bash", "sh", "su", "runuser"}
# docker run options that take no value; every other option takes the next word (or `=value`).
FLAG_OPTIONS = {
    "--detach", "--interactive", "--tty", "--rm", "--privileged", "--init", "--read-only",
    "--publish-all", "--no-healthcheck", "--oom-kill-disable", "--quiet", "--sig-proxy",
}
FLAG_LETTERS = "ditPq"
# Servers recognised at the start of a simple command, with the words that must follow.
SERVERS = {
    "tritonserver": (),
    "tensorflow_model_server": (),
    "text-generation-launcher": (),
    "uvicorn": (),
    "gunicorn": (),
    "vllm": ("serve",),
    "mlflow": ("models", "serve"),
    "bentoml": ("serve",),
}
_PYTHON = re.compile(r"^python[0-9.]*$")
PYTHON_SERVER_MODULES = re.compile(r"^(uvicorn|gunicorn|vllm\.entrypoints\.[\w.]+)$")


def decode(value: Any) -> str | None | Any:
    """The user data as text: None when not set, UNKNOWN when it can't be known or read."""
    if value is None:
        return None
    if not isinstance(value, str):
        return UNKNOWN
    packed = "".join(value.split("\n")).replace("\r", "")
    if len(packed) % 4 or not _BASE64.match(packed):
        return value
    try:
        raw = base64.b64decode(packed, validate=True)
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        return raw.decode("utf-8")
    except (binascii.Error, OSError, EOFError, UnicodeDecodeError):
        return UNKNOWN


@dataclass
class UserData:
    """What a script says: its lines, the images and environment it names, what it starts."""

    lines: list[str] = field(default_factory=list)  # package installations left out
    images: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    starts: list[str] = field(default_factory=list)  # "docker run IMAGE", "tritonserver ..."


def read(text: str) -> UserData:
    """Lines, images, container environment and started containers and servers of a script."""
    found = UserData()
    variables: dict[str, str] = {}
    for line in logical_lines(text):
        line = _substitute(line, variables)
        if not _INSTALL.match(line):
            found.lines.append(line)
        image = _COMPOSE_IMAGE.match(line)
        if image:
            found.images.append(image.group(1))
        _read_line(line, found, variables)
    return found


def logical_lines(text: str) -> list[str]:
    """Non-empty, non-comment lines with `\\` continuations joined and cloud-config list markers removed."""
    lines: list[str] = []
    pending = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        line = (pending + stripped).strip()
        pending = ""
        if line.startswith("- "):
            line = _cloud_config_item(line[2:].strip())
        if line.startswith("ExecStart="):
            line = line[len("ExecStart="):]
        if line and not line.startswith("#"):
            lines.append(line)
    if pending.strip():
        lines.append(pending.strip())
    return lines


def _cloud_config_item(item: str) -> str:
    """A cloud-config list item as a shell line: `[ sh, -c, "..." ]` is an argument list."""
    if item.startswith("[") and item.endswith("]"):
        try:
            words = safe_load(item)
        except yaml.YAMLError:
            return item
        if isinstance(words, list) and all(isinstance(w, str) for w in words):
            return shlex.join(words)
    return item.strip("'\"")


def _substitute(line: str, variables: dict[str, str]) -> str:
    """`$NAME` / `${NAME}` replaced by the literal values assigned earlier in the script."""
    return _VARIABLE.sub(lambda m: variables.get(m.group(1) or m.group(2), m.group(0)), line)


def _read_line(line: str, found: UserData, variables: dict[str, str]) -> None:
    """Each simple command of a line: an assignment to remember, or a command to read."""
    for words in _commands(line):
        assignment = _ASSIGNMENT.match(" ".join(words)) if len(words) <= 2 else None
        if assignment:
            variables[assignment.group(1)] = assignment.group(2)
        else:
            _read_command(_strip_wrappers(words), found, variables)


def _commands(line: str) -> list[list[str]]:
    """The words of each simple command of a shell line, without redirections."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        tokens = list(lexer)
    except ValueError:  # unbalanced quotes
        tokens = line.split()
    commands: list[list[str]] = [[]]
    skip = False
    for token in tokens:
        if skip:
            skip = False
        elif token in _SEPARATORS:
            commands.append([])
        elif set(token) <= set("<>&|"):
            skip = True  # a redirection: drop it, its target and the descriptor before it (`2>&1`)
            if commands[-1] and commands[-1][-1].isdigit():
                commands[-1].pop()
        else:
            commands[-1].append(token)
    return [words for words in commands if words]


def _strip_wrappers(words: list[str]) -> list[str]:
    """The command without `sudo -u user`, `nohup`, `env` and leading `VAR=x` assignments."""
    index = 0
    while index < len(words):
        word = words[index]
        if word == "sudo":
            index += 1
            while index < len(words) and words[index].startswith("-"):
                index += 2 if words[index] in SUDO_VALUE_OPTIONS else 1
        elif word in WRAPPERS or ("=" in word and not word.startswith("-")):
            index += 1
        else:
            break
    return words[index:]


def _read_command(words: list[str], found: UserData, variables: dict[str, str]) -> None:
    if not words:
        return
    program = words[0].rsplit("/", 1)[-1]
    if program in CONTAINER_CLIS:
        _container_command(words[1:], found)
    elif program == "docker-compose" and "up" in words[1:]:
        found.starts.append(" ".join(words))
    elif program in SHELLS and "-c" in words[1:-1]:
        _read_line(words[words.index("-c") + 1], found, variables)
    elif _is_server(program, words[1:]):
        found.starts.append(" ".join(words)[:160])


def _is_server(program: str, args: list[str]) -> bool:
    """A model or web server started in the foreground or as a daemon (`torchserve --start`)."""
    if program == "torchserve":
        return "--start" in args
    if program in SERVERS:
        return args[: len(SERVERS[program])] == list(SERVERS[program])
    if _PYTHON.match(program) and len(args) > 1 and args[0] == "-m":
        return bool(PYTHON_SERVER_MODULES.match(args[1]))
    return False


def _container_command(args: list[str], found: UserData) -> None:
    """`docker [container] run|pull ...` and `docker compose up`."""
    if args[:1] == ["container"]:
        args = args[1:]
    if args[:1] == ["compose"] and "up" in args:
        found.starts.append("docker " + " ".join(args))
        return
    if args[:1] == ["pull"] and len(args) > 1:
        found.images.append(args[-1])
        return
    if args[:1] != ["run"]:
        return
    image, env = _run_image(args[1:])
    if image is None:
        return
    found.images.append(image)
    found.env.update(env)
    found.starts.append(f"docker run {image}")


def _run_image(args: list[str]) -> tuple[str | None, dict[str, str]]:
    """The image of a `docker run` and its `-e NAME=value` settings."""
    env: dict[str, str] = {}
    index = 0
    while index < len(args):
        word = args[index]
        if not word.startswith("-") or word == "-":
            return word, env
        option, value = _option(word)
        if value is None and option not in FLAG_OPTIONS and option != "-":
            index += 1
            value = args[index] if index < len(args) else None
        if option in ("-e", "--env") and value and "=" in value:
            name, setting = value.split("=", 1)
            env[name] = setting
        index += 1
    return None, env


def _option(word: str) -> tuple[str, str | None]:
    """(option, attached value) of `--name=value`, `--flag`, `-p8080:80`, `-dit` or `-dp` (value next)."""
    if word.startswith("--"):
        name, _, value = word.partition("=")
        return name, value if "=" in word else None
    letters = word[1:].lstrip(FLAG_LETTERS)
    if not letters:
        return "-", None  # only flags, such as -dit
    return "-" + letters[0], letters[1:] or None
