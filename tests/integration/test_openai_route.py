"""RunPod's OpenAI-compatible route, driven by the official `openai` client.

`endpoint.openai_base_url` is what the `openai` package is given; the emulator wraps
each request into a job whose input is ``{"openai_route", "openai_input"}`` (as RunPod
does for its vLLM workers) and answers from what the worker streams. Two workers:
tests/workers/openai_echo.py (shaped like runpod-workers/worker-vllm) as a real worker
process under the official runtime, and small in-process handlers.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from runpod_typed import AsyncRunpod, Runpod
from runpod_typed.emulator import Emulator, RunningEmulator

from . import eventually

# A dev tool, not a test dependency: the lowest-versions run has no `openai`.
openai = pytest.importorskip("openai")

ROOT = Path(__file__).resolve().parents[2]
OFFICIAL_PYTHON = ROOT / ".official-venv" / "bin" / "python"
MESSAGES: list[Any] = [
    {"role": "system", "content": "be brief"},
    {"role": "user", "content": "hello there world"},
]
Factory = Callable[..., RunningEmulator]


def _client(server: RunningEmulator, endpoint_id: str, **options: Any) -> openai.OpenAI:
    with Runpod(
        "test-key", api_base_url=server.url, endpoint_base_url=server.endpoint_base_url
    ) as rp:
        base_url = rp.endpoint(endpoint_id).openai_base_url
    return openai.OpenAI(api_key="test-key", base_url=base_url, **options)


def test_openai_base_url_is_the_endpoints_openai_route() -> None:
    with Runpod("k") as rp:
        assert rp.endpoint("abc123").openai_base_url == "https://api.runpod.ai/v2/abc123/openai/v1"

    async def main() -> str:
        async with AsyncRunpod("k", endpoint_base_url="http://127.0.0.1:9/v2") as rp:
            return rp.endpoint("abc123").openai_base_url

    assert asyncio.run(main()) == "http://127.0.0.1:9/v2/abc123/openai/v1"


# ---------------------------------------------------------------------------- a real worker


@pytest.fixture(scope="module")
def vllm_like() -> Iterator[RunningEmulator]:
    if not OFFICIAL_PYTHON.exists():
        pytest.fail(f"{OFFICIAL_PYTHON} is missing: run make setup")
    emulator = Emulator(
        worker_files={"llm": str(ROOT / "tests" / "workers" / "openai_echo.py")},
        worker_python=str(OFFICIAL_PYTHON),
        workers=1,
        rate_limits=False,
    )
    with emulator.serve() as server:

        def ready() -> bool | None:
            answer = httpx.get(
                f"{server.endpoint_base_url}/llm/health", headers={"Authorization": "k"}
            )
            return True if answer.json()["workers"]["idle"] else None

        eventually(ready, "the worker process")
        yield server


@pytest.mark.compat
def test_chat_completion(vllm_like: RunningEmulator) -> None:
    client = _client(vllm_like, "llm")
    completion = client.chat.completions.create(model="echo-model", messages=MESSAGES)
    assert completion.object == "chat.completion"
    assert completion.choices[0].message.content == "echo: hello there world"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.total_tokens == 8


@pytest.mark.compat
def test_streamed_chat_completion(vllm_like: RunningEmulator) -> None:
    client = _client(vllm_like, "llm")
    stream = client.chat.completions.create(model="echo-model", messages=MESSAGES, stream=True)
    chunks = list(stream)
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks)
    assert text == "echo: hello there world"
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason == "stop"


@pytest.mark.compat
def test_async_client_streams_and_lists_models(vllm_like: RunningEmulator) -> None:
    async def main() -> tuple[str, list[str]]:
        async with AsyncRunpod(
            "k", api_base_url=vllm_like.url, endpoint_base_url=vllm_like.endpoint_base_url
        ) as rp:
            client = openai.AsyncOpenAI(api_key="k", base_url=rp.endpoint("llm").openai_base_url)
            stream = await client.chat.completions.create(
                model="echo-model", messages=MESSAGES, stream=True
            )
            text = "".join([chunk.choices[0].delta.content or "" async for chunk in stream])
            models = [model.id async for model in client.models.list()]
            await client.close()
            return text, models

    text, models = asyncio.run(main())
    assert text == "echo: hello there world"
    assert models == ["echo-model"]


@pytest.mark.compat
def test_an_error_the_worker_yields_is_the_answers_status(vllm_like: RunningEmulator) -> None:
    client = _client(vllm_like, "llm", max_retries=0)
    with pytest.raises(openai.NotFoundError) as missing:
        client.chat.completions.create(model="gpt-4", messages=MESSAGES)
    assert "does not exist" in str(missing.value)
    assert vllm_like.counters()["requests"]["openai"] >= 1


# ---------------------------------------------------------------------------- in-process handlers

SEEN: list[Any] = []


async def echo_llm(job: dict[str, Any]) -> AsyncIterator[Any]:
    """vLLM's shape in miniature, without the runpod package."""
    SEEN.append(job["input"])
    request = job["input"]["openai_input"] or {}
    words = ["echo:", *request.get("messages", [{}])[-1].get("content", "").split()]
    if request.get("stream"):
        for index, word in enumerate(words):
            delta = {"content": word if index == 0 else " " + word}
            yield {  # a JSON chunk: the emulator writes it as one event
                "id": "c",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": request["model"],
                "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
            }
            await asyncio.sleep(0.01)
        return
    yield {
        "id": "c",
        "object": "chat.completion",
        "created": 0,
        "model": request["model"],
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": " ".join(words)},
                "finish_reason": "stop",
            }
        ],
    }


