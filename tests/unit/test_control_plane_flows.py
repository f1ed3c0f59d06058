"""Control-plane helpers as plain flows over the generated flow client (no sockets).

Scripted sends stand in for the GraphQL and REST v2 transports: the helpers' flows yield
only the send's own effects (no Invoke, no nested driver), get typed models
back, and map RunPod's not-found answers to PodNotFound.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Generator
from typing import Any

import pytest

from runpod_typed import (
    GraphQLError,
    NotFoundError,
    PodFailed,
    PodNotFound,
    PollingOptions,
    RunpodError,
    WaitTimeout,
)
from runpod_typed._account import AccountFlows
from runpod_typed._catalog import CatalogFlows
from runpod_typed._flow import Send, Sleep
from runpod_typed._generated.graphql import (
    CloudTypeEnum,
    RunpodGraphQLFlows,
)
from runpod_typed._generated.rest.flow_base import RestRequest
from runpod_typed._generated.rest.flows import RestFlows
from runpod_typed._graphql import invalid_answer, says_not_found
from runpod_typed._pods import PodFlows as _PodFlows
from runpod_typed._rest import RestAnswer
from runpod_typed._rest import invalid_answer as invalid_rest_answer
from runpod_typed.rest import Pod
from runpod_typed.rest import PodStatus as RestPodStatus

Answer = Callable[[dict[str, Any]], dict[str, Any]]
SEND = Send("POST", "https://api.runpod.io/graphql", {})


def pod_flows(graphql: Script | None = None, rest: RestScript | None = None) -> _PodFlows:
    """The pod helpers over scripted GraphQL and REST v2 sends, with default polling."""
    return _PodFlows(
        (graphql or Script()).flows(),  # type: ignore[arg-type]
        PollingOptions(),
        (rest or RestScript()).flows(),  # type: ignore[arg-type]
    )


class RestScript:
    """A fake REST v2 send: one effect per request, answers (JSON, or a callable) in order."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.requests: list[RestRequest] = []

    def send(self, request: RestRequest) -> Generator[Send, Any, RestAnswer]:
        self.requests.append(request)
        yield SEND
        answer = self.answers.pop(0)
        if callable(answer):
            answer = answer(request)
        status = 201 if request.method == "POST" and request.path == "/v2/pods" else 200
        return RestAnswer(request, status, json.dumps(answer).encode(), {})

    def flows(self) -> RestFlows[Send]:
        return RestFlows(send=self.send, stream=_no_stream, invalid=invalid_rest_answer)


def _no_stream(request: RestRequest, parse: Any) -> Generator[Send, Any, None]:
    raise AssertionError("no streams here")
    yield SEND


def missing(request: RestRequest) -> Any:
    raise NotFoundError("pod p1 not found", status_code=404, body="")


def v2_pod(status: str, *, actions: list[str] | None = None) -> dict[str, Any]:
    return {
        "args": "",
        "disk": 10,
        "env": {},
        "image": "img",
        "ports": [],
        "registry": None,
        "actions": actions if actions is not None else ["stop", "terminate"],
        "cloud": "SECURE",
        "cost": 0.76,
        "createdAt": "2026-11-29T17:26:39.521000+00:00",
        "cudaVersion": "12.8",
        "dataCenterId": "US-TX-3",
        "globalNetworking": {"enabled": False},
        "id": "p1",
        "locked": False,
        "mounts": {},
        "name": "trainer",
        "runtime": None,
        "ssh": {"direct": None, "proxy": None},
        "startedAt": None,
        "status": status,
        "template": None,
        "gpu": {"id": "NVIDIA RTX A6000", "count": 1},
    }


class Script:
    """A fake GraphQL send: one effect per operation, answers taken in order."""

    def __init__(self, *answers: Answer | dict[str, Any]) -> None:
        self.answers = list(answers)
        self.payloads: list[dict[str, Any]] = []

    def send(self, payload: dict[str, Any]) -> Generator[Send, Any, dict[str, Any]]:
        self.payloads.append(payload)
        yield SEND
        answer = self.answers.pop(0)
        return answer(payload) if callable(answer) else answer

    def flows(self) -> RunpodGraphQLFlows[Send]:
        return RunpodGraphQLFlows(send=self.send, invalid=invalid_answer)


