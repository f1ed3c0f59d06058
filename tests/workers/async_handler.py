"""An async worker; ``--concurrency N`` takes up to N jobs at once (the runtime's
``concurrency_modifier``, as RunPod's vLLM worker does).

``input.seconds``: sleep that long first; ``input.fail``: raise with that message.
The output says when the handler started and finished.
"""

import argparse
import asyncio
import os
import time

import runpod

parser = argparse.ArgumentParser()
parser.add_argument("--concurrency", type=int, default=1)
args, _ = parser.parse_known_args()


async def handler(job):
    job_input = job["input"]
    started = time.time()
    await asyncio.sleep(job_input.get("seconds", 0))
    if "fail" in job_input:
        raise RuntimeError(job_input["fail"])
    return {
        "async": job_input.get("value"),
        "pid": os.getpid(),
        "started": started,
        "finished": time.time(),
    }


def concurrency_modifier(current):
    return args.concurrency


runpod.serverless.start({"handler": handler, "concurrency_modifier": concurrency_modifier})