async def returns_instead(job: dict[str, Any]) -> Any:
    return {"id": "c", "object": "chat.completion", "choices": []}


def raises(job: dict[str, Any]) -> Any:
    raise RuntimeError("the model is not loaded")
    yield  # a generator function


async def endless(job: dict[str, Any]) -> AsyncIterator[str]:
    while True:
        yield 'data: {"id":"c","object":"chat.completion.chunk","created":0,"model":"m","choices":[{"index":0,"delta":{"content":"x"},"finish_reason":null}]}\n\n'
        await asyncio.sleep(0.02)


@pytest.fixture
def in_process(runpod_emulator_factory: Factory) -> RunningEmulator:
    return runpod_emulator_factory(
        api_key="test-key",
        handlers={
            "echo": echo_llm,
            "returns": returns_instead,
            "raises": raises,
            "endless": endless,
        },
    )


def test_the_request_becomes_a_job_as_runpod_wraps_it(in_process: RunningEmulator) -> None:
    SEEN.clear()
    client = _client(in_process, "echo")
    completion = client.chat.completions.create(model="m", messages=MESSAGES, temperature=0.5)
    assert completion.choices[0].message.content == "echo: hello there world"
    assert SEEN == [
        {
            "openai_route": "/v1/chat/completions",
            "openai_input": {"messages": MESSAGES, "model": "m", "temperature": 0.5},
        }
    ]
    streamed = client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in streamed) == "echo: hello there world"
    assert SEEN[-1]["openai_input"]["stream"] is True
    states = in_process.counters()["final_state_totals"]
    assert states == {"COMPLETED": 2}


def test_a_wrong_key_is_refused(in_process: RunningEmulator) -> None:
    client = openai.OpenAI(
        api_key="wrong", base_url=f"{in_process.endpoint_base_url}/echo/openai/v1", max_retries=0
    )
    with pytest.raises(openai.AuthenticationError):
        client.chat.completions.create(model="m", messages=MESSAGES)


def test_a_handler_must_stream_and_a_failed_job_is_a_server_error(
    in_process: RunningEmulator,
) -> None:
    with pytest.raises(openai.InternalServerError) as returned:
        _client(in_process, "returns", max_retries=0).chat.completions.create(
            model="m", messages=MESSAGES
        )
    assert "generator function" in str(returned.value)
    with pytest.raises(openai.InternalServerError) as failed:
        _client(in_process, "raises", max_retries=0).chat.completions.create(
            model="m", messages=MESSAGES, stream=True
        )
    assert "the model is not loaded" in str(failed.value)


def test_leaving_a_stream_cancels_its_job(in_process: RunningEmulator) -> None:
    client = _client(in_process, "endless")
    stream = client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
    for count, _ in enumerate(stream, 1):
        if count == 3:
            break
    stream.close()

    def cancelled() -> bool | None:
        totals = in_process.counters()["final_state_totals"]
        return True if totals.get("CANCELLED") == 1 else None

    started = time.monotonic()
    eventually(cancelled, "the job to be cancelled")
    assert time.monotonic() - started < 10


def test_the_route_without_a_path_or_endpoint(in_process: RunningEmulator) -> None:
    headers = {"Authorization": "Bearer test-key"}
    base = in_process.endpoint_base_url
    assert httpx.post(f"{base}/nope/openai/v1/models", headers=headers).status_code == 404
    assert httpx.get(f"{base}/echo/openai/", headers=headers).status_code == 404
    bad = httpx.post(f"{base}/echo/openai/v1/chat/completions", headers=headers, content=b"{")
    assert bad.status_code == 400
