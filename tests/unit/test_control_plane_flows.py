"""Control-plane helpers as plain flows over the generated flow client (no sockets).

A scripted `send` stands in for the GraphQL transport: the helpers' flows yield
only the send's own effects (no Invoke, no nested driver), get typed models
back, and map RunPod's not-found answers to PodNotFound.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import pytest

from runpod_typed import GraphQLError, PodNotFound, PollingOptions, RunpodError, WaitTimeout
from runpod_typed._account import AccountFlows
from runpod_typed._catalog import CatalogFlows
from runpod_typed._flow import Send, Sleep
from runpod_typed._generated.graphql import (
    CloudTypeEnum,
    PodFields,
    PodStatus,
    RunpodGraphQLFlows,
)
from runpod_typed._graphql import invalid_answer, says_not_found
from runpod_typed._pods import PodFlows as _PodFlows

Answer = Callable[[dict[str, Any]], dict[str, Any]]
SEND = Send("POST", "https://api.runpod.io/graphql", {})


def PodFlows(graphql: RunpodGraphQLFlows[Send]) -> _PodFlows:
    """The pod helpers over a scripted send, with default polling."""
    return _PodFlows(graphql, PollingOptions())  # type: ignore[arg-type]


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


def test_get_is_one_send_and_returns_the_typed_pod_from_camel_case() -> None:
    script = Script({"data": {"pod": pod("EXITED")}})
    result, effects = run(PodFlows(script.flows()).get("p1"))
    assert effects == [SEND]
    assert isinstance(result, PodFields)
    assert result.desired_status is PodStatus.EXITED
    assert script.payloads[0]["variables"] == {"input": {"podId": "p1"}}


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda flows: flows.get("p1"), "pod"),
        (lambda flows: flows.stop("p1"), "podStop"),
        (lambda flows: flows.resume("p1", gpu_count=1), "podResume"),
        (lambda flows: flows.resume("p1", gpu_count=1, bid_per_gpu=0.2), "podBidResume"),
        (lambda flows: flows.edit("p1", image_name="img:2"), "podEditJob"),
        (lambda flows: flows.terminate("p1"), "podTerminate"),
    ],
)
def test_runpods_not_found_becomes_pod_not_found(
    call: Callable[[_PodFlows], Generator[Any, Any, Any]], field: str
) -> None:
    with pytest.raises(PodNotFound) as caught:
        run(call(PodFlows(Script(not_found(field)).flows())))
    assert caught.value.pod_id == "p1"
    assert "no pod with id 'p1'" in str(caught.value)
    assert isinstance(caught.value.__cause__, GraphQLError)
    assert isinstance(caught.value, LookupError)


def test_a_null_pod_is_pod_not_found_too() -> None:
    with pytest.raises(PodNotFound, match="may have been terminated"):
        run(PodFlows(Script({"data": {"pod": None}}).flows()).get("p1"))


def test_other_graphql_errors_are_not_mistaken_for_not_found() -> None:
    def refused(payload: dict[str, Any]) -> dict[str, Any]:
        raise GraphQLError([{"message": "There are no longer any instances available"}])

    with pytest.raises(GraphQLError) as caught:
        run(PodFlows(Script(refused).flows()).stop("p1"))
    assert not isinstance(caught.value, PodNotFound)


def test_says_not_found_needs_every_error_to_say_so() -> None:
    found = {"message": "Pod not found: x"}
    coded = {"message": "nope", "extensions": {"code": "NOT_FOUND"}}
    other = {"message": "Something went wrong"}
    assert says_not_found(GraphQLError([found])) and says_not_found(GraphQLError([coded]))
    assert not says_not_found(GraphQLError([found, other]))
    assert not says_not_found(GraphQLError([]))


def test_wait_polls_with_sleeps_until_running_with_a_runtime() -> None:
    script = Script(
        {"data": {"pod": pod("CREATED", runtime=False)}},
        {"data": {"pod": pod("RUNNING", runtime=False)}},
        {"data": {"pod": pod("RUNNING")}},
    )
    polling = PollingOptions(first_delay=0.01, max_delay=0.02)
    timed = PodFlows(script.flows()).wait_until_running("p1", polling=polling)
    assert timed.deadline is None
    result, effects = run(timed.flow)
    assert result.runtime is not None
    assert [type(effect) for effect in effects] == [Send, Sleep, Send, Sleep, Send]


def test_wait_for_a_pod_that_is_terminated_meanwhile_is_pod_not_found() -> None:
    script = Script({"data": {"pod": pod("TERMINATED")}})
    timed = PodFlows(script.flows()).wait_until_running("p1")
    with pytest.raises(PodNotFound, match="terminated while waiting for it to be RUNNING"):
        run(timed.flow)


def test_wait_gives_up_at_its_timeout() -> None:
    script = Script(*[{"data": {"pod": pod("CREATED", runtime=False)}}] * 3)
    polling = PollingOptions(first_delay=0.01, max_delay=0.02)
    timed = PodFlows(script.flows()).wait_until_running("p1", polling=polling, timeout=1e-9)
    assert timed.deadline is not None  # the driver holds every request to it too
    with pytest.raises(WaitTimeout, match="pod p1 to be RUNNING"):
        run(timed.flow)


def test_create_sends_enums_and_snake_case_inputs_in_wire_form() -> None:
    script = Script({"data": {"podFindAndDeployOnDemand": pod()}})
    create = PodFlows(script.flows()).create(
        name="trainer",
        image_name="img",
        gpu_count=1,
        cloud_type=CloudTypeEnum.SECURE,
        env={"A": 1},  # type: ignore[dict-item]
        ports=None,
    )
    result, _ = run(create)
    assert result.id == "p1"
    assert script.payloads[0]["variables"]["input"] == {
        "name": "trainer",
        "imageName": "img",
        "gpuCount": 1,
        "cloudType": "SECURE",
        "env": [{"key": "A", "value": "1"}],
    }


def test_account_and_catalog_flows_are_plain_flows_too() -> None:
    script = Script({"data": {"gpuTypes": []}}, {"data": {"myself": None}})
    assert run(CatalogFlows(script.flows()).gpu_types(gpu_count=2)) == ([], [SEND])  # type: ignore[arg-type]
    assert script.payloads[0]["variables"] == {"lowestPrice": {"gpuCount": 2}}
    with pytest.raises(RunpodError, match="without the user"):
        run(AccountFlows(script.flows()).user())  # type: ignore[arg-type]
