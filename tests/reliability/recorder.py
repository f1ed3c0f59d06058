"""What the reliability suite saw, kept so docs/RELIABILITY.md is generated, not written.

Tests fill one `Results` per session: a `Case` per test (expected and observed
outcome; pass/fail comes from pytest's own report) and named figures for the
soak and the cancellation trials. `SecretWitness` is the suite-wide check that
the API key shows up nowhere a user could see it: every log record, every URL
and body sent, and every text the tests hand it (reprs, exception messages).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

#: The key every client of the suite uses; distinctive, so a leak cannot hide.
SECRET_KEY = "sk-SECRET-reliability-123"
#: A second key (the wrong one in the 401 case); it must not leak either.
WRONG_KEY = "sk-WRONG-reliability-456"
SECRETS = (SECRET_KEY, WRONG_KEY)

SECTIONS = {
    "soak": "Fault soak",
    "cancellation": "Cancellation trials",
    "sync-cancellation": "Blocking client: Ctrl-C and the first failure in map",
    "deadlines": "Hung servers: time to give up",
    "hostile": "Hostile servers: time to give up per call and byte pattern",
    "memory": "Endless answers: memory bound",
    "cookies": "Cookies",
    "corpus": "Bad-input corpus",
    "misuse": "Key functions, config files, event loops",
    "tracebacks": "Secrets in tracebacks (locals, chained exceptions, 300 tenants)",
    "pickling": "Pickling exceptions",
    "hygiene": "Secret hygiene",
}


@dataclass
class Case:
    """One test of the suite as the report shows it."""

    section: str
    name: str
    expected: str
    observed: str = ""
    outcome: str = "not run"


@dataclass
class Results:
    """Everything the report is generated from."""

    cases: dict[str, Case] = field(default_factory=dict)
    figures: dict[str, dict[str, Any]] = field(default_factory=dict)

    def case(self, nodeid: str, section: str, name: str, expected: str) -> Case:
        found = self.cases.get(nodeid)
        if found is None:
            found = self.cases[nodeid] = Case(section, name, expected)
        return found

    def figure(self, section: str, name: str, value: Any) -> None:
        self.figures.setdefault(section, {})[name] = value


def describe(exc: BaseException) -> str:
    """An exception as one short line: its type and the first line of its message."""
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    if len(first) > 140:
        first = first[:137] + "..."
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


class SecretWitness(logging.Handler):
    """Counts what it has checked for the key and keeps every place the key was found.

    Installed on the root logger for the whole session, it sees every record of
    the `runpod_typed` logger (at DEBUG) after the SDK's redaction, as an
    application's own handler would, and every other library's records too.
    """

    def __init__(self, secrets: Iterable[str] = SECRETS) -> None:
        super().__init__(logging.DEBUG)
        self.secrets = tuple(secrets)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.checked: dict[str, int] = {}
        self.leaks: list[str] = []
        self._lock = threading.Lock()

    def check(self, kind: str, text: str) -> None:
        """Look for a secret in `text`, one item of `kind` (log line, URL, repr, ...)."""
        with self._lock:
            self.checked[kind] = self.checked.get(kind, 0) + 1
            if any(secret in text for secret in self.secrets):
                self.leaks.append(f"{kind}: {text[:300]}")

    def check_exception(self, exc: BaseException) -> None:
        """str, repr and the attributes errors carry (body, url, raw, errors, data)."""
        self.check("exception text", str(exc))
        self.check("exception repr", repr(exc))
        for name in ("body", "url", "raw", "errors", "data"):
            if hasattr(exc, name):
                self.check("exception attribute", repr(getattr(exc, name)))

    def emit(self, record: logging.LogRecord) -> None:
        self.check("log line", self.format(record))
