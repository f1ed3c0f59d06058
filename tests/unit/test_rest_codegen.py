"""generated/rest/: what codegen/rest_v2.py ships from RunPod's v2 description, and its checks.

(That the committed tree is what a fresh generation gives is tests/unit/test_codegen.py's
check-generated test, which covers this package too.)
"""

from __future__ import annotations

import copy
import datetime
import enum
import importlib
import inspect
import pkgutil
from pathlib import Path
from typing import Any

import pytest

from codegen import rest_v2
from runpod_typed._generated.rest import flows, models
from runpod_typed._generated.rest.operations import COLLECTIONS, OPERATIONS, ROOT, ROUTES
from runpod_typed._generated.rest.types import isoparse

ROOT_DIR = Path(__file__).resolve().parents[2]
GENERATED = ROOT_DIR / "generated" / "rest"
STREAMS = {"getPodLogs", "getWorkerLogs"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return rest_v2.load()


def test_every_operation_of_the_description_is_in_the_table(document: dict[str, Any]) -> None:
    described = {
        node["operationId"]
        for item in document["paths"].values()
        for method, node in item.items()
        if method != "parameters"
    }
    assert set(OPERATIONS) == described and len(OPERATIONS) == 53
    assert {op.id for op in OPERATIONS.values() if op.stream} == STREAMS
    assert all(op.path.startswith(ROOT + "/") for op in OPERATIONS.values())
    assert {
        "account",
        "billing",
        "catalog",
        "clusters",
        "network-volumes",
        "pods",
        "registries",
        "serverless",
        "templates",
    } == COLLECTIONS


def test_every_operation_is_a_method_of_the_three_classes() -> None:
    names = {
        name
        for name, member in inspect.getmembers(flows.RestFlows, inspect.isfunction)
        if not name.startswith("_")
    }
    assert len(names) == len(OPERATIONS) == len(ROUTES)
    for cls in (flows.RestApi, flows.AsyncRestApi):
        assert {
            n for n, _ in inspect.getmembers(cls, inspect.isfunction) if not n.startswith("_")
        } == names
    assert inspect.iscoroutinefunction(flows.AsyncRestApi.get_pod)
    assert not inspect.iscoroutinefunction(flows.AsyncRestApi.get_pod_logs)  # an async iterator
    signature = inspect.signature(flows.RestApi.get_pod_logs)
    assert list(signature.parameters) == ["self", "id", "source", "tail", "since", "last_event_id"]


def test_the_package_ships_no_http_client() -> None:
    shipped = {
        path.relative_to(GENERATED).parts[0]
        for path in GENERATED.rglob("*")
        if "__pycache__" not in path.parts
    }
    assert shipped == {
        "__init__.py",
        "flow_base.py",
        "flows.py",
        "models",
        "openapi.json",
        "operations.py",
        "types.py",
    }
    for path in GENERATED.rglob("*.py"):
        text = path.read_text()
        assert "import httpx" not in text and "AuthenticatedClient" not in text, path


def test_the_description_ships_byte_for_byte() -> None:
    assert (GENERATED / "openapi.json").read_bytes() == rest_v2.V2_SPEC.read_bytes()


def test_the_generator_input_adds_the_log_event_and_leaves_the_snapshot_alone(
    document: dict[str, Any],
) -> None:
    before = copy.deepcopy(document)
    spec = rest_v2.generator_input(document)
    assert document == before
    assert spec["components"]["schemas"]["LogEvent"] == rest_v2.LOG_EVENT_SCHEMA
    header = spec["components"]["parameters"]["LogLastEventID"]
    assert header["schema"] == {"type": "string"}
    assert before["components"]["parameters"]["LogLastEventID"]["schema"]["format"] == "date-time"
    with pytest.raises(rest_v2.ContractError, match="LogEvent"):
        rest_v2.generator_input(spec)


def test_an_exploded_array_query_parameter_is_refused(document: dict[str, Any]) -> None:
    spec = copy.deepcopy(document)
    spec["components"]["parameters"]["CatalogIncludeParam"]["explode"] = True
    with pytest.raises(rest_v2.ContractError, match="exploded"):
        rest_v2.operations(spec)


def test_a_repeated_operation_id_is_refused(document: dict[str, Any]) -> None:
    spec = copy.deepcopy(document)
    spec["paths"]["/v2/pods"]["get"]["operationId"] = "getPod"
    with pytest.raises(rest_v2.ContractError, match="twice"):
        rest_v2.operations(spec)


def test_resends_follow_http_semantics_and_routes_name_snake_case_parameters() -> None:
    assert OPERATIONS["createPod"].idempotent is False
    assert OPERATIONS["updatePod"].idempotent is False
    assert OPERATIONS["updateSshKeys"].idempotent is True
    assert OPERATIONS["deletePod"].idempotent is True
    worker_logs = OPERATIONS["getWorkerLogs"]
    assert ROUTES["GET /v2/serverless/{id}/workers/{worker_id}/logs"] is worker_logs
    assert worker_logs.path_params == ("id", "workerId")
    assert OPERATIONS["podAction"].success == (200, 204)
    assert OPERATIONS["createPod"].body == "CreatePodRequest"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-08-18T12:00:00Z", datetime.datetime(2026, 8, 18, 12, tzinfo=datetime.timezone.utc)),
        (
            "2026-08-18T12:00:00.123456789Z",
            datetime.datetime(2026, 8, 18, 12, 0, 0, 123456, tzinfo=datetime.timezone.utc),
        ),
        (
            "2026-08-18T12:00:00.5+02:00",
            datetime.datetime(
                2026, 8, 18, 12, 0, 0, 500000, tzinfo=datetime.timezone(datetime.timedelta(hours=2))
            ),
        ),
    ],
)
def test_timestamps_parse_as_runpod_writes_them(text: str, expected: datetime.datetime) -> None:
    assert isoparse(text) == expected


def test_every_model_enum_is_open() -> None:
    enums = set()
    for info in pkgutil.iter_modules(models.__path__, f"{models.__name__}."):
        module = importlib.import_module(info.name)
        enums |= {
            value
            for value in vars(module).values()
            if isinstance(value, type)
            and issubclass(value, enum.Enum)
            and value.__module__ == info.name
        }
    assert {e.__name__ for e in enums} >= {"PodStatus", "PodAction", "LogSource", "Cloud"}
    for enum_class in enums:
        member = enum_class("SOMETHING_NEW")
        assert (member.name, member.value) == ("UNKNOWN", "SOMETHING_NEW"), enum_class
