"""Validation of what clients send to the job API: bodies of /run and /runsync, `wait`.

Every refusal is a :class:`BadRequest` carrying the HTTP status and a message that
says what was wrong and what is accepted; nothing is stored before validation passes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from runpod_typed.emulator import _json
from runpod_typed.emulator._settings import JobSettings


class BadRequest(Exception):
    """A request the job API refuses; `status` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class JobRequest:
    """A validated /run or /runsync body; times in seconds."""

    input: Any
    webhook: str | None
    execution_timeout: float
    ttl: float
    low_priority: bool


def _int_ms(policy: dict[str, Any], name: str, low: int, high: int, default: int) -> int:
    value = policy.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadRequest(
            f"policy.{name} must be an integer number of milliseconds between {low} and {high}, "
            f"got {json.dumps(value)}"
        )
    return value


def parse_json_body(body: bytes) -> Any:
    """A request body as JSON; BadRequest (400, the job API's bad-JSON error) if it is not
    JSON as RunPod's server reads it (see _json.loads)."""
    try:
        return _json.loads(body)
    except ValueError as exc:
        raise BadRequest(f"request body is not valid JSON: {exc}") from None


def parse_job_request(body: bytes, settings: JobSettings) -> JobRequest:
    """Parse a job submission; JSON is accepted whatever the Content-Type says (but only
    JSON as RunPod reads it: no NaN/Infinity, lone surrogates or extreme nesting)."""
    data = parse_json_body(body)
    if not isinstance(data, dict):
        raise BadRequest('request body must be a JSON object like {"input": {...}}')
    if data.get("input") is None:
        raise BadRequest('request body must have an "input" field')
    webhook = data.get("webhook")
    if webhook is not None and (
        not isinstance(webhook, str) or not webhook.startswith(("http://", "https://"))
    ):
        raise BadRequest("webhook must be an http:// or https:// URL")
    policy = data.get("policy") or {}
    if not isinstance(policy, dict):
        raise BadRequest("policy must be an object with executionTimeout, ttl and lowPriority")
    low_priority = policy.get("lowPriority", False)
    if not isinstance(low_priority, bool):
        raise BadRequest("policy.lowPriority must be true or false")
    execution_timeout = _int_ms(
        policy,
        "executionTimeout",
        settings.min_execution_timeout_ms,
        settings.max_execution_timeout_ms,
        settings.default_execution_timeout_ms,
    )
    ttl = _int_ms(policy, "ttl", settings.min_ttl_ms, settings.max_ttl_ms, settings.default_ttl_ms)
    s3_config = data.get("s3Config")
    if s3_config is not None and not isinstance(s3_config, dict):
        raise BadRequest(
            "s3Config must be an object with accessId, accessSecret, bucketName, endpointUrl"
        )
    return JobRequest(data["input"], webhook, execution_timeout / 1000, ttl / 1000, low_priority)


def parse_wait(raw: str | None, settings: JobSettings, default_ms: int | None) -> float | None:
    """The `wait` query parameter in seconds (None: answer at once)."""
    if raw is None:
        return None if default_ms is None else default_ms / 1000
    low, high = settings.min_wait_ms, settings.max_wait_ms
    try:
        wait = int(raw)
    except ValueError:
        wait = -1
    if not low <= wait <= high:
        raise BadRequest(
            f"wait must be an integer number of milliseconds between {low} and {high}, "
            f"got {raw[:40]!r}"
        )
    return wait / 1000
