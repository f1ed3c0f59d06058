"""JobStatus.from_json reads the usual answer directly and anything unusual through the
generated model: both ways must give the same JobStatus, and the same errors."""

from __future__ import annotations

from typing import Any

import pytest

from runpod_typed import JobState, ResponseFormatError
from runpod_typed._generated.serverless.models import JobStatusResponse
from runpod_typed._status import JobStatus, _plain_status, _value, parse_wire

ANSWERS: list[dict[str, Any]] = [
    {"id": "j1", "status": "IN_QUEUE"},
    {
        "id": "j1",
        "status": "COMPLETED",
        "output": {"a": [1, 2]},
        "delayTime": 3,
        "executionTime": 4,
    },
    {"id": "j1", "status": "FAILED", "error": "boom", "retries": 0, "workerId": "w1"},
    {"id": "j1", "status": "IN_PROGRESS", "output": None, "delayTime": None, "extra": {"x": 1}},
    {"id": "", "status": "CANCELLED"},
    # not plain: the model's path (an unknown state, a float or a bool timing, no id)
    {"id": "j1", "status": "PAUSED"},
    {"id": "j1", "status": "COMPLETED", "delayTime": 1.5},
    {"id": "j1", "status": "COMPLETED", "retries": True},
    {"status": "COMPLETED"},
    {"id": "j1", "status": 3},
]


def _through_the_model(raw: dict[str, Any], job_id: str) -> JobStatus:
    parsed = parse_wire(JobStatusResponse, raw, "job status")
    return JobStatus(
        parsed.id or job_id,
        parsed.status,
        _value(parsed.output),
        _value(parsed.error),
        _value(parsed.delay_time),
        _value(parsed.execution_time),
        _value(parsed.retries),
        _value(parsed.worker_id),
        raw,
    )


@pytest.mark.parametrize("raw", ANSWERS, ids=lambda raw: str(sorted(raw.items())))
def test_both_ways_agree(raw: dict[str, Any]) -> None:
    job_id = "j1"
    try:
        expected: JobStatus | str = _through_the_model(raw, job_id)
    except ResponseFormatError as exc:
        expected = str(exc)
    try:
        got: JobStatus | str = JobStatus.from_json(raw, job_id=job_id)
    except ResponseFormatError as exc:
        got = str(exc)
    assert got == expected
    if isinstance(got, JobStatus) and isinstance(expected, JobStatus):
        assert type(got.state) is JobState and got.state == expected.state
        assert got.raw is raw
        assert (got.delay_time_ms, got.worker_id) == (expected.delay_time_ms, expected.worker_id)


def test_only_plain_answers_take_the_direct_way() -> None:
    assert [_plain_status(raw) is not None for raw in ANSWERS] == [True] * 5 + [False] * 5


def test_an_answer_about_another_job_is_refused_either_way() -> None:
    for raw in ({"id": "j2", "status": "COMPLETED"}, {"id": "j2", "status": "PAUSED"}):
        with pytest.raises(ResponseFormatError, match="about job j2"):
            JobStatus.from_json(raw, job_id="j1")


def test_an_empty_id_takes_the_one_asked_about() -> None:
    assert JobStatus.from_json({"id": "", "status": "IN_QUEUE"}, job_id="j9").id == "j9"
    with pytest.raises(ResponseFormatError, match="no job id"):
        JobStatus.from_json({"id": "", "status": "IN_QUEUE"})
