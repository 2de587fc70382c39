"""The library's log records shown while a command runs: progress on stderr with the
elapsed time, at the level -q, -v or --debug asks for."""

from __future__ import annotations

import logging
import time
from typing import Any

import click

LIBRARY = logging.getLogger("cdisc_mapper")
"""The library's loggers' parent (``cdisc_mapper.sdtm.pipeline``, ``cdisc_mapper.adam`` ...)."""


log = logging.getLogger("cdisc_mapper.cli")
"""The command's own steps (the logger the single-module command line had)."""


class _Progress(logging.Handler):
    """The library's log records on stderr with the elapsed time, so long runs show where
    they are: progress (INFO) by default, warnings only with -q, details (DEBUG) too with
    -v or --debug. Called with a message, it logs the command's own step (INFO)."""

    def __init__(self) -> None:
        super().__init__()
        self.start = time.perf_counter()

    def emit(self, record: logging.LogRecord) -> None:
        elapsed = time.perf_counter() - self.start
        kind = "warning: " if record.levelno == logging.WARNING else ""
        if record.levelno >= logging.ERROR:
            kind = "error: "
        click.echo(f"[{elapsed:6.1f}s] {kind}{record.getMessage()}", err=True)

    def __call__(self, message: str) -> None:
        log.info(message)


def _log_level(flags: dict[str, Any]) -> int:
    """-v/--debug: DEBUG; -q: WARNING; else INFO (given together, -v wins)."""
    if flags.get("verbose") or flags.get("debug"):
        return logging.DEBUG
    return logging.WARNING if flags.get("quiet") else logging.INFO


def _attach_progress(ctx: click.Context) -> _Progress:
    """Show the library's log records for the run (detached when the command ends)."""
    handler = _Progress()
    level = LIBRARY.level
    LIBRARY.addHandler(handler)
    LIBRARY.setLevel(_log_level(ctx.obj))

    def detach() -> None:
        LIBRARY.removeHandler(handler)
        LIBRARY.setLevel(level)

    ctx.call_on_close(detach)
    return handler


def _note(message: str) -> None:
    click.echo(f"note: {message}", err=True)
