"""A RunPod worker: the handler you deploy, and test locally with test_my_worker.py.

RunPod calls `handler(job)` with `job = {"id": ..., "input": ...}`; what it
returns is the job's output. Returning `{"error": message}` fails the job with that
message; an exception fails it too, with RunPod's JSON error string (error_type,
error_message, error_traceback, ...) as the job's error.
This one "summarizes" text (the first words of it) and takes `seconds` of
pretend GPU time. On RunPod, a worker image runs this file:

    python my_worker.py      # needs `pip install runpod` in the worker image

Locally, the emulator runs the same handler:

    python -m runpod_typed.emulator --port 8000 --handler summarizer=my_worker:handler
"""

from __future__ import annotations

import asyncio
from typing import Any, cast


async def handler(job: dict[str, Any]) -> dict[str, Any]:
    """Input `{"text": str, "max_words"?: int, "seconds"?: float}`; output `{"summary", "words"}`."""
    data: object = job["input"]
    # JSON: an object's keys are strings.
    fields = cast("dict[str, Any]", data) if isinstance(data, dict) else {}
    text = fields.get("text")
    if not isinstance(text, str) or not text.strip():
        return {"error": "input.text must be a non-empty string"}
    max_words = int(fields.get("max_words", 8))
    await asyncio.sleep(float(fields.get("seconds", 0)))  # stands in for the model
    words = text.split()
    summary = " ".join(words[:max_words]) + (" ..." if len(words) > max_words else "")
    return {"summary": summary, "words": len(words)}


if __name__ == "__main__":
    # The worker SDK, in the worker image only (for type checkers: worker_file/runpod.pyi).
    import runpod

    runpod.serverless.start({"handler": handler})
