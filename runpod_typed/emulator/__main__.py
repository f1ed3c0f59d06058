"""Command line: serve the emulator until SIGINT/SIGTERM.

Prints exactly one line, ``READY http://HOST:PORT``, once it accepts connections
(with ``--port 0`` the port is the one the system picked). Worker processes
(``--worker``) start then; their output goes to stderr, and so does whatever
in-process handlers (``--handler``) print afterwards.
"""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
from collections.abc import Sequence
from dataclasses import replace

from runpod_typed._errors import MissingExtraError
from runpod_typed.emulator import server_imports

try:
    with server_imports("python -m runpod_typed.emulator"):
        from runpod_typed.emulator._emulator import Emulator, exposure_warning
        from runpod_typed.emulator._faults import FaultSpec
        from runpod_typed.emulator._server import serve_forever
        from runpod_typed.emulator.handlers import BUILTIN_HANDLERS, HandlerConfig, load_handler
except MissingExtraError as _missing:  # (private: not a name of the module's interface)
    if __name__ != "__main__":
        raise
    sys.exit(str(_missing))  # the message and the extra to install, without a traceback

_FAULTS_HELP = """\
fault spec: sections separated by ';', e.g.
  seed=7;run:drop=0.05,503=0.05;status:429=0.1,latency=0.02;*:malformed=0.01
A section ROUTES:KEY=VALUE,... applies to routes matching the glob ROUTES (run, runsync,
status, status-sync, stream, cancel, retry, purge-queue, health, graphql, or *).
Keys (probabilities 0..1, at most one fault per request):
  500 502 503   answer that status instead (no job is created)
  429           answer 429 with Retry-After: <retry_after> (default 1 s)
  drop          close the connection without an answer (no job is created)
  drop_after    process the request (the job is created), then close without the answer
  malformed     process the request, then answer 200 with truncated JSON
  latency       seconds added to every matching request
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m runpod_typed.emulator",
        description="A local RunPod: GraphQL at /graphql, the serverless job API at /v2.",
        epilog=_FAULTS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument(
        "--api-key", help="the only key accepted (default: any non-empty key is accepted)"
    )
    parser.add_argument(
        "--handler",
        action="append",
        default=[],
        metavar='"[ENDPOINT_ID=]HANDLER"',
        help=(
            "an in-process handler for one endpoint id, or (without ENDPOINT_ID=) for every "
            "id without its own: module:function, a module or a worker file "
            "'path/handler.py[:function] [ARGS...]' that calls runpod.serverless.start "
            "(its config is used; nothing exits), or a built-in name "
            f"({', '.join(BUILTIN_HANDLERS)}). Run with the official runtime's semantics. "
            "Repeatable. Default: ids echo/sleep/tokens/fail use those built-ins, others "
            "'demo'."
        ),
    )
    parser.add_argument(
        "--return-aggregate-stream",
        action="append",
        nargs="?",
        const="*",
        default=[],
        metavar="ENDPOINT_ID",
        help=(
            "the endpoint's generator handler returns the list of its chunks as its output "
            "(as runpod.serverless.start's return_aggregate_stream; default off, as on "
            "RunPod: the output is []); without ENDPOINT_ID: every --handler. Repeatable."
        ),
    )
    parser.add_argument(
        "--worker",
        action="append",
        default=[],
        metavar='"[ENDPOINT_ID=]FILE [ARGS...]"',
        help=(
            "a real worker file (one that calls runpod.serverless.start), run as its own "
            "process(es) in FILE's folder with the environment RunPod gives a worker; "
            "one quoted argument, e.g. --worker 'mock=handler.py --generator'. Without "
            "ENDPOINT_ID=: every endpoint id without a handler or worker of its own. "
            "Repeatable."
        ),
    )
    parser.add_argument(
        "--worker-python",
        metavar="PYTHON",
        help="the interpreter for worker files, with the runpod package (default: this one)",
    )
    parser.add_argument(
        "--workers", type=int, default=4, help="workers (or worker processes) per endpoint"
    )
    parser.add_argument("--faults", type=FaultSpec.parse, help="fault spec (see below)")
    parser.add_argument(
        "--no-rate-limits", action="store_true", help="do not enforce RunPod's rate limits"
    )
    parser.add_argument(
        "--no-long-poll",
        action="store_true",
        help="answer /status-sync with 404 and ignore `wait` (clients fall back to polling)",
    )
    parser.add_argument("--pod-transition-seconds", type=float, default=0.2)
    parser.add_argument("--webhook-retry-delay", type=float, default=10.0)
    parser.add_argument("--log-level", default="warning", choices=["debug", "info", "warning"])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    aggregate = set(args.return_aggregate_stream)
    handlers: dict[str, HandlerConfig] = {}
    default_handler: HandlerConfig | None = None
    try:
        for spec in args.handler:
            endpoint_id, target = _split_handler_spec(spec)
            config = load_handler(target)
            if aggregate & {"*", endpoint_id or "*"}:
                config = replace(config, return_aggregate_stream=True)
            if endpoint_id is None:
                default_handler = config
            else:
                handlers[endpoint_id] = config
        emulator = Emulator(
            api_key=args.api_key,
            handlers=handlers if args.handler else None,
            default_handler=default_handler,
            workers=args.workers,
            faults=args.faults,
            rate_limits=not args.no_rate_limits,
            long_poll=not args.no_long_poll,
            pod_transition_seconds=args.pod_transition_seconds,
            webhook_retry_delay=args.webhook_retry_delay,
            worker_files=args.worker or None,
            worker_python=args.worker_python,
        )
    except (ImportError, AttributeError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    warning = exposure_warning(args.host, args.api_key, "--api-key")
    if warning is not None:
        print(f"warning: {warning}", file=sys.stderr, flush=True)
    host = f"[{args.host}]" if ":" in args.host else args.host

    def ready(port: int) -> None:
        print(f"READY http://{host}:{port}", flush=True)
        sys.stdout = sys.stderr  # the READY line is all stdout carries
        emulator.start_workers(f"http://{host}:{port}")

    serve_forever(emulator.app, args.host, args.port, on_ready=ready, on_exit=emulator.prepare_stop)
    return 0


def _split_handler_spec(spec: str) -> tuple[str | None, str]:
    """``"[ENDPOINT_ID=]HANDLER"`` -> (endpoint id or None, handler); the id is what stands
    before the first ``=`` of the first word, if it is no path."""
    words = shlex.split(spec)
    name, sep, rest = spec.strip().partition("=")
    if words and sep and name and "=" in words[0] and not any(c in name for c in "/\\: "):
        return name, rest
    return None, spec


if __name__ == "__main__":
    sys.exit(main())
