"""A streaming worker (a plain generator); ``--aggregate`` sets return_aggregate_stream.

Yields ``input.count`` chunks ``{"n": i}``; ``input.error_at``: yields
``{"error": ...}`` at that index instead; ``input.raise_at``: raises there.
"""

import sys
import time

import runpod


def handler(job):
    job_input = job["input"]
    for n in range(job_input.get("count", 3)):
        if n == job_input.get("error_at"):
            yield {"error": f"chunk {n} failed"}
        if n == job_input.get("raise_at"):
            raise ValueError(f"raised at chunk {n}")
        time.sleep(job_input.get("delay", 0))
        yield {"n": n}


runpod.serverless.start({"handler": handler, "return_aggregate_stream": "--aggregate" in sys.argv})
