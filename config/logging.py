"""Logging filters that keep secrets out of logs."""

from __future__ import annotations

import logging
import re

# Every URL that carries a secret (one-time links) lives under /t/; its token is never logged.
SECRET_PATH = re.compile(r"/t/[^\s\"'?]+(\?[^\s\"']*)?")


class RedactSecretPathsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/t/" in message:
            record.msg = SECRET_PATH.sub("/t/[redacted]", message)
            record.args = ()
        return True
