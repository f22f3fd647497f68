"""Logging: filters that keep secrets out of logs, and a JSON formatter for production."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re

# Every URL that carries a secret (one-time links) lives under /t/; its token is never logged.
SECRET_PATH = re.compile(r"/t/[^\s\"'?]+(\?[^\s\"']*)?")


# PostgreSQL's errors carry the row they refused in a DETAIL line ("Failing row contains (...)",
# "Key (code)=(...) already exists"): clinical words and identifiers, never logged.
ROW_DETAIL = re.compile(r"^(\s*DETAIL:).*$", re.MULTILINE)


def redact_secret_paths(text: str) -> str:
    return SECRET_PATH.sub("/t/[redacted]", text) if "/t/" in text else text


def redact(text: str) -> str:
    """Secret paths and database row values out of a message or a traceback."""
    text = redact_secret_paths(text)
    return ROW_DETAIL.sub(r"\1 [row values redacted]", text) if "DETAIL:" in text else text


class RedactSecretPathsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/t/" in message or "DETAIL:" in message:
            record.msg = redact(message)
            record.args = ()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, and the record's `fields`
    (a dict of plain values given as `extra={"fields": {...}}`, e.g. by the request log).
    A traceback, when there is one, is kept as it is in the text format."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update({k: v for k, v in fields.items() if k not in entry})
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)
