"""An OpenAI-compatible worker shaped like RunPod's vLLM worker, without a model.

RunPod calls it through ``/v2/{endpoint_id}/openai/v1/...`` with the input
``{"openai_route": "/v1/chat/completions", "openai_input": <the request body>}``. Like
worker-vllm, it is an async generator with ``return_aggregate_stream``: a plain request
gets one chunk, the whole response; a streaming one gets server-sent event text (several
events per chunk, ending with ``data: [DONE]``). The "model" answers with the words of
the last user message, prefixed by "echo:".
"""

import json
import time

import runpod

MODEL = "echo-model"


def _error(message, code=400):
    return {"object": "error", "message": message, "type": "BadRequestError", "code": code}


def _reply(messages):
    last = next((m for m in reversed(messages) if m.get("role") == "user"), {})
    return "echo: " + str(last.get("content", ""))


def _chunk(created, delta, finish_reason=None):
    choice = {"index": 0, "delta": delta, "finish_reason": finish_reason}
    body = {
        "id": "chatcmpl-echo",
        "object": "chat.completion.chunk",
        "created": created,
        "model": MODEL,
        "choices": [choice],
    }
    return f"data: {json.dumps(body)}\n\n"


async def handler(job):
    job_input = job["input"]
    route = job_input.get("openai_route")
    if route is None:  # RunPod's own API: stream the words of the prompt
        for word in str(job_input.get("prompt", "")).split():
            yield word
        return
    request = job_input.get("openai_input") or {}
    if route == "/v1/models":
        yield {
            "object": "list",
            "data": [{"id": MODEL, "object": "model", "created": 0, "owned_by": "tests"}],
        }
        return
    if route != "/v1/chat/completions":
        yield _error(f"route {route} is not served")
        return
    if request.get("model") != MODEL:
        yield _error(f"the model {request.get('model')!r} does not exist", 404)
        return
    text = _reply(request.get("messages", []))
    created = int(time.time())
    if not request.get("stream"):
        words = len(text.split())
        yield {
            "id": "chatcmpl-echo",
            "object": "chat.completion",
            "created": created,
            "model": MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": words,
                "completion_tokens": words,
                "total_tokens": 2 * words,
            },
        }
        return
    # Streaming: vLLM's worker batches several events into one chunk.
    batch = [_chunk(created, {"role": "assistant", "content": ""})]
    for index, word in enumerate(text.split()):
        batch.append(_chunk(created, {"content": word if index == 0 else " " + word}))
        if len(batch) >= 2:
            yield "".join(batch)
            batch = []
    batch.append(_chunk(created, {}, "stop"))
    batch.append("data: [DONE]\n\n")
    yield "".join(batch)


runpod.serverless.start(
    {
        "handler": handler,
        "concurrency_modifier": lambda current: 4,
        "return_aggregate_stream": True,
    }
)
