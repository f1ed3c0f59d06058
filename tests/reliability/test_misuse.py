"""Misuse: a key function that raises, a config file others can read, a second event loop.

Each mistake must reach the caller as a typed, explained `RunpodError` (or, for
the file, one warning) that quotes no key:
- a key function (`api_key=callable`) that raises: ConfigurationError naming
  what it raised, redacted, with nothing chained (the function's exception may
  quote a key it handed out before, or a secret of its own);
- a group- or world-readable `~/.runpod/config.toml`: one InsecureConfigWarning
  per file, naming it and the `chmod` to run (as ssh warns about a private key);
- an `AsyncRunpod` (or a factory's async tenants) used from a second event loop:
  WrongEventLoopError (also a RuntimeError), before anything is sent, instead of
  httpx's raw "Event loop is closed".
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runpod_typed import (
    AsyncRunpod,
    ConfigurationError,
    InsecureConfigWarning,
    Runpod,
    RunpodError,
    RunpodFactory,
    WrongEventLoopError,
)

from . import hostile_server as hs
from .recorder import Case, SecretWitness

SECTION = "misuse"
pytestmark = pytest.mark.reliability

KEY = "rpa_MISUSE0000000000000000000001"


@pytest.fixture(scope="module")
def server() -> Iterator[hs.HostileServer]:
    with hs.HostileServer() as running:
        yield running


class _Rotating:
    """Hands out its key once, then fails quoting it (a vault that stopped renewing)."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls > 1:
            raise PermissionError(f"vault: token expired while renewing {self.key}")
        return self.key


@pytest.mark.parametrize("client", ["sync", "async"])
def test_raising_key_function_is_a_configuration_error(
    client: str, server: hs.HostileServer, case: Case, secret_witness: SecretWitness
) -> None:
    """A key function that raises: ConfigurationError, its text redacted, nothing chained."""
    key = f"{KEY}-{client}"
    server.plan(key, hs.Plan())
    source = _Rotating(key)
    caught: BaseException | None = None
    if client == "sync":
        with Runpod(source, **server.urls()) as rp:
            rp.endpoint("e").health()
            try:
                rp.endpoint("e").health()
            except Exception as exc:
                caught = exc
    else:

        async def main() -> None:
            nonlocal caught
            async with AsyncRunpod(source, **server.urls()) as arp:
                await arp.endpoint("e").health()
                try:
                    await arp.endpoint("e").health()
                except Exception as exc:
                    caught = exc

        asyncio.run(main())
    assert caught is not None
    secret_witness.check_exception(caught)
    case.expected = "ConfigurationError naming PermissionError; no key; no __cause__/__context__"
    case.observed = f"{type(caught).__name__}: {caught}"[:200]
    assert isinstance(caught, ConfigurationError), repr(caught)
    assert "PermissionError" in str(caught)
    assert key not in str(caught) and key not in repr(caught)
    assert caught.__cause__ is None and caught.__context__ is None
    assert len(server.seen(key).requests) == 1  # the second request was never sent


def _file(tmp_path: Path, mode: int, name: str) -> Path:
    path = tmp_path / name / "config.toml"
    path.parent.mkdir()
    path.write_text(f'[default]\napi_key = "{KEY}-file"\n', encoding="utf-8")
    path.chmod(mode)
    return path


@pytest.mark.skipif(not hasattr(Path, "chmod"), reason="no POSIX permissions")
def test_readable_config_file_warns_once(
    tmp_path: Path, server: hs.HostileServer, case: Case
) -> None:
    """A config file others can read: one InsecureConfigWarning per file naming the chmod."""
    server.plan(f"{KEY}-file", hs.Plan())
    seen: dict[str, list[str]] = {}
    for mode in (0o644, 0o640, 0o600):
        path = _file(tmp_path, mode, f"m{mode:o}")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for _ in range(2):  # two clients, one file: warned once
                with Runpod(config_path=path, **server.urls()) as rp:
                    rp.endpoint("e").health()
        seen[f"{mode:04o}"] = [
            str(w.message) for w in caught if issubclass(w.category, InsecureConfigWarning)
        ]
    case.expected = "0644 and 0640: one warning naming the file and chmod 600; 0600: none"
    case.observed = "; ".join(f"{mode}: {len(msgs)} warning(s)" for mode, msgs in seen.items())
    case.observed += f" -- {seen['0644'][0] if seen['0644'] else ''}"[:160]
    for mode in ("0644", "0640"):
        assert len(seen[mode]) == 1, seen
        assert "chmod 600" in seen[mode][0] and "config.toml" in seen[mode][0]
        assert KEY not in seen[mode][0]
    assert seen["0600"] == []


def _used_in_two_loops(make: Any, server: hs.HostileServer, key: str) -> list[Any]:
    """Use one client in a first asyncio.run, then in a second; what each run saw."""
    client = make()
    outcomes: list[Any] = []

    async def use() -> None:
        try:
            outcomes.append(await client.endpoint("e").health())
        except Exception as exc:
            outcomes.append(exc)

    asyncio.run(use())
    asyncio.run(use())
    return outcomes


@pytest.mark.parametrize("how", ["AsyncRunpod", "RunpodFactory.async_client"])
def test_second_event_loop_is_a_typed_error(how: str, server: hs.HostileServer, case: Case) -> None:
    """An async client used from a second event loop: WrongEventLoopError, nothing sent."""
    key = f"{KEY}-loop-{how}"
    server.plan(key, hs.Plan())
    if how == "AsyncRunpod":
        outcomes = _used_in_two_loops(lambda: AsyncRunpod(key, **server.urls()), server, key)
    else:
        factory = RunpodFactory(**server.urls())
        outcomes = _used_in_two_loops(lambda: factory.async_client(key), server, key)
        factory.close()
    first, second = outcomes
    case.expected = "first loop: answered; second loop: WrongEventLoopError, nothing sent"
    case.observed = f"first: {type(first).__name__}; second: {type(second).__name__}: {second}"[
        :200
    ]
    assert not isinstance(first, BaseException), first
    assert isinstance(second, WrongEventLoopError), repr(second)
    assert isinstance(second, RuntimeError) and isinstance(second, RunpodError)
    assert len(server.seen(key).requests) == 1
