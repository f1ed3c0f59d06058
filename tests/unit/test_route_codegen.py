"""codegen.routes: the route extensions of schema/serverless.openapi.yaml are checked
before anything is generated, and a broken declaration names what is wrong."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from codegen import generate
from codegen import routes as route_codegen

ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = ROOT / "schema" / "serverless.openapi.yaml"
RUN = "/{endpoint_id}/run"
STATUS = "/{endpoint_id}/status/{job_id}"
STATUS_SYNC = "/{endpoint_id}/status-sync/{job_id}"
HEALTH = "/{endpoint_id}/health"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    loaded = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _set(path: str, key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        doc["paths"][path][key] = value

    return change


def _drop(path: str, key: str) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        del doc["paths"][path][key]

    return change


def _budget(name: str, key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        doc["x-rate-limits"][name][key] = value

    return change


def _add_budget(doc: dict[str, Any]) -> None:
    doc["x-rate-limits"]["spare"] = {"requests": 1, "per-seconds": 1, "concurrent": None}


def _drop_wait(doc: dict[str, Any]) -> None:
    item = doc["paths"][STATUS_SYNC]
    item["parameters"] = [p for p in item["parameters"] if not p["$ref"].endswith("/Wait")]


BROKEN: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "missing extension": (_drop(HEALTH, "x-rate-limit"), "missing ['x-rate-limit']"),
    "misspelt extension": (_set(HEALTH, "x-long-pol", True), "unknown ['x-long-pol']"),
    "name is not the segment": (_set(RUN, "x-route", "submit"), "must be the path's segment"),
    "flag not a bool": (_set(RUN, "x-submission", "yes"), "must be true or false"),
    "idempotent submission": (_set(RUN, "x-idempotent", True), "cannot be idempotent"),
    "long-poll without wait": (_set(STATUS, "x-long-poll", True), "takes `wait` if and only if"),
    "wait without long-poll": (_drop_wait, "takes `wait` if and only if"),
    "limit without a body": (_set(HEALTH, "x-payload-limit", 1024), "request body if and only"),
    "body without a limit": (_set(RUN, "x-payload-limit", None), "request body if and only"),
    "limit not a size": (_set(RUN, "x-payload-limit", "10 MB"), "number of bytes"),
    "unknown budget": (_set(HEALTH, "x-rate-limit", "health"), "unknown budgets ['health']"),
    "unused budget": (_add_budget, "unused: ['spare']"),
    "budget of zero": (_budget("run", "requests", 0), "x-rate-limits.run.requests"),
    "budget without a window": (_budget("run", "per-seconds", 0), "per-seconds"),
    "budget with a stray key": (_budget("run", "burst", 5), "exactly the keys"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_declaration_is_refused_with_its_reason(
    document: dict[str, Any], case: str
) -> None:
    change, reason = BROKEN[case]
    broken = copy.deepcopy(document)
    change(broken)
    with pytest.raises(route_codegen.ContractError) as caught:
        route_codegen.load(broken)
    assert reason in str(caught.value)


def test_the_document_as_committed_loads(document: dict[str, Any]) -> None:
    table = route_codegen.load(document)
    assert [route.path for route in table.routes] == list(document["paths"])


def test_the_sdk_sends_get_where_a_route_accepts_it_and_post_otherwise(
    document: dict[str, Any],
) -> None:
    table = {route.name: route for route in route_codegen.load(document).routes}
    for route in table.values():
        assert route.method == ("GET" if "GET" in route.methods else "POST")


def test_generation_stops_at_a_broken_declaration_before_running_the_generators(
    document: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    broken = copy.deepcopy(document)
    _set(RUN, "x-idempotent", True)(broken)
    spec = tmp_path / "serverless.openapi.yaml"
    spec.write_text(yaml.safe_dump(broken), encoding="utf-8")
    monkeypatch.setattr(generate, "OPENAPI", spec)
    monkeypatch.setattr(generate, "_run_generators", lambda stage: pytest.fail("ran generators"))
    out = tmp_path / "generated"

    assert generate.main(["--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "serverless.openapi.yaml: /{endpoint_id}/run: a submission creates a job" in err
    assert not out.exists()
