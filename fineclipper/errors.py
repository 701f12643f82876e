"""Errors a person can act on: bad input at the command line ends in one line naming the argument or
file and the problem, never a traceback."""

from __future__ import annotations

import json
import sys
import tarfile
from collections.abc import Callable


class ConfigError(ValueError):
    """A config value the schema or a cross-check rejects; the message names the key."""


#: What bad input raises: a wrong value, a missing or unwritable file, a file that is not a shard.
EXPECTED = (ValueError, OSError, tarfile.TarError)


def json_argument(text: str, name: str):
    """A command-line argument holding JSON, or an error naming the argument."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"{name} is not valid JSON ({e.msg} at character {e.pos}): {text[:80]!r}") from None


def run_command(prog: str, command: Callable, *args) -> None:
    """Run a command; expected errors end the program with one line (exit status 2)."""
    try:
        command(*args)
    except EXPECTED as e:
        print(f"{prog}: error: {one_line(e)}", file=sys.stderr)
        sys.exit(2)


def one_line(error: BaseException) -> str:
    """An error's message on one line; for an error re-raised from a worker process (its message holds the
    worker's traceback), the worker's own last line."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    if not lines:
        return type(error).__name__
    return lines[-1] if any(line.startswith("Traceback") for line in lines) else lines[0]
