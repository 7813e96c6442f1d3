"""Structured logs: JSON lines off a terminal, readable key=value on one."""

from __future__ import annotations

import logging
import os
import sys
from typing import Any, TextIO

import structlog


class LineLogger:
    """Writes each event as one ``write(2)`` of a whole line: hub processes that share a log
    file (``serve --workers N``) can never interleave halves of each other's lines."""

    def __init__(self, file: TextIO) -> None:
        self._fd = file.fileno()

    def msg(self, message: str) -> None:
        data = (message + "\n").encode("utf-8", errors="replace")
        while data:
            written = os.write(self._fd, data)
            data = data[written:]

    log = debug = info = warn = warning = msg
    err = error = critical = exception = fatal = msg


def _line_logger(*_: Any) -> LineLogger:
    return LineLogger(sys.stderr)


def configure(level: str = "INFO", *, quiet_drivers: bool = False) -> None:
    """Set up structlog; ``quiet_drivers`` silences the AMQP drivers' own log lines (for
    one-shot commands, whose errors are reported once, in one line)."""
    logging.basicConfig(
        level=getattr(logging, level.upper()), stream=sys.stderr, format="%(message)s"
    )
    if quiet_drivers:
        for name in ("aio_pika", "aiormq"):
            logging.getLogger(name).setLevel(logging.CRITICAL + 1)
    renderer: structlog.types.Processor
    if sys.stderr.isatty():
        renderer = structlog.dev.ConsoleRenderer(colors=True)
    else:
        renderer = structlog.processors.JSONRenderer(ensure_ascii=False)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level.upper())),
        logger_factory=_line_logger
        if _has_fd(sys.stderr)
        else structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )


def _has_fd(file: TextIO) -> bool:
    try:
        file.fileno()
    except (OSError, ValueError, AttributeError):
        return False  # pytest's capture, a StringIO: no descriptor to write to
    return True
