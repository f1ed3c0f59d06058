"""schema/serverless.openapi.yaml: a valid OpenAPI 3.1 document with the names the facade uses,
and complete route extensions (the route table is generated from them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_spec_validator import validate

from codegen import routes as route_codegen
from runpod_typed._generated.serverless.routes import RATE_BUDGETS, ROUTES, WAIT_MAX_MS, WAIT_MIN_MS

ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = ROOT / "schema" / "serverless.openapi.yaml"

#: (method, path) of every operation, from the route table.
OPERATIONS = sorted(
    (method.lower(), route.path) for route in ROUTES.values() for method in route.methods
)
MB = 1024 * 1024

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


def _operation(spec: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    operation: dict[str, Any] = spec["paths"][path][method]
    return operation


def _route(path: str) -> Any:
    (route,) = [route for route in ROUTES.values() if route.path == path]
    return route


def test_the_document_is_valid_openapi_3_1(spec: dict[str, Any]) -> None:
    assert spec["openapi"].startswith("3.1.")
    validate(spec)


def test_every_operation_has_a_distinct_operation_id_and_is_in_the_route_table(
    spec: dict[str, Any],
) -> None:
    found = [
        (operation["operationId"], method, path)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in ("get", "put", "post", "delete", "patch", "head", "options", "trace")
    ]
    assert len({operation_id for operation_id, _, _ in found}) == len(found)
    assert sorted((method, path) for _, method, path in found) == OPERATIONS


@pytest.mark.parametrize("path", sorted(ROUTES[name].path for name in ROUTES))
def test_every_path_declares_every_route_extension(spec: dict[str, Any], path: str) -> None:
    item = spec["paths"][path]
    declared = [key for key in item if key.startswith("x-")]
    assert declared == list(route_codegen.ROUTE_EXTENSIONS)


def test_the_route_table_states_runpods_published_facts() -> None:
    """The one place the tests restate RunPod's documentation (DESIGN.md's table)."""
    assert {name: sorted(route.methods) for name, route in ROUTES.items()} == {
        "run": ["POST"],
        "runsync": ["POST"],
        "status": ["GET", "POST"],
        "status-sync": ["GET", "POST"],
        "stream": ["GET", "POST"],
        "cancel": ["POST"],
        "retry": ["POST"],
        "purge-queue": ["POST"],
        "health": ["GET"],
    }
    assert {name for name, route in ROUTES.items() if route.submission} == {"run", "runsync"}
    assert {name for name, route in ROUTES.items() if route.long_poll} == {
        "runsync",
        "status-sync",
        "stream",
    }
    assert {name for name, route in ROUTES.items() if route.idempotent} == {
        "status",
        "status-sync",
        "cancel",
        "health",
    }
    assert {name: r.payload_limit for name, r in ROUTES.items() if r.payload_limit} == {
        "run": 10 * MB,
        "runsync": 20 * MB,
    }
    assert (WAIT_MIN_MS, WAIT_MAX_MS) == (1_000, 300_000)
    budgets = {
        name: (route.rate_limit.bucket, route.rate_limit.requests, route.rate_limit.per_seconds)
        for name, route in ROUTES.items()
        if route.rate_limit is not None
    }
    assert budgets == {
        "runsync": ("runsync", 2000, 10),
        "run": ("run", 1000, 10),
        "status": ("status", 2000, 10),
        "status-sync": ("status", 2000, 10),  # one bucket: RunPod publishes "/status"
        "stream": ("stream", 2000, 10),
        "cancel": ("cancel", 100, 10),
        "purge-queue": ("purge-queue", 2, 10),
    }
    assert {name: b.concurrent for name, b in RATE_BUDGETS.items()} == {
        "run": 200,
        "runsync": 400,
        "status": 400,
        "stream": 400,
        "cancel": 20,
        "purge-queue": None,
    }


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


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_every_route_is_authenticated_and_documents_its_errors(
    spec: dict[str, Any], method: str, path: str
) -> None:
    operation = _operation(spec, method, path)
    responses = {code: _resolve(spec, r) for code, r in operation["responses"].items()}
    assert {"200", "401", "404", "429", "5XX"} <= set(responses)
    assert ("413" in responses) == (_route(path).payload_limit is not None)
    for code, response in responses.items():
        if code != "200":
            error_schema = response["content"]["application/json"]["schema"]
            assert error_schema == {"$ref": "#/components/schemas/ErrorResponse"}
    assert "Retry-After" in responses["429"]["headers"]
    assert operation.get("security", spec["security"]) == [{"bearerAuth": []}]
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_long_poll_routes_take_a_bounded_wait(spec: dict[str, Any], method: str, path: str) -> None:
    declared = [*spec["paths"][path].get("parameters", [])]
    declared += _operation(spec, method, path).get("parameters", [])
    waits = [p for p in (_resolve(spec, d) for d in declared) if p["name"] == "wait"]
    if not _route(path).long_poll:
        assert waits == []
        return
    (wait,) = waits
    assert (wait["in"], wait["required"]) == ("query", False)
    assert (wait["schema"]["minimum"], wait["schema"]["maximum"]) == (WAIT_MIN_MS, WAIT_MAX_MS)


@pytest.mark.parametrize(
    ("method", "path"), [(m, p) for m, p in OPERATIONS if _route(p).payload_limit is not None]
)
def test_job_submission_takes_a_run_request(spec: dict[str, Any], method: str, path: str) -> None:
    body = _resolve(spec, _operation(spec, method, path)["requestBody"])
    assert body["required"] is True
    schema = body["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/RunRequest"}
