"""Running the emulator's ASGI app with uvicorn: in a background thread, or as the CLI.

Both bind the socket first, so port 0 yields the real port before anything is served.
"""

from __future__ import annotations

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
    signal lets the CLI exit with status 0, as a clean stop should.
    """

    def __init__(
        self, config: uvicorn.Config, on_started: Callable[[], None], on_exit: Callable[[], None]
    ) -> None:
        super().__init__(config)
        self._on_started = on_started
        self._on_exit = on_exit

    async def startup(self, sockets: list[Any] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            self._on_started()

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True
        self.should_exit = True
        self._on_exit()


def _config(app: Any, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=2,
    )


@contextmanager
def serve_in_thread(app: Any, host: str, port: int, on_exit: Callable[[], None]) -> Iterator[int]:
    """Serve `app` from a daemon thread until the block ends; yields the bound port.

    `on_exit` is called (from this thread) before the server is asked to stop, so the
    app can answer its long polls instead of holding the shutdown up.
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
        on_exit()
        server.should_exit = True
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
