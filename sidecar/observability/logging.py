"""structlog, configured once: JSON lines on stderr, request id bound through contextvars.

Never log document content or API keys: the canonical line carries the digest.
"""

from __future__ import annotations

import logging
import sys

import structlog

from sidecar.config import LoggingSettings


def configure_logging(settings: LoggingSettings) -> None:
    level = logging.getLevelNamesMapping().get(settings.level.upper(), logging.INFO)
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if settings.json_logs else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
