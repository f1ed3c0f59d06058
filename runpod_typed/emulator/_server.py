"""Running the emulator's ASGI app with uvicorn: in a background thread, or as the CLI.

Both bind the socket first, so port 0 yields the real port before anything is served.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import uvicorn


class _Server(uvicorn.Server):
    """A uvicorn server that reports when it accepts connections and stops quietly.

    Uvicorn re-raises a SIGINT/SIGTERM it handled once it has stopped; not recording the
    signal lets the CLI exit with status 0, as a clean stop should. A stop request wakes
    the main loop at once instead of at its next 0.1 s tick (fixtures stop it often).
    """

    def __init__(
        self, config: uvicorn.Config, on_started: Callable[[], None], on_exit: Callable[[], None]
    ) -> None:
        super().__init__(config)
        self._on_started = on_started
        self._on_exit = on_exit
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_requested: asyncio.Event | None = None

    async def startup(self, sockets: list[Any] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop_requested = asyncio.Event()
        await super().startup(sockets=sockets)
        if self.started:
            self._on_started()

    async def main_loop(self) -> None:
        assert self._stop_requested is not None
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864_000
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stop_requested.wait(), 0.1)

    def request_stop(self) -> None:
        """Stop serving; callable from any thread."""
        self._on_exit()
        self.should_exit = True
        if self._loop is not None and self._stop_requested is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already closed
                self._loop.call_soon_threadsafe(self._stop_requested.set)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True
        self.request_stop()


def _config(app: Any, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=2,
        # Like RunPod's edge, keep idle connections longer than clients do (httpx: 5 s),
        # so a client never reuses a connection the server is closing at that moment.
        timeout_keep_alive=75,
    )


@contextmanager
def serve_in_thread(app: Any, host: str, port: int, on_exit: Callable[[], None]) -> Iterator[int]:
    """Serve `app` from a daemon thread until the block ends; yields the bound port.

    `on_exit` is called before the server is asked to stop, so the app can answer its
    long polls instead of holding the shutdown up.
    """
    config = _config(app, host, port)
    sock = config.bind_socket()
    bound_port: int = sock.getsockname()[1]
    ready = threading.Event()
    server = _Server(config, on_started=ready.set, on_exit=on_exit)

    def run() -> None:
        try:
            server.run(sockets=[sock])
        finally:
            ready.set()

    thread = threading.Thread(target=run, name=f"runpod-emulator-{bound_port}", daemon=True)
    thread.start()
    ready.wait()
    if not server.started:
        thread.join()
        raise RuntimeError("the RunPod emulator failed to start (see the log above)")
    try:
        yield bound_port
    finally:
        server.request_stop()
        thread.join()


def serve_forever(
    app: Any,
    host: str,
    port: int,
    on_ready: Callable[[int], None],
    on_exit: Callable[[], None],
) -> None:
    """Serve `app` in this thread until SIGINT/SIGTERM; `on_ready(port)` once accepting."""
    config = _config(app, host, port)
    sock = config.bind_socket()
    bound_port: int = sock.getsockname()[1]
    server = _Server(config, on_started=lambda: on_ready(bound_port), on_exit=on_exit)
    server.run(sockets=[sock])
