"""Test your worker and your client code together, against the emulator, with pytest.

    pytest examples/test_my_worker.py

`runpod_emulator_factory` (a fixture that installing runpod-typed registers)
starts a local RunPod on a free loopback port running `my_worker.handler`;
the real client then talks to it over HTTP, exactly as it would to RunPod.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pydantic
import pytest
from my_worker import handler

from runpod_typed import JobFailed, Runpod


class Summary(pydantic.BaseModel):
    summary: str
    words: int


@pytest.fixture
def rp(runpod_emulator_factory: Callable[..., Any]) -> Iterator[Runpod]:
    server = runpod_emulator_factory(handlers={"summarizer": handler})
    with Runpod(
        "any-key", api_base_url=server.url, endpoint_base_url=server.endpoint_base_url
    ) as client:
        yield client


def test_summary_is_typed(rp: Runpod) -> None:
    text = "one two three four five six seven eight nine ten"
    result = rp.endpoint("summarizer").run_sync({"text": text}, output_type=Summary)
    assert result == Summary(summary="one two three four five six seven eight ...", words=10)


def test_bad_input_fails_the_job(rp: Runpod) -> None:
    with pytest.raises(JobFailed) as failure:
        rp.endpoint("summarizer").run_sync({"text": ""})
    assert failure.value.error is not None
    assert "input.text must be a non-empty string" in str(failure.value.error)


def test_many_inputs(rp: Runpod) -> None:
    texts = [" ".join(["word"] * n) for n in range(1, 21)]
    results = rp.endpoint("summarizer").map(
        [{"text": t} for t in texts], output_type=Summary, concurrency=5
    )
    assert [r.words for r in results] == list(range(1, 21))
