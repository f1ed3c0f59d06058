"""The `runpod_typed` logger and the redactor that keeps API keys out of every log line.

The library never configures logging for the application: it logs through
`logger` (a `NullHandler` keeps Python from printing warnings when the
application set nothing up). `enable_debug` is the opt-in behind `debug=True`
and `RUNPOD_LOG=debug`.

Redaction is process-wide because keys cross client boundaries (a factory's
tenants, a rotated key still in flight): every key the SDK hands to a request is
registered, and the filter on `logger` rewrites each emitted record -- message,
arguments, exception text and stack -- before any handler sees it. All SDK code
logs through `logger` itself (a filter on a logger does not see records of its
child loggers).
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import TextIO

logger = logging.getLogger("runpod_typed")
logger.addHandler(logging.NullHandler())

MASK = "***"

# Patterns that hide credentials even when their value was never registered:
# an Authorization header value, and the `api_key=` query parameter the official
# package puts in GraphQL URLs.
_GENERIC = re.compile(
    r"(?P<keep>\bBearer\s+|[?&;]api_key=)(?P<secret>[^\s&#'\",;)\]}>]+)", re.IGNORECASE
)


#: Shorter "keys" (test keys such as "k") are not masked: hiding every "k" in every
#: line would garble the logs while protecting nothing. Real RunPod keys are far longer.
MIN_SECRET_LENGTH = 8
#: The most recently used secrets kept for masking; bounded for services with many
#: tenants or rotating keys (the pattern is rebuilt when a new secret arrives).
MAX_SECRETS = 256


class _Redactor:
    """The recently used secrets and one compiled pattern that matches any of them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._secrets: OrderedDict[str, None] = OrderedDict()
        self._pattern: re.Pattern[str] | None = None

    def register(self, secret: str) -> None:
        if len(secret) < MIN_SECRET_LENGTH or secret in self._secrets:
            return
        with self._lock:
            if secret in self._secrets:
                return
            self._secrets[secret] = None
            while len(self._secrets) > MAX_SECRETS:
                self._secrets.popitem(last=False)
            # Longest first, so a key that contains another key is hidden whole.
            ordered = sorted(self._secrets, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(s) for s in ordered))

    def redact(self, text: str) -> str:
        pattern = self._pattern
        if pattern is not None:
            text = pattern.sub(MASK, text)
        return _GENERIC.sub(lambda m: m.group("keep") + MASK, text)


_redactor = _Redactor()


def register_secret(value: str) -> None:
    """Make `redact` (and so every SDK log record) hide `value` from now on."""
    _redactor.register(value)


def redact(text: str) -> str:
    """`text` with every registered secret, Bearer token and `api_key=` value masked."""
    return _redactor.redact(text)


class RedactingFilter(logging.Filter):
    """Rewrites a record so that no handler or formatter can print a secret.

    The message is formatted here (args folded in), so a secret hidden in an
    argument's `repr` is caught too; exception and stack text are pre-rendered
    into the record's cache fields, which `logging.Formatter` prints as given.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep what we can, safely
            message = f"{record.msg!s} {record.args!r}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


_filter = RedactingFilter()
logger.addFilter(_filter)

_DEBUG_FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"


_DEBUG_HANDLER_NAME = "runpod_typed.debug"


def enable_debug(stream: TextIO | None = None) -> logging.Handler:
    """Log everything the SDK does at DEBUG to `stream` (stderr by default).

    Idempotent: a second call reuses the handler (switching it to `stream` if one
    is given) instead of printing every line twice.
    """
    handler = next(
        (h for h in logger.handlers if h.name == _DEBUG_HANDLER_NAME),
        None,
    )
    if not isinstance(handler, logging.StreamHandler):
        handler = logging.StreamHandler(sys.stderr)
        handler.set_name(_DEBUG_HANDLER_NAME)
        handler.setFormatter(logging.Formatter(_DEBUG_FORMAT))
        handler.addFilter(_filter)
        logger.addHandler(handler)
    if stream is not None:
        handler.setStream(stream)
    handler.setLevel(logging.DEBUG)
    logger.setLevel(logging.DEBUG)
    return handler


def debug_from_env(env: Mapping[str, str] | None = None) -> bool:
    """Whether `RUNPOD_LOG=debug` (any case) asks for debug logging."""
    source = os.environ if env is None else env
    return source.get("RUNPOD_LOG", "").strip().lower() == "debug"
