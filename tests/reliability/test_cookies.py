"""Cookies: a server that sets one on every answer never gets one back.

RunPod's API needs no cookies, and tenants of a `RunpodFactory` share one
connection pool: a cookie kept for one tenant would be sent with the next
tenant's requests. The hostile server adds `Set-Cookie` to every answer for
each tenant; two tenants of one factory (blocking and async), and a plain
`Runpod` / `AsyncRunpod` with their own pools, make a round of calls; the
server must never see a `Cookie` header. A pool the caller passes in
(`http_client=`) is the caller's own: its cookie jar is reported, not judged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from runpod_typed import AsyncRunpod, PollingOptions, Runpod, RunpodFactory

from . import hostile_server as hs
from .recorder import Case, Results

SECTION = "cookies"
pytestmark = pytest.mark.reliability

POLLING = PollingOptions(first_delay=0.02, max_delay=0.1)
PLAN = hs.Plan(cookies=True, state="COMPLETED", output={"ok": True})


@dataclass
class Seen:
    label: str
    judged: bool
    keys: list[str] = field(default_factory=list)
    requests: int = 0
    cookies_set: int = 0
    cookies_back: int = 0


def round_sync(rp: Runpod) -> None:
    ep = rp.endpoint("cookies")
    ep.health()
    assert ep.run_sync({"n": 1}, timeout=10) == {"ok": True}
    ep.job("job-9").status()
    rp.pods.list()
    ep.health()


async def round_async(rp: AsyncRunpod) -> None:
    ep = rp.endpoint("cookies")
    await ep.health()
    assert await ep.run_sync({"n": 1}, timeout=10) == {"ok": True}
    await ep.job("job-9").status()
    await rp.pods.list()
    await ep.health()


@pytest.fixture(scope="module")
def seen() -> Iterator[list[Seen]]:
    with hs.HostileServer() as server:
        options: dict[str, Any] = {**server.urls(), "polling": POLLING}
        results: list[Seen] = []

        def tenants(label: str, count: int, judged: bool = True) -> Seen:
            entry = Seen(label, judged, [f"sk-cookie-{label}-{i}" for i in range(count)])
            for key in entry.keys:
                server.plan(key, PLAN)
            results.append(entry)
            return entry

        factory_sync = tenants("factory-sync", 2)
        own_sync = tenants("own-sync", 1)
        user_pool = tenants("http_client=httpx.Client()", 1, judged=False)
        factory_async = tenants("factory-async", 2)
        own_async = tenants("own-async", 1)

        with RunpodFactory(**options) as factory:
            for _ in range(2):  # twice over: A, B, A, B
                for key in factory_sync.keys:
                    round_sync(factory.client(key))
        with Runpod(own_sync.keys[0], **options) as rp:
            round_sync(rp)
            round_sync(rp)
        with httpx.Client() as pool:
            rp = Runpod(user_pool.keys[0], http_client=pool, **options)
            round_sync(rp)
            round_sync(rp)

        async def run_async() -> None:
            async with RunpodFactory(**options) as afactory:
                for _ in range(2):
                    for key in factory_async.keys:
                        await round_async(afactory.async_client(key))
            async with AsyncRunpod(own_async.keys[0], **options) as arp:
                await round_async(arp)
                await round_async(arp)

        asyncio.run(run_async())
        for entry in results:
            for key in entry.keys:
                log = server.seen(key)
                entry.requests += len(log.requests)
                entry.cookies_back += len(log.cookies_sent())
            entry.cookies_set = entry.requests  # the server set one on every answer
        yield results


def _record(results: Results, seen: list[Seen]) -> None:
    results.figure(
        SECTION,
        "cookies set and sent back",
        [
            {
                "client": s.label,
                "tenants": len(s.keys),
                "answers with Set-Cookie": s.cookies_set,
                "requests with a Cookie header": s.cookies_back,
                "judged": "yes" if s.judged else "no (the caller's pool and jar)",
            }
            for s in seen
        ],
    )


@pytest.mark.parametrize(
    "label", ["factory-sync", "own-sync", "factory-async", "own-async"], ids=str
)
def test_cookies_never_sent_back(
    label: str, seen: list[Seen], case: Case, results: Results
) -> None:
    """A Set-Cookie on every answer: the SDK's own pools never send a Cookie back."""
    _record(results, seen)
    entry = next(s for s in seen if s.label == label)
    case.expected = "no request carries a Cookie header"
    case.observed = (
        f"{entry.cookies_set} answers set a cookie for {len(entry.keys)} tenant(s); "
        f"{entry.cookies_back} requests carried one back"
    )
    assert entry.requests >= 10
    assert entry.cookies_back == 0
