"""The emulator routes the job API exactly as the route table declares it.

Each route answers the methods it lists and 405 (with `Allow`) to every other;
a path that is not a route, or has the wrong shape for one (a job id missing or
extra), is RunPod's plain-text 404.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from runpod_typed._generated.serverless.routes import ROUTES
from runpod_typed.emulator import Emulator, RunningEmulator

from . import job_api

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
EP = "echo"


@pytest.fixture(scope="module")
def server() -> Iterator[RunningEmulator]:
    with Emulator(rate_limits=False).serve() as running:
        yield running


@pytest.fixture
def api(server: RunningEmulator) -> Iterator[httpx.Client]:
    server.reset()
    with job_api(server) as client:
        yield client


def _path(route: str, job_id: str) -> str:
    return ROUTES[route].path.format(endpoint_id=EP, job_id=job_id)


@pytest.mark.parametrize("route", list(ROUTES))
@pytest.mark.parametrize("method", METHODS)
def test_a_route_answers_exactly_its_methods(api: httpx.Client, route: str, method: str) -> None:
    job_id = api.post(f"/{EP}/run", json={"input": {"x": 1}}).json()["id"]
    body = {"input": {"x": 1}} if ROUTES[route].payload_limit else None
    params = {"wait": "1000"} if ROUTES[route].long_poll else None
    response = api.request(method, _path(route, job_id), json=body, params=params)
    if method in ROUTES[route].methods:
        assert response.status_code not in (404, 405), response.text
        assert response.headers["content-type"] == "application/json"
    else:
        assert response.status_code == 405
        assert response.text == "405 method not allowed"
        assert response.headers["allow"] == ", ".join(sorted(ROUTES[route].methods))


@pytest.mark.parametrize("route", list(ROUTES))
def test_a_path_of_the_wrong_shape_is_runpods_plain_404(api: httpx.Client, route: str) -> None:
    if ROUTES[route].job_scoped:
        wrong = [f"/{EP}/{route}", f"/{EP}/{route}/", f"/{EP}/{route}/job-1/more"]
    else:
        wrong = [f"/{EP}/{route}/job-1", f"/{EP}/{route}/"]
    wrong += [f"/{EP}/{route}s", f"//{route}"]
    for path in wrong:
        for method in sorted(ROUTES[route].methods):
            response = api.request(method, path)
            assert (response.status_code, response.text) == (404, "404 page not found"), path


def test_status_sync_is_not_served_without_long_polling(
    runpod_emulator_factory: Callable[..., RunningEmulator],
) -> None:
    server = runpod_emulator_factory(long_poll=False)
    with job_api(server) as api:
        job_id = api.post(f"/{EP}/run", json={"input": 1}).json()["id"]
        missing = api.get(_path("status-sync", job_id))
        assert (missing.status_code, missing.text) == (404, "404 page not found")
        assert api.get(_path("status", job_id)).status_code == 200