def run(flow: Generator[Any, Any, Any]) -> tuple[Any, list[Any]]:
    """Step a flow to its end, answering every effect with None; return (result, effects)."""
    effects: list[Any] = []
    try:
        effect = next(flow)
        while True:
            effects.append(effect)
            effect = flow.send(None)
    except StopIteration as stop:
        return stop.value, effects


def pod(status: str = "RUNNING", *, runtime: bool = True, pod_id: str = "p1") -> dict[str, Any]:
    return {
        "id": pod_id,
        "name": "trainer",
        "desiredStatus": status,
        "lastStatusChange": None,
        "podType": None,
        "imageName": "img",
        "dockerArgs": None,
        "env": [],
        "gpuCount": 1,
        "vcpuCount": 8,
        "memoryInGb": 32,
        "containerDiskInGb": 20,
        "volumeInGb": 0,
        "volumeMountPath": None,
        "ports": None,
        "costPerHr": 0.5,
        "adjustedCostPerHr": 0.5,
        "lowestBidPriceToResume": None,
        "machineId": "m1",
        "uptimeSeconds": 0,
        "templateId": None,
        "networkVolumeId": None,
        "containerRegistryAuthId": None,
        "clusterIp": None,
        "machine": None,
        "runtime": {"uptimeInSeconds": 1, "ports": [], "gpus": [], "container": None}
        if runtime
        else None,
    }


def not_found(field: str) -> Answer:
    def answer(payload: dict[str, Any]) -> dict[str, Any]:
        error = {
            "message": "Pod not found: p1",
            "path": [field],
            "extensions": {"code": "NOT_FOUND"},
        }
        raise GraphQLError([error], data={field: None}, operation_name=payload["operationName"])

    return answer


def test_get_is_one_v2_send_and_returns_the_typed_pod_from_camel_case() -> None:
    rest = RestScript(v2_pod("EXITED"))
    result, effects = run(pod_flows(rest=rest).get("p1"))
    assert effects == [SEND]
    assert isinstance(result, Pod)
    assert result.status is RestPodStatus.EXITED
    assert [(r.method, r.path) for r in rest.requests] == [("GET", "/v2/pods/p1")]


@pytest.mark.parametrize(
    "call",
    [
        lambda flows: flows.get("p1"),
        lambda flows: flows.start("p1"),
        lambda flows: flows.stop("p1"),
        lambda flows: flows.restart("p1"),
        lambda flows: flows.resume("p1"),
        lambda flows: flows.edit("p1", image_name="img:2"),
        lambda flows: flows.terminate("p1"),
    ],
)
def test_v2s_404_becomes_pod_not_found(
    call: Callable[[_PodFlows], Generator[Any, Any, Any]],
) -> None:
    with pytest.raises(PodNotFound) as caught:
        run(call(pod_flows(rest=RestScript(missing))))
    assert caught.value.pod_id == "p1"
    assert "no pod with id 'p1'" in str(caught.value)
    assert isinstance(caught.value.__cause__, NotFoundError)
    assert isinstance(caught.value, LookupError)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda flows: flows.resume("p1", gpu_count=2), "podResume"),
        (lambda flows: flows.resume("p1", gpu_count=1, bid_per_gpu=0.2), "podBidResume"),
    ],
)
def test_graphqls_not_found_becomes_pod_not_found_where_graphql_serves(
    call: Callable[[_PodFlows], Generator[Any, Any, Any]], field: str
) -> None:
    with pytest.raises(PodNotFound) as caught:
        run(call(pod_flows(Script(not_found(field)))))
    assert isinstance(caught.value.__cause__, GraphQLError)


def test_other_graphql_errors_are_not_mistaken_for_not_found() -> None:
    def refused(payload: dict[str, Any]) -> dict[str, Any]:
        raise GraphQLError([{"message": "There are no longer any instances available"}])

    with pytest.raises(GraphQLError) as caught:
        run(pod_flows(Script(refused)).resume("p1", bid_per_gpu=0.3))
    assert not isinstance(caught.value, PodNotFound)


def test_says_not_found_needs_every_error_to_say_so() -> None:
    found = {"message": "Pod not found: x"}
    coded = {"message": "nope", "extensions": {"code": "NOT_FOUND"}}
    other = {"message": "Something went wrong"}
    assert says_not_found(GraphQLError([found])) and says_not_found(GraphQLError([coded]))
    assert not says_not_found(GraphQLError([found, other]))
    assert not says_not_found(GraphQLError([]))


