"""FastAPI, multi-tenant: each user's jobs run on their own RunPod key, over one pool.

`RunpodFactory` owns one connection pool (and one client-side rate limiter);
`factory.async_client(key)` is a cheap per-request client with that user's
key. Closing it leaves the pool to the factory.

Users and their keys come from your database; here, a stand-in: the
TENANT_KEYS environment variable holding JSON `{"user": "their RunPod key"}`,
and the user named by an `X-User` header (use your real authentication).

    TENANT_KEYS='{"alice": "..."}' RUNPOD_ENDPOINT_ID=... \
        uvicorn fastapi_multitenant:app --app-dir examples
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

import pydantic
from fastapi import Depends, FastAPI, Header, HTTPException, Request

from runpod_typed import AsyncRunpod, AuthenticationError, JobFailed, RunpodFactory


class SummaryRequest(pydantic.BaseModel):
    text: str


class Summary(pydantic.BaseModel):
    summary: str
    words: int


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncGenerator[None, None]:
    app.state.tenant_keys = json.loads(os.environ["TENANT_KEYS"])
    app.state.endpoint_id = os.environ["RUNPOD_ENDPOINT_ID"]
    async with RunpodFactory() as factory:  # closes the shared pool on shutdown
        app.state.factory = factory
        yield


app = FastAPI(lifespan=lifespan)


async def tenant_runpod(
    request: Request, x_user: Annotated[str, Header()]
) -> AsyncIterator[AsyncRunpod]:
    """The dependency: a client with this user's key, on the shared pool."""
    key = request.app.state.tenant_keys.get(x_user)
    if key is None:
        raise HTTPException(403, "no RunPod key on file for this user")
    factory: RunpodFactory = request.app.state.factory
    async with factory.async_client(key) as runpod:
        yield runpod


@app.post("/summaries", response_model=Summary)
async def create_summary(
    body: SummaryRequest,
    request: Request,
    runpod: Annotated[AsyncRunpod, Depends(tenant_runpod)],
) -> Summary:
    endpoint = runpod.endpoint(request.app.state.endpoint_id)
    try:
        return await endpoint.run_sync({"text": body.text}, output_type=Summary, timeout=300)
    except AuthenticationError:
        raise HTTPException(401, "RunPod refused this user's API key") from None
    except JobFailed as exc:
        raise HTTPException(422, f"the worker refused the input: {exc.error}") from None
