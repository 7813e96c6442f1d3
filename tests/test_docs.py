"""The docs and the command line cannot drift apart (issue 19): every ``lienthong …`` command
shown in the README and docs/ — in code blocks and in backticks — names a command that exists,
with options that command takes."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer

from tools.cli import program

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"```[a-z]*\n(.*?)```", re.S)
INLINE = re.compile(r"`(lienthong [^`\n]+)`")


def shown_commands(text: str) -> list[str]:
    found = []
    for block in FENCE.findall(text):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            line = line.strip().removeprefix("$ ")
            if line.startswith("lienthong "):
                found.append(line)
    prose = FENCE.sub("", text)
    found += INLINE.findall(prose)
    return found


def words(command: str) -> list[str]:
    command = re.sub(r"\s#.*$", "", command)  # a comment
    command = re.sub(r"\[[^\]]*\]", "", command)  # [optional parts]
    command = re.sub(r"\$\([^)]*\)", "X", command)  # $(date +%F)
    try:
        return shlex.split(command)
    except ValueError:
        return command.split()


def check(root: Any, command: str) -> str | None:
    """Why ``command`` is not one the program takes (None: it is). ``root``: the program's
    command tree (typer's own click: groups have ``commands``, commands ``params``)."""
    parts = words(command)[1:]
    current = root
    path = ["lienthong"]
    while hasattr(current, "commands") and parts and not parts[0].startswith("-"):
        sub = current.commands.get(parts[0])
        if sub is None:
            return f"{' '.join(path)} has no command {parts[0]!r}"
        path.append(parts.pop(0))
        current = sub
    if hasattr(current, "commands") and not parts:
        return None  # a group named alone (its --help lists the rest)
    options = {opt for param in current.params for opt in param.opts + param.secondary_opts}
    options |= {"--help"}
    if current is not root:
        options |= {opt for param in root.params for opt in param.opts}
    for part in parts:
        if part.startswith("--") and part.split("=", 1)[0] not in options:
            return f"{' '.join(path)} takes no option {part.split('=', 1)[0]}"
    return None


SHOWN = [(doc.name, command) for doc in DOCS for command in shown_commands(doc.read_text())]


def test_the_docs_show_commands() -> None:
    assert len(SHOWN) > 40


@pytest.mark.parametrize(("doc", "command"), SHOWN)
def test_a_command_the_docs_show_exists(doc: str, command: str) -> None:
    problem = check(typer.main.get_command(program()), command)
    assert problem is None, f"{doc}: `{command}`: {problem}"
