"""Quickstart (asyncio): the same surface, awaitable; many jobs at once.

RUNPOD_ENDPOINT_ID=... python examples/quickstart_async.py
"""

from __future__ import annotations

import asyncio
import os

from runpod_typed import AsyncRunpod

TEXTS = [
    "the first job of three",
    "the second job runs at the same time",
    "the third job needs no thread of its own",
]


async def main() -> None:
    async with AsyncRunpod() as rp:
        endpoint = rp.endpoint(os.environ["RUNPOD_ENDPOINT_ID"])

        outputs = await asyncio.gather(
            *(endpoint.run_sync({"text": text}, timeout=120) for text in TEXTS)
        )
        for output in outputs:
            print("run_sync:", output)

        job = await endpoint.run({"text": "submitted now, awaited later"})
        print("submitted:", job.id)
        print("output:", await job.output(timeout=120))


if __name__ == "__main__":
    asyncio.run(main())
