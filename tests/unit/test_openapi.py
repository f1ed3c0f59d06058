"""schema/serverless.openapi.yaml: a valid OpenAPI 3.1 document with the names the facade uses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_spec_validator import validate

ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = ROOT / "schema" / "serverless.openapi.yaml"

#: operationId -> (method, path) of every job API route.
OPERATIONS = {
    "run": ("post", "/{endpoint_id}/run"),
    "runSync": ("post", "/{endpoint_id}/runsync"),
    "getStatus": ("get", "/{endpoint_id}/status/{job_id}"),
    "postStatus": ("post", "/{endpoint_id}/status/{job_id}"),
    "statusSync": ("get", "/{endpoint_id}/status-sync/{job_id}"),
    "stream": ("get", "/{endpoint_id}/stream/{job_id}"),
    "cancel": ("post", "/{endpoint_id}/cancel/{job_id}"),
    "retry": ("post", "/{endpoint_id}/retry/{job_id}"),
    "purgeQueue": ("post", "/{endpoint_id}/purge-queue"),
    "health": ("get", "/{endpoint_id}/health"),
}
WAITING = {"runSync", "statusSync", "stream"}
WITH_BODY = {"run", "runSync"}

#: component -> properties the facade reads or writes (required ones marked by the set).
COMPONENTS: dict[str, tuple[set[str], set[str]]] = {
    "RunRequest": ({"input", "webhook", "policy", "s3Config"}, {"input"}),
    "JobPolicy": ({"executionTimeout", "lowPriority", "ttl"}, set()),
    "S3Config": (
        {"accessId", "accessSecret", "bucketName", "endpointUrl"},
        {"accessId", "accessSecret", "bucketName", "endpointUrl"},
    ),
    "JobStatusResponse": (
        {"id", "status", "delayTime", "executionTime", "output", "error", "retries", "workerId"},
        {"id", "status"},
    ),
    "RunResponse": ({"id", "status"}, {"id", "status"}),
    "StreamResponse": ({"status", "stream", "id"}, {"status", "stream"}),
    "StreamChunk": ({"output"}, set()),
    "HealthResponse": ({"jobs", "workers"}, {"jobs", "workers"}),
    "HealthJobs": (
        {"completed", "failed", "inProgress", "inQueue", "retried"},
        {"completed", "failed", "inProgress", "inQueue", "retried"},
    ),
    "HealthWorkers": (
        {"idle", "running", "initializing", "ready", "throttled", "unhealthy"},
        {"idle", "running"},
    ),
    "PurgeQueueResponse": ({"removed", "status"}, {"removed", "status"}),
    "ErrorResponse": ({"error"}, {"error"}),
}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    loaded = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow local `$ref`s (#/components/...) to the object they name."""
    while "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _operation(spec: dict[str, Any], operation_id: str) -> dict[str, Any]:
    method, path = OPERATIONS[operation_id]
    operation: dict[str, Any] = spec["paths"][path][method]
    return operation


def test_the_document_is_valid_openapi_3_1(spec: dict[str, Any]) -> None:
    assert spec["openapi"].startswith("3.1.")
    validate(spec)


def test_every_route_has_its_distinct_operation_id(spec: dict[str, Any]) -> None:
    found = {
        operation["operationId"]: (method, path)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method != "parameters"
    }
    assert found == OPERATIONS


@pytest.mark.parametrize("name", sorted(COMPONENTS))
def test_components_the_facade_relies_on(spec: dict[str, Any], name: str) -> None:
    properties, required = COMPONENTS[name]
    schema = spec["components"]["schemas"][name]
    assert set(schema["properties"]) == properties
    assert set(schema.get("required", [])) == required


def test_job_state_lists_runpods_states_in_order(spec: dict[str, Any]) -> None:
    assert spec["components"]["schemas"]["JobState"]["enum"] == [
        "IN_QUEUE",
        "IN_PROGRESS",
        "COMPLETED",
        "FAILED",
        "CANCELLED",
        "TIMED_OUT",
    ]


@pytest.mark.parametrize("operation_id", sorted(OPERATIONS))
def test_every_route_is_authenticated_and_documents_its_errors(
    spec: dict[str, Any], operation_id: str
) -> None:
    operation = _operation(spec, operation_id)
    responses = {code: _resolve(spec, r) for code, r in operation["responses"].items()}
    assert {"200", "401", "404", "429", "5XX"} <= set(responses)
    assert ("413" in responses) == (operation_id in WITH_BODY)
    for code, response in responses.items():
        if code != "200":
            error_schema = response["content"]["application/json"]["schema"]
            assert error_schema == {"$ref": "#/components/schemas/ErrorResponse"}
    assert "Retry-After" in responses["429"]["headers"]
    assert operation.get("security", spec["security"]) == [{"bearerAuth": []}]
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


@pytest.mark.parametrize("operation_id", sorted(OPERATIONS))
def test_long_poll_routes_take_a_bounded_wait(spec: dict[str, Any], operation_id: str) -> None:
    parameters = [_resolve(spec, p) for p in _operation(spec, operation_id).get("parameters", [])]
    waits = [p for p in parameters if p["name"] == "wait"]
    if operation_id not in WAITING:
        assert waits == []
        return
    (wait,) = waits
    assert (wait["in"], wait["required"]) == ("query", False)
    assert (wait["schema"]["minimum"], wait["schema"]["maximum"]) == (1000, 300000)


@pytest.mark.parametrize("operation_id", sorted(WITH_BODY))
def test_job_submission_takes_a_run_request(spec: dict[str, Any], operation_id: str) -> None:
    body = _resolve(spec, _operation(spec, operation_id)["requestBody"])
    assert body["required"] is True
    schema = body["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/RunRequest"}
