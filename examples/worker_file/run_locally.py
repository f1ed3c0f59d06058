"""Serve handler.py, unchanged, with the emulator and call it with runpod-typed.

    python run_locally.py --worker-python PYTHON   # as its own process, the way RunPod
                                                   # runs it; PYTHON has `runpod` installed
    python run_locally.py --in-process             # imported here, faster; this Python
                                                   # needs `runpod` (and runpod-typed)

Either way the official runtime's rules decide what the job returns: the stream, the
aggregated output, and the error of an ``{"error": ...}`` chunk.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from runpod_typed import JobFailed, Runpod
from runpod_typed.emulator import Emulator

WORKER = Path(__file__).resolve().parent / "handler.py"


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve handler.py and call it.")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--worker-python", default=sys.executable, help="runs handler.py")
    mode.add_argument("--in-process", action="store_true", help="import handler.py here")
    args = parser.parse_args()
    if args.in_process:
        emulator = Emulator(handlers={"story": str(WORKER)})
    else:
        worker = {"story": str(WORKER)}
        emulator = Emulator(worker_files=worker, worker_python=args.worker_python, workers=1)
    with (
        emulator.serve() as server,
        Runpod(
            "any-key", api_base_url=server.url, endpoint_base_url=server.endpoint_base_url
        ) as rp,
    ):
        story = rp.endpoint("story")
        job = story.run({"prompt": "once upon a time", "delay": 0.05})
        print("streamed:", " ".join(job.stream(str, timeout=60)))
        print("output:", job.output(timeout=60))
        try:
            story.run_sync({"prompt": ""}, timeout=60)
        except JobFailed as exc:
            print("failed:", exc.error)


if __name__ == "__main__":
    main()
