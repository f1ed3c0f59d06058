"""FastAPI: stream an LLM's tokens to the browser as server-sent events.

Each token becomes one `data:` event; the end is an `event: done`, a failure an
`event: error`. When the browser closes the connection, Starlette cancels the
response, the `async for` over the job's stream stops, and the SDK cancels the
job on RunPod.

    RUNPOD_ENDPOINT_ID=... uvicorn fastapi_sse:app --app-dir examples
    curl -N 'localhost:8000/generate?prompt=Tell+me+a+story'
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import StreamingResponse

from runpod_typed import AsyncEndpoint, AsyncRunpod, JobError


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncGenerator[None, None]:
    async with AsyncRunpod() as runpod:
        app.state.endpoint = runpod.endpoint(os.environ["RUNPOD_ENDPOINT_ID"])
        yield


app = FastAPI(lifespan=lifespan)


def llm(request: Request) -> AsyncEndpoint:
    endpoint: AsyncEndpoint = request.app.state.endpoint
    return endpoint


def event(data: object, name: str | None = None) -> str:
    head = f"event: {name}\n" if name else ""
    return f"{head}data: {json.dumps(data)}\n\n"


@app.get("/generate")
async def generate(
    prompt: str, endpoint: Annotated[AsyncEndpoint, Depends(llm)]
) -> StreamingResponse:
    job = await endpoint.run({"prompt": prompt})

    async def events() -> AsyncIterator[str]:
        try:
            async for token in job.stream(str, timeout=600):
                yield event(token)
        except JobError as exc:  # failed, cancelled or timed out on RunPod
            yield event(str(exc), "error")
            return
        yield event({"job_id": job.id}, "done")

    return StreamingResponse(events(), media_type="text/event-stream")
