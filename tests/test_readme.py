"""The README's console blocks are real output: every one is run and compared.

The rule, for whoever adds a block:
- Every ```console block of README.md runs, in the order of the README, in one fresh temporary
  directory (so a block may use what an earlier one wrote). `.venv` there is the repository's, and
  its `bin` is first on PATH: write `gtlake ...` (or `.venv/bin/gtlake ...`).
- A line starting with `$ ` is a command, run by bash; the next lines continue it while a quote is
  open. The lines after it, up to the next `$ ` line or the end of the block, are its output:
  standard output and standard error together.
- Compared line by line, trailing spaces ignored. A line `...` stands for any number of lines.
  Times (`0.7s`, `12 ms`) compare equal to any time. Nothing else is normalised: show real output.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow  # runs the whole tour and walk-through (~20 commands)

README = ROOT / "README.md"
TIME = re.compile(r"\b\d+(\.\d+)?\s?m?s\b")
ELLIPSIS = "..."


@dataclass
class Command:
    line: int  # where the command is in README.md (1-based)
    text: str
    expected: list[str]


def console_commands(markdown: str) -> list[Command]:
    """Every `$ ` command of every console block, with the lines it should print."""
    commands: list[Command] = []
    inside = False
    pending: list[str] = []  # the lines of a command whose quotes are still open
    for number, line in enumerate(markdown.splitlines(), start=1):
        if not inside:
            inside = line.strip() == "```console"
            continue
        if line.strip() == "```":
            inside = False
            continue
        if pending:
            pending.append(line)
        elif line.startswith("$ "):
            pending = [line[2:]]
            commands.append(Command(number, "", []))
        else:
            commands[-1].expected.append(line)
            continue
        text = "\n".join(pending)
        if _complete(text):
            commands[-1].text = text
            pending = []
    return commands


def _complete(text: str) -> bool:
    try:
        shlex.split(text, comments=True)
    except ValueError:  # "No closing quotation"
        return False
    return True


def _normal(line: str) -> str:
    return TIME.sub("<time>", line.rstrip())


def matches(expected: list[str], actual: list[str]) -> bool:
    """Whether `actual` fits `expected`, where a `...` line stands for any number of lines."""
    if not expected:
        return not actual
    if expected[0] == ELLIPSIS:
        return any(matches(expected[1:], actual[i:]) for i in range(len(actual) + 1))
    return (
        bool(actual)
        and _normal(expected[0]) == _normal(actual[0])
        and matches(expected[1:], actual[1:])
    )


def test_the_rule_reads_commands_outputs_and_ellipses() -> None:
    text = '```console\n$ echo "a\nb"\na\nb\n$ true\n```\n```sh\n$ not run\n```\n'
    assert console_commands(text) == [Command(2, 'echo "a\nb"', ["a", "b"]), Command(6, "true", [])]
    assert matches(["x", "...", "z in 0.1s"], ["x", "1", "2", "z in 12.5s"])
    assert matches(["...", "z"], ["z"]) and not matches(["x", "..."], ["y"])
    assert not matches(["z in 0.1s"], ["z in 0.1s", "more"])


def test_every_console_block_prints_what_the_readme_shows(tmp_path: Path) -> None:
    commands = console_commands(README.read_text(encoding="utf-8"))
    assert commands, "README.md has no console block"
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    env = {**os.environ, "PATH": f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    for name in ("AWS_ENDPOINT_URL", "GTLAKE_SQL_DIR", "COLUMNS"):
        env.pop(name, None)
    for command in commands:
        done = subprocess.run(
            ["bash", "-c", command.text],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=300,
        )
        actual = done.stdout.splitlines()
        assert matches(command.expected, actual), (
            f"README.md:{command.line}: $ {command.text}\n"
            + "--- README shows:\n" + "\n".join(command.expected)
            + "\n--- the command printed:\n" + "\n".join(actual)
        )  # fmt: skip
