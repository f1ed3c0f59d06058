"""Suite-wide secret hygiene: every SDK log line of the whole run, at DEBUG, holds no key.

The `runpod_typed` logger is set to DEBUG for the session and every record it
emits is formatted and kept. At the end, each API key the SDK handed out (the
redactor's registry: every key long enough to be masked) is searched for in all
of them; a hit fails the run and names the test's log line.
"""

from __future__ import annotations

import logging

import pytest

from runpod_typed._logging import _redactor, logger


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


_capture = _Capture()


def pytest_sessionstart(session: pytest.Session) -> None:
    logger.addHandler(_capture)
    logger.setLevel(logging.DEBUG)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    logger.removeHandler(_capture)
    keys = list(_redactor._secrets)
    leaks = [line for line in _capture.lines if any(key in line for key in keys)]
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(
            f"secret hygiene: {len(_capture.lines)} DEBUG log lines checked against "
            f"{len(keys)} API keys: {len(leaks)} leak(s)"
        )
        for line in leaks[:5]:
            reporter.write_line(f"  LEAK: {line[:200]}")
    if leaks:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
