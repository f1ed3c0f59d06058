"""A streaming worker (an async generator) that aggregates its stream, like RunPod's
vLLM worker: the words of ``input.prompt``, ``input.delay`` seconds apart."""

import asyncio

import runpod


async def handler(job):
    job_input = job["input"]
    for word in job_input.get("prompt", "").split():
        await asyncio.sleep(job_input.get("delay", 0))
        yield word


runpod.serverless.start({"handler": handler, "return_aggregate_stream": True})
