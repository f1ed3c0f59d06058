"""How fast is the emulator? Status requests per second, and memory with 10,000 queued jobs.

    python -m bench.emulator_throughput [--seconds 5] [--connections 32] [--jobs 10000]

Starts the emulator CLI in a subprocess (rate limits off), then from a separate load
process sends `GET /status/{id}` over keep-alive connections with a minimal raw-HTTP
client (so the client's own overhead does not hide the server's), and finally queues
`--jobs` jobs on an endpoint with no workers and reports the server's resident memory.
Only loopback traffic; every loop is bounded by count or time.

It also reports the CPU time the emulator's ASGI app spends on one `GET /status/{id}`,
called in-process without sockets: on a busy or small machine the requests per
second swing with the load, while this figure moves only with the app's own code
(routing, auth, counters, the answer).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psutil

_KEY = "bench-key"


@contextmanager
def emulator(*extra: str) -> Iterator[tuple[str, int, psutil.Process]]:
    """The emulator CLI on a free port; yields (host, port, its process)."""
    command = [sys.executable, "-m", "runpod_typed.emulator", "--port", "0", "--no-rate-limits"]
    process = subprocess.Popen([*command, *extra], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        if not line.startswith("READY http://"):
            raise RuntimeError(f"emulator did not start: {line!r}")
        host, port = line.removeprefix("READY http://").rsplit(":", 1)
        yield host, int(port), psutil.Process(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=10)


def _request(method: str, path: str, body: bytes = b"") -> bytes:
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {_KEY}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return status, await reader.readexactly(length)


async def _hammer(host: str, port: int, request: bytes, deadline: float) -> tuple[int, int]:
    """Send `request` back to back on one keep-alive connection until `deadline`."""
    reader, writer = await asyncio.open_connection(host, port)
    ok = failed = 0
    try:
        while time.monotonic() < deadline:
            writer.write(request)
            status, _ = await _read_response(reader)
            if status == 200:
                ok += 1
            else:
                failed += 1
    finally:
        writer.close()
    return ok, failed


async def _status_load(
    host: str, port: int, path: str, connections: int, seconds: float
) -> dict[str, float]:
    request = _request("GET", path)
    start = time.monotonic()
    results = await asyncio.gather(
        *(_hammer(host, port, request, start + seconds) for _ in range(connections))
    )
    elapsed = time.monotonic() - start
    ok = sum(r[0] for r in results)
    return {"ok": ok, "failed": sum(r[1] for r in results), "seconds": elapsed, "rps": ok / elapsed}


async def _submit(host: str, port: int, endpoint: str, count: int, connections: int) -> int:
    async def one_connection(share: int) -> int:
        reader, writer = await asyncio.open_connection(host, port)
        ok = 0
        try:
            for index in range(share):
                body = json.dumps({"input": {"index": index, "prompt": "x" * 64}}).encode()
                writer.write(_request("POST", f"/v2/{endpoint}/run", body))
                status, _ = await _read_response(reader)
                ok += status == 200
        finally:
            writer.close()
        return ok

    shares = [count // connections + (i < count % connections) for i in range(connections)]
    return sum(await asyncio.gather(*(one_connection(share) for share in shares)))


def _status_process(
    host: str,
    port: int,
    path: str,
    connections: int,
    seconds: float,
    out: multiprocessing.Queue[dict[str, float]],
) -> None:
    out.put(asyncio.run(_status_load(host, port, path, connections, seconds)))


def _http_json(host: str, port: int, method: str, path: str, body: bytes = b"") -> object:
    async def call() -> object:
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(_request(method, path, body))
        _, payload = await _read_response(reader)
        writer.close()
        return json.loads(payload)

    return asyncio.run(call())


def _app_cpu_per_status(calls: int = 20_000, rounds: int = 5) -> float:
    """Microseconds of CPU the emulator's ASGI app spends per `GET /status/{id}` (best round)."""
    from runpod_typed.emulator import Emulator

    async def call(app: Any, method: str, path: str, body: bytes = b"") -> list[dict[str, Any]]:
        scope = {
            "type": "http",
            "method": method,
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "headers": [(b"authorization", f"Bearer {_KEY}".encode())],
            "root_path": "",
            "scheme": "http",
            "server": ("127.0.0.1", 80),
            "client": ("127.0.0.1", 1),
            "http_version": "1.1",
        }
        pending = [{"type": "http.request", "body": body, "more_body": False}]
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return pending.pop() if pending else {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await app(scope, receive, send)
        return sent

    async def measure() -> float:
        app = Emulator(rate_limits=False).app
        answer = await call(app, "POST", "/v2/echo/runsync", b'{"input": {"hello": "world"}}')
        job = json.loads(answer[1]["body"])
        path = f"/v2/echo/status/{job['id']}"
        best = float("inf")
        for _ in range(rounds):
            start = time.process_time()
            for _ in range(calls):
                answer = await call(app, "GET", path)
            best = min(best, (time.process_time() - start) / calls)
            assert answer[0]["status"] == 200, answer
        await app.store.aclose()
        return best * 1e6

    return asyncio.run(measure())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--jobs", type=int, default=10_000)
    args = parser.parse_args()

    with emulator() as (host, port, _):
        job = _http_json(host, port, "POST", "/v2/echo/runsync", b'{"input": {"hello": "world"}}')
        assert isinstance(job, dict) and job["status"] == "COMPLETED", job
        queue: multiprocessing.Queue[dict[str, float]] = multiprocessing.Queue()
        load = multiprocessing.Process(
            target=_status_process,
            args=(
                host,
                port,
                f"/v2/echo/status/{job['id']}",
                args.connections,
                args.seconds,
                queue,
            ),
        )
        load.start()
        result = queue.get(timeout=args.seconds + 60)
        load.join()
    print(
        f"status: {result['rps']:.0f} req/s ({result['ok']:.0f} ok, {result['failed']:.0f} failed, "
        f"{args.connections} keep-alive connections, {result['seconds']:.1f} s)"
    )
    print(f"status: {_app_cpu_per_status():.1f} us of app CPU per request (in-process, no sockets)")

    with emulator("--workers", "0") as (host, port, process):
        idle_rss = process.memory_info().rss
        start = time.monotonic()
        accepted = asyncio.run(_submit(host, port, "queued", args.jobs, 16))
        elapsed = time.monotonic() - start
        health = _http_json(host, port, "GET", "/v2/queued/health")
        rss = process.memory_info().rss
    assert isinstance(health, dict)
    print(
        f"queued: {accepted} jobs accepted in {elapsed:.1f} s ({accepted / elapsed:.0f} run/s), "
        f"inQueue={health['jobs']['inQueue']}, server RSS {idle_rss / 2**20:.1f} MiB idle -> "
        f"{rss / 2**20:.1f} MiB ({(rss - idle_rss) / max(accepted, 1) / 1024:.2f} KiB/job)"
    )


if __name__ == "__main__":
    main()
