"""FastAPI: one client for the app's lifetime, a dependency, and cancel-on-disconnect.

- The `AsyncRunpod` is made once in the lifespan (one connection pool for all
  requests) and closed on shutdown.
- Routes get it through a dependency, so tests can override it.
- If the HTTP client goes away while its job runs, the request stops waiting
  and the SDK cancels the job on RunPod: nobody pays GPU time for an answer
  nobody reads. (Uvicorn does not cancel a request when its client leaves;
  `run_until_disconnected` watches for it.)

    RUNPOD_ENDPOINT_ID=... uvicorn fastapi_app:app --app-dir examples
    curl -X POST localhost:8000/summaries -H 'content-type: application/json' \
         -d '{"text": "a long text ..."}'
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncGenerator, Awaitable
from contextlib import asynccontextmanager, suppress
from typing import Annotated, TypeVar

import pydantic
from fastapi import Depends, FastAPI, HTTPException, Request, Response

from runpod_typed import AsyncEndpoint, AsyncRunpod, JobFailed, WaitTimeout

T = TypeVar("T")

#: Not a standard status: what nginx logs when the client closed the request first.
CLIENT_CLOSED_REQUEST = 499


class SummaryRequest(pydantic.BaseModel):
    text: str
    max_words: int = 8


class Summary(pydantic.BaseModel):
    summary: str
    words: int


class ClientDisconnected(Exception):
    """The HTTP client left before the answer was ready."""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncGenerator[None, None]:
    async with AsyncRunpod() as runpod:  # key and URLs from the environment
        app.state.endpoint = runpod.endpoint(os.environ["RUNPOD_ENDPOINT_ID"])
        yield


app = FastAPI(lifespan=lifespan)


def summarizer(request: Request) -> AsyncEndpoint:
    """The dependency: the endpoint on the app's one client."""
    endpoint: AsyncEndpoint = request.app.state.endpoint
    return endpoint


async def run_until_disconnected(request: Request, work: Awaitable[T]) -> T:
    """Await `work`; if the client disconnects first, cancel it and raise ClientDisconnected.

    Cancelling the task is all it takes: the SDK sends /cancel for the job it
    was waiting on before the cancellation finishes.
    """
    task = asyncio.ensure_future(work)
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=0.25)
            if done:
                return task.result()
            if await request.is_disconnected():
                raise ClientDisconnected
    finally:
        if not task.done():
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task


@app.post("/summaries", response_model=Summary)
async def create_summary(
    body: SummaryRequest,
    request: Request,
    endpoint: Annotated[AsyncEndpoint, Depends(summarizer)],
) -> Summary | Response:
    summary = endpoint.run_sync(body.model_dump(), output_type=Summary, timeout=300)
    try:
        return await run_until_disconnected(request, summary)
    except ClientDisconnected:
        return Response(status_code=CLIENT_CLOSED_REQUEST)
    except JobFailed as exc:
        raise HTTPException(422, f"the worker refused the input: {exc.error}") from None
    except WaitTimeout:
        raise HTTPException(504, "the summary took too long; the job was cancelled") from None
