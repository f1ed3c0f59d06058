"""Fixtures and hooks of the reliability suite: results, the secret witness, the report.

Every test here gets a `Case` in the session's `Results` (pytest's report
decides pass or fail); `docs/RELIABILITY.md` is rendered from them at the end
of the session, but only when RUNPOD_TYPED_WRITE_RELIABILITY=1 and the whole
suite ran, so `make test` leaves the tree clean.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from runpod_typed import AsyncRunpod

from . import harness
from .recorder import SECTIONS, Case, Results, SecretWitness
from .report import write_report

RESULTS = Results()
WITNESS = SecretWitness()
HERE = Path(__file__).resolve().parent
REPORT_PATH = HERE.parent.parent / "docs" / "RELIABILITY.md"
WRITE_ENV = "RUNPOD_TYPED_WRITE_RELIABILITY"


def _section(item: pytest.Item) -> str:
    return str(getattr(getattr(item, "module", None), "SECTION", "other"))


def _expected(item: pytest.Item) -> str:
    doc = getattr(getattr(item, "function", None), "__doc__", None) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def _record_of(item: pytest.Item) -> Case:
    return RESULTS.case(item.nodeid, _section(item), item.name, _expected(item))


@pytest.fixture(scope="package", autouse=True)
def secret_witness() -> Iterator[SecretWitness]:
    """The witness on the root logger, with the SDK logging at DEBUG, for this whole suite."""
    sdk = logging.getLogger("runpod_typed")
    http = logging.getLogger("httpx")  # logs each request's URL at INFO
    saved = sdk.level, http.level
    sdk.setLevel(logging.DEBUG)
    http.setLevel(logging.INFO)
    root = logging.getLogger()
    root.addHandler(WITNESS)
    try:
        yield WITNESS
    finally:
        root.removeHandler(WITNESS)
        sdk.setLevel(saved[0])
        http.setLevel(saved[1])


@pytest.fixture
def case(request: pytest.FixtureRequest) -> Case:
    """This test's entry in the report; tests fill in `expected` and `observed`."""
    return _record_of(request.node)


@pytest.fixture
def results() -> Results:
    return RESULTS


@pytest.fixture
async def async_clients(secret_witness: SecretWitness) -> AsyncIterator[Callable[..., AsyncRunpod]]:
    """Make instrumented async clients (see `harness.async_client`); closed at the end."""
    made: list[AsyncRunpod] = []

    def make(**options: Any) -> AsyncRunpod:
        client = harness.async_client(secret_witness, **options)
        secret_witness.check("client repr", repr(client))
        made.append(client)
        return client

    yield make
    for client in made:
        await client._http.aclose()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the secret-hygiene checks last of this suite: they judge what the rest logged.

    Only this directory's items move, and only among the places they already hold.
    """
    slots = [i for i, item in enumerate(items) if HERE in Path(str(item.path)).parents]
    ours = [items[i] for i in slots]
    ordered = sorted(ours, key=lambda item: _section(item) == "hygiene")
    for slot, item in zip(slots, ordered, strict=True):
        items[slot] = item


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    record = _record_of(item)
    if hasattr(report, "wasxfail"):
        record.outcome = "xfail (known defect)" if report.skipped else "XPASS"
        if report.skipped and not record.observed and call.excinfo is not None:
            record.observed = _first_line(call.excinfo.exconly())
    elif report.failed:
        record.outcome = "FAIL" if report.when == "call" else f"ERROR ({report.when})"
        if call.excinfo is not None:
            note = _first_line(call.excinfo.exconly())
            record.observed = f"{record.observed} -- {note}" if record.observed else note
    elif report.skipped:
        record.outcome = "skipped"
    elif report.when == "call":
        record.outcome = "pass"
    return report


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= 200 else line[:197] + "..."


_NOTES: list[str] = []


def pytest_sessionfinish(session: pytest.Session) -> None:
    if os.environ.get(WRITE_ENV) != "1":
        return
    missing = [
        SECTIONS[name]
        for name in SECTIONS
        if not any(c.section == name and c.outcome != "not run" for c in RESULTS.cases.values())
    ]
    if missing:
        _NOTES.append(f"{WRITE_ENV}=1 but {', '.join(missing)} did not run: report not written")
    else:
        write_report(RESULTS, WITNESS, REPORT_PATH)
        _NOTES.append(f"reliability report written to {REPORT_PATH}")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for note in _NOTES:
        terminalreporter.write_line(note)
