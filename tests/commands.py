"""`raglab` commands run in this process through typer's CliRunner: the command's own options, output and
exit code, without a fresh interpreter reloading torch, spaCy and the models for every call.

What only a real process shows (a signal, a crash, a lock held by another process, a server starting,
the entry point itself) is tested with `python -m app.cli` in a subprocess instead.
"""

import os
import traceback
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from app.cli import app


@dataclass(frozen=True)
class Ran:
    """What a user sees of a finished command."""

    returncode: int
    stdout: str
    stderr: str


def raglab(*args: str, home: Path, env: dict[str, str] | None = None) -> Ran:
    """Run `raglab ARGS` on the lab home `home`; the environment is restored afterwards, since commands
    pass their flags on through it (`app/cli_support.settings_from`)."""
    saved = dict(os.environ)
    os.environ.update({"RAGLAB_HOME": str(home), **(env or {})})
    try:
        result = CliRunner().invoke(app, list(args))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    stderr = result.stderr
    if result.exc_info and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(*result.exc_info))
    return Ran(result.exit_code, result.stdout, stderr)
