"""The `runpod_typed` logger and the redactor that keeps API keys out of every log line.

The library never configures logging for the application: it logs through
`logger` (a `NullHandler` keeps Python from printing warnings when the
application set nothing up). `enable_debug` is the opt-in behind `debug=True`
and `RUNPOD_LOG=debug`, following the stdlib's conventions for libraries:

- It lowers the level of the `runpod_typed` logger (only) to DEBUG, and
  `disable_debug` puts the previous level back when the last client that asked
  for it is closed (or garbage-collected): nothing outlives the clients.
- It prints through a handler of its own only while logging is not configured,
  like `logging.lastResort` (and `logging.basicConfig`, which does nothing once
  the root logger has a handler): when the application (or pytest) has put a
  handler on the root logger or on `runpod_typed`, the SDK's DEBUG records go to
  those handlers alone, in the application's format, each line once. The check
  is made for every record, so logging configured after the client was made is
  respected too.

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
import weakref
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, TextIO

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


class _DebugHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to its stream, or to whatever `sys.stderr` is at the time (pytest's capture,
    a redirect), and only records that no configured handler will print."""

    def __init__(self, stream: TextIO | None) -> None:
        logging.Handler.__init__(self, logging.DEBUG)
        self._explicit: TextIO | None = stream
        self.set_name(_DEBUG_HANDLER_NAME)
        self.setFormatter(logging.Formatter(_DEBUG_FORMAT))
        self.addFilter(_filter)
        self.addFilter(self._unless_configured)

    @property
    def stream(self) -> TextIO:
        return self._explicit if self._explicit is not None else sys.stderr

    @stream.setter
    def stream(self, value: TextIO | None) -> None:
        self._explicit = value

    def _unless_configured(self, record: logging.LogRecord) -> bool:
        """False when another handler on the record's way up will print it anyway."""
        current: logging.Logger | None = logging.getLogger(record.name)
        while current is not None:
            for handler in current.handlers:
                if handler is not self and not isinstance(handler, logging.NullHandler):
                    return False
            if not current.propagate:
                break
            current = current.parent
        return True


class _DebugSwitch:
    """Who asked for debug logging, and what to put back when nobody does any more."""

    def __init__(self) -> None:
        # Reentrant: an owner's finalizer may run (garbage collection) inside enable().
        self.lock = threading.RLock()
        self.owners: dict[int | None, weakref.finalize[Any, Any] | None] = {}
        self.handler: _DebugHandler | None = None
        self.saved_level = logging.NOTSET

    def sync(self) -> None:
        """Make the logger's state match whether anybody still wants debug logging."""
        with self.lock:
            if self.owners and self.handler is None:
                self.saved_level = logger.level
                self.handler = _DebugHandler(None)
                logger.addHandler(self.handler)
                logger.setLevel(logging.DEBUG)
            elif not self.owners and self.handler is not None:
                logger.removeHandler(self.handler)
                self.handler = None
                # The application may have set a level of its own since: keep that one.
                if logger.level == logging.DEBUG:
                    logger.setLevel(self.saved_level)

    def release(self, key: int | None) -> None:
        with self.lock:
            finalizer = self.owners.pop(key, None)
            if finalizer is not None:
                finalizer.detach()
            self.sync()


_debug = _DebugSwitch()


def enable_debug(stream: TextIO | None = None, *, owner: object | None = None) -> logging.Handler:
    """Log everything the SDK does at DEBUG, until `disable_debug(owner)`.

    `owner` is the client that asked (debug stays on while any owner remains; one
    that is garbage-collected without being closed lets go too). Without an owner,
    debug stays on until `disable_debug()` without one. Asking twice is the same as
    once: one handler, each line printed once.

    The returned handler writes to `stream` (default: the current `sys.stderr`),
    but only while neither the root logger nor the `runpod_typed` logger has a
    handler of the application's; otherwise those handlers print the records.
    """
    with _debug.lock:
        key = None if owner is None else id(owner)
        if key not in _debug.owners:
            finalizer = None
            if owner is not None:
                finalizer = weakref.finalize(owner, _debug.release, key)
                finalizer.atexit = False
            _debug.owners[key] = finalizer
        _debug.sync()
        handler = _debug.handler
        assert handler is not None
        if stream is not None:
            handler.setStream(stream)
        return handler


def disable_debug(owner: object | None = None) -> None:
    """Undo `enable_debug(owner=owner)`; the last one out restores the logger's level.

    Safe to call more than once, and for an owner that never enabled debug (a
    client's `close()` may call it unconditionally).
    """
    _debug.release(None if owner is None else id(owner))


def debug_from_env(env: Mapping[str, str] | None = None) -> bool:
    """Whether `RUNPOD_LOG=debug` (any case) asks for debug logging."""
    source = os.environ if env is None else env
    return source.get("RUNPOD_LOG", "").strip().lower() == "debug"