def test_wait_polls_with_sleeps_until_running() -> None:
    rest = RestScript(v2_pod("PROVISIONING"), v2_pod("STARTING"), v2_pod("RUNNING"))
    polling = PollingOptions(first_delay=0.01, max_delay=0.02)
    timed = pod_flows(rest=rest).wait_until_running("p1", polling=polling)
    assert timed.deadline is None
    result, effects = run(timed.flow)
    assert result.status is RestPodStatus.RUNNING
    assert [type(effect) for effect in effects] == [Send, Sleep, Send, Sleep, Send]


def test_wait_fails_fast_on_error_with_the_pods_status_and_actions() -> None:
    rest = RestScript(v2_pod("STARTING"), v2_pod("ERROR", actions=["stop", "restart"]))
    polling = PollingOptions(first_delay=0.01, max_delay=0.02)
    with pytest.raises(PodFailed) as caught:
        run(pod_flows(rest=rest).wait_until_running("p1", polling=polling, timeout=600).flow)
    assert (caught.value.pod_id, caught.value.status) == ("p1", "ERROR")
    assert caught.value.actions == ["stop", "restart"]
    assert isinstance(caught.value.pod, Pod) and len(rest.requests) == 2


def test_wait_for_a_pod_that_is_terminated_meanwhile_is_pod_not_found() -> None:
    timed = pod_flows(rest=RestScript(v2_pod("TERMINATED"))).wait_until_running("p1")
    with pytest.raises(PodNotFound, match="terminated while waiting for it to be RUNNING"):
        run(timed.flow)


def test_wait_gives_up_at_its_timeout() -> None:
    rest = RestScript(*[v2_pod("STARTING")] * 3)
    polling = PollingOptions(first_delay=0.01, max_delay=0.02)
    timed = pod_flows(rest=rest).wait_until_running("p1", polling=polling, timeout=1e-9)
    assert timed.deadline is not None  # the driver holds every request to it too
    with pytest.raises(WaitTimeout, match="pod p1 to be RUNNING"):
        run(timed.flow)


def test_create_sends_v2s_body_from_the_keyword_spec() -> None:
    rest = RestScript(v2_pod("PROVISIONING"))
    create = pod_flows(rest=rest).create(
        name="trainer",
        image_name="img",
        gpu_type_id="NVIDIA RTX A6000",
        gpu_count=2,
        cloud_type=CloudTypeEnum.SECURE,
        env={"A": 1},  # type: ignore[dict-item]
        ports="8888/http, 22/tcp",
        volume_in_gb=20,
        data_center_id="US-TX-3",
    )
    result, _ = run(create)
    assert result.id == "p1"
    assert rest.requests[0].body == {
        "name": "trainer",
        "image": "img",
        "env": {"A": "1"},
        "ports": ["8888/http", "22/tcp"],
        "cloud": "SECURE",
        "dataCenterIds": ["US-TX-3"],
        "gpu": {"id": "NVIDIA RTX A6000", "count": 2},
        "mounts": {"persistent": {"path": "/workspace", "size": 20}},
        "globalNetworking": False,  # the description's defaults, sent as generated
        "startJupyter": False,
        "startSsh": False,
    }


def test_a_spot_pod_is_created_through_graphql_and_read_back_through_v2() -> None:
    script = Script({"data": {"podRentInterruptable": pod()}})
    rest = RestScript(v2_pod("PROVISIONING"))
    create = pod_flows(script, rest).create(
        name="t", image_name="img", gpu_type_id="g", bid_per_gpu=0.2
    )
    result, effects = run(create)
    assert isinstance(result, Pod) and effects == [SEND, SEND]
    assert script.payloads[0]["variables"]["input"]["bidPerGpu"] == 0.2
    assert [(r.method, r.path) for r in rest.requests] == [("GET", "/v2/pods/p1")]


def test_account_and_catalog_flows_are_plain_flows_too() -> None:
    script = Script({"data": {"gpuTypes": []}}, {"data": {"myself": None}})
    assert run(CatalogFlows(script.flows()).gpu_types(gpu_count=2)) == ([], [SEND])  # type: ignore[arg-type]
    assert script.payloads[0]["variables"] == {"lowestPrice": {"gpuCount": 2}}
    with pytest.raises(RunpodError, match="without the user"):
        run(AccountFlows(script.flows()).user())  # type: ignore[arg-type]
