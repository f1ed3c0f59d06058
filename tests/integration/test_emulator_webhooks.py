"""Webhooks: a finished job's status is POSTed to a local receiver, with retries."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from runpod_typed.emulator import RunningEmulator

from . import eventually, job_api

Factory = Callable[..., RunningEmulator]


class Receiver:
    """A loopback HTTP server answering webhook POSTs with the given status codes in turn
    (the last one repeats) and keeping the bodies it received."""

    def __init__(self, codes: list[int]) -> None:
        self.codes = codes
        self.bodies: list[Any] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                receiver.bodies.append(json.loads(self.rfile.read(length)))
                code = receiver.codes[min(len(receiver.bodies), len(receiver.codes)) - 1]
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self) -> Receiver:
        threading.Thread(target=self.server.serve_forever, args=(0.01,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def server(runpod_emulator_factory: Factory) -> RunningEmulator:
    return runpod_emulator_factory(webhook_retry_delay=0.01)


def webhook_counts(server: RunningEmulator, total: str) -> Callable[[], dict[str, int] | None]:
    """A check for `eventually`: the webhook counters once `total` has been counted."""

    def check() -> dict[str, int] | None:
        counts: dict[str, int] = server.counters()["webhooks"]
        return counts if total in counts else None

    return check


@pytest.mark.parametrize("outcome", ["COMPLETED", "FAILED"])
def test_the_final_status_is_posted_to_the_webhook(server: RunningEmulator, outcome: str) -> None:
    endpoint = "echo" if outcome == "COMPLETED" else "fail"
    with Receiver([200]) as receiver, job_api(server) as api:
        body = {"input": {"message": "m"}, "webhook": receiver.url}
        job = api.post(f"/{endpoint}/runsync", json=body).json()
        counts = eventually(webhook_counts(server, "delivered"), "the webhook delivery")
        assert counts == {"attempts": 1, "delivered": 1}
        assert receiver.bodies == [api.get(f"/{endpoint}/status/{job['id']}").json()]
        assert receiver.bodies[0]["status"] == outcome


def test_a_failed_delivery_is_retried(server: RunningEmulator) -> None:
    with Receiver([500, 200]) as receiver, job_api(server) as api:
        api.post("/echo/run", json={"input": 1, "webhook": receiver.url})
        counts = eventually(webhook_counts(server, "delivered"), "the webhook delivery")
        assert counts == {"attempts": 2, "delivered": 1}
        assert len(receiver.bodies) == 2
        assert receiver.bodies[0] == receiver.bodies[1]


def test_delivery_gives_up_after_three_attempts(server: RunningEmulator) -> None:
    with Receiver([503]) as receiver, job_api(server) as api:
        api.post("/echo/run", json={"input": 1, "webhook": receiver.url})
        counts = eventually(webhook_counts(server, "failed"), "the webhook to be given up")
        assert counts == {"attempts": 3, "failed": 1}
        assert len(receiver.bodies) == 3


def test_an_unreachable_webhook_does_not_affect_the_job(server: RunningEmulator) -> None:
    with Receiver([200]) as receiver:
        unreachable = receiver.url  # closed on leaving the block: nothing listens there
    with job_api(server) as api:
        job = api.post("/echo/runsync", json={"input": 1, "webhook": unreachable}).json()
        assert job["status"] == "COMPLETED"
        counts = eventually(webhook_counts(server, "failed"), "the webhook to be given up")
        assert counts == {"attempts": 3, "failed": 1}
