"""A RunPod worker file, written the way public workers are (runpod-workers' template).

The worker image runs ``python handler.py``; the official ``runpod`` package in it
(``pip install runpod``) then takes jobs from RunPod, calls ``handler(job)`` and sends
back what it yields. This one "writes a story": it streams the words of
``input.prompt``, ``input.delay`` seconds apart. With ``return_aggregate_stream`` the
job's final output is the list of those words (without it, RunPod's default, ``[]``).
A chunk ``{"error": ...}`` fails the job with that message.

Test it locally, unchanged, with the emulator (see run_locally.py and the README's
"Test your worker locally"):

    python -m runpod_typed.emulator --port 8000 \\
        --worker "story=handler.py" --worker-python /path/to/venv-with-runpod/bin/python
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import runpod

# Loaded once per worker process, before the first job: a real worker loads its model here.
STYLE = str.capitalize


def handler(job: dict[str, Any]) -> Iterator[str | dict[str, str]]:
    """Input ``{"prompt": str, "delay"?: float}``; streams the prompt's words."""
    job_input = job["input"]
    prompt = job_input.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        yield {"error": "input.prompt must be a non-empty string"}
        return
    for word in prompt.split():
        time.sleep(float(job_input.get("delay", 0)))  # stands in for the model
        yield STYLE(word)


runpod.serverless.start({"handler": handler, "return_aggregate_stream": True})
