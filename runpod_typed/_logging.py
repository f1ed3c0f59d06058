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
from collections import OrderedDict, deque
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
#: Secrets no live owner holds (registered without one, or whose owners are gone): the
#: most recent are kept for masking, bounded for services with rotating keys. Secrets a
#: live owner holds (a client's key provider) are kept however many there are.
MAX_SECRETS = 256


#: Where a secret can be: a run of the characters a key may have (visible ASCII).
_RUN = re.compile(rf"[\x21-\x7e]{{{MIN_SECRET_LENGTH},}}")


class _Redactor:
    """Every secret a live owner holds, the most recent others, and a scan that finds them.

    A client registers each key it sends with its key provider as the owner; the key
    is masked for as long as any owner holding it is alive (a service with 10,000
    tenants masks all 10,000), then joins the bounded list of recent ones. Secrets
    are found without a compiled pattern (compiling one costs the number of secrets,
    again at every change): each run of visible characters in the text is scanned
    for a secret's first `MIN_SECRET_LENGTH` characters (a set lookup), and where one
    starts, the longest secret there is masked. The cost is the text's length, not
    the number of secrets (about 50 us for a log line, a few ms for a traceback).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        #: secret -> how many live owners hold it.
        self._owned: dict[str, int] = {}
        #: owner -> the secrets it registered (the set is shared with its finalizer).
        self._held: weakref.WeakKeyDictionary[object, set[str]] = weakref.WeakKeyDictionary()
        #: Ownerless or released secrets, oldest first.
        self._recent: OrderedDict[str, None] = OrderedDict()
        #: Sets of secrets whose owner was collected; drained under the lock (a finalizer
        #: may run in any thread, during garbage collection, with the lock held).
        self._released: deque[set[str]] = deque()
        #: What the scan reads: the secrets by length, and their first characters (counted).
        self._by_length: dict[int, set[str]] = {}
        self._starts: dict[str, int] = {}
        self._lengths: tuple[int, ...] = ()

    @property
    def _secrets(self) -> list[str]:
        """Every secret masked now."""
        with self._lock:
            self._drain()
            return [*self._owned, *self._recent]

    def register(self, secret: str, owner: object | None = None) -> None:
        if len(secret) < MIN_SECRET_LENGTH:
            return
        if owner is None:
            if secret in self._owned or secret in self._recent:
                return
        else:
            held = self._held.get(owner)
            if held is not None and secret in held:
                return
        with self._lock:
            self._drain()
            if owner is None:
                self._remember(secret)
                return
            held = self._held.get(owner)
            if held is None:
                held = self._held[owner] = set()
                weakref.finalize(owner, self._released.append, held).atexit = False
            if secret in held:
                return
            held.add(secret)
            if secret in self._recent:
                del self._recent[secret]
            elif secret not in self._owned:
                self._index(secret)
            self._owned[secret] = self._owned.get(secret, 0) + 1

    def _index(self, secret: str) -> None:
        """Make the scan find `secret` (lock held)."""
        self._by_length.setdefault(len(secret), set()).add(secret)
        start = secret[:MIN_SECRET_LENGTH]
        self._starts[start] = self._starts.get(start, 0) + 1
        self._lengths = tuple(sorted(self._by_length, reverse=True))

    def _unindex(self, secret: str) -> None:
        same_length = self._by_length[len(secret)]
        same_length.discard(secret)
        if not same_length:
            del self._by_length[len(secret)]
            self._lengths = tuple(sorted(self._by_length, reverse=True))
        start = secret[:MIN_SECRET_LENGTH]
        if self._starts[start] <= 1:
            del self._starts[start]
        else:
            self._starts[start] -= 1

    def _remember(self, secret: str) -> None:
        """Keep a secret no live owner holds among the recent ones (lock held)."""
        if secret in self._owned or secret in self._recent:
            return
        self._recent[secret] = None
        self._index(secret)
        while len(self._recent) > MAX_SECRETS:
            oldest, _ = self._recent.popitem(last=False)
            self._unindex(oldest)

    def _drain(self) -> None:
        """Move the secrets of collected owners to the recent ones (lock held)."""
        while self._released:
            for secret in self._released.popleft():
                left = self._owned.get(secret, 0) - 1
                if left > 0:
                    self._owned[secret] = left
                elif secret in self._owned:
                    del self._owned[secret]
                    self._unindex(secret)
                    self._remember(secret)

    def redact(self, text: str) -> str:
        if self._released:
            with self._lock:
                self._drain()
        if self._starts:
            text = self._scan(text)  # no lock: lookups in dicts and sets are atomic
        return _GENERIC.sub(lambda m: m.group("keep") + MASK, text)

    def _scan(self, text: str) -> str:
        starts, by_length, lengths = self._starts, self._by_length, self._lengths
        if not lengths:
            return text
        shortest = lengths[-1]
        parts: list[str] = []
        done = 0
        for run in _RUN.finditer(text):
            at, end = run.span()
            while at <= end - shortest:
                if text[at : at + MIN_SECRET_LENGTH] in starts:
                    found = next(
                        (
                            n
                            for n in lengths
                            if at + n <= end and text[at : at + n] in by_length.get(n, ())
                        ),
                        0,
                    )
                    if found:
                        parts += (text[done:at], MASK)
                        at = done = at + found
                        continue
                at += 1
        if not parts:
            return text
        parts.append(text[done:])
        return "".join(parts)


_redactor = _Redactor()


def register_secret(value: str, owner: object | None = None) -> None:
    """Make `redact` (and so every SDK log record) hide `value` from now on.

    With an `owner` (a client's key provider), for as long as the owner lives;
    without one, while it is among the `MAX_SECRETS` most recent such values.
    """
    _redactor.register(value, owner)


def redact(text: str) -> str:
    """`text` with every registered secret, Bearer token and `api_key=` value masked."""
    return _redactor.redact(text)


#: How far past the cut `redacted_excerpt` scans, so that a key the cut would split is
#: masked whole first (RunPod's keys are a few dozen characters).
EXCERPT_MARGIN = 1024


def redacted_excerpt(text: str, limit: int) -> str:
    """The first `limit` characters of `text` (then "..."), redacted.

    Only that much (plus `EXCERPT_MARGIN`) is scanned: an error keeps an excerpt of a
    body, and a proxy's multi-megabyte error page must not cost seconds to redact.
    """
    text = text.strip()
    if len(text) <= limit:
        return redact(text)
    return redact(text[: limit + EXCERPT_MARGIN])[:limit] + "..."


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
