"""Log formats: human-readable lines by default, one JSON object per line on request
(``PREFECT_SERVER__LOGGING__FORMAT=json``) for log collectors."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import orjson

from prefect_server.observability import context
from prefect_server.settings import Settings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s | %(message)s"


class TextFormatter(logging.Formatter):
    """The usual line, with the request's context appended when there is one."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        known = context.fields()
        if not known:
            return line
        suffix = " ".join(f"{key}={value}" for key, value in known.items())
        head, newline, rest = line.partition("\n")
        # After the message, before a traceback, so the context stays on the first line.
        return f"{head} [{suffix}]{newline}{rest}"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(context.fields())
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        return orjson.dumps(entry, default=str).decode()


def configure(settings: Settings) -> None:
    """Set up the root logger (and uvicorn's, which bring their own handlers)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if settings.logging.format == "json" else TextFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(settings.log_level)


def uvicorn_log_config(settings: Settings) -> dict[str, Any] | None:
    """uvicorn's own loggers routed through ours, so JSON mode has no plain lines."""
    if settings.logging.format != "json":
        return None
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "loggers": {
            name: {"handlers": [], "propagate": True}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        },
    }
