"""Stream an LLM's tokens to the terminal as the worker yields them.

Each chunk is printed once, in order. Ctrl-C (or leaving the loop early)
cancels the job on RunPod, so the GPU stops generating for nobody.

    RUNPOD_ENDPOINT_ID=... python examples/stream_terminal.py "Tell me about GPUs"

The worker must be a generator handler (it `yield`s chunks); here each chunk is
a string. If yours yields dicts, pass a model as the chunk type instead.
"""

from __future__ import annotations

import os
import sys

from runpod_typed import Runpod


def main(argv: list[str]) -> int:
    prompt = " ".join(argv) or "Once upon a time a small GPU met a very large model"
    with Runpod() as rp:
        job = rp.endpoint(os.environ["RUNPOD_ENDPOINT_ID"]).run({"prompt": prompt})
        try:
            for token in job.stream(str, timeout=600):
                print(token, end=" ", flush=True)
        except KeyboardInterrupt:
            print("\n[stopped: job cancelled on RunPod]", file=sys.stderr)
            return 130
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
