"""The generated REST v2 operations (`rp.rest`) over httpx.MockTransport: what they send,
how answers parse, how errors map, and which requests are resent."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from runpod_typed import (
    AsyncRunpod,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    RateLimitError,
    ResponseFormatError,
    RetryPolicy,
    Runpod,
    ServerError,
    TransportError,
)
from runpod_typed._generated.rest.flows import RestFlows
from runpod_typed._generated.rest.operations import OPERATIONS
from runpod_typed.rest import (
    UNSET,
    CatalogInclude,
    CreateGpuConfig,
    CreatePodRequest,
    GpuCloudFilter,
    Pod,
    PodAction,
    PodActionRequest,
    PodStatus,
    Product,
    UpdateSshKeysRequest,
)

FAST_RETRY = RetryPolicy(max_attempts=3, initial_delay=0.0, max_delay=0.01, deadline=5)
KEY = "sk-rest-unit-secret-0123456789"
Handler = Callable[[httpx.Request], httpx.Response]


def client(handler: Handler, **options: Any) -> Runpod:
    return Runpod(
        KEY,
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
        retry=FAST_RETRY,
        rate_limits=False,
        api_base_url="https://control.test",
        **options,
    )


def pod_json(pod_id: str = "pod1", status: str = "RUNNING", **extra: Any) -> dict[str, Any]:
    return {
        "id": pod_id,
        "name": "p",
        "image": "img",
        "args": "",
        "disk": 10,
        "env": {"A": "1"},
        "ports": ["22/tcp"],
        "registry": None,
        "actions": ["stop", "terminate"],
        "cloud": "SECURE",
        "cost": 0.69,
        "createdAt": "2026-08-18T12:00:00.123456789Z",
        "cudaVersion": "12.8",
        "dataCenterId": "US-TX-3",
        "globalNetworking": {"enabled": False},
        "locked": False,
        "mounts": {},
        "runtime": None,
        "ssh": {"direct": None, "proxy": None},
        "startedAt": None,
        "status": status,
        "template": None,
        **extra,
    }


class Recorder:
    """A MockTransport handler answering from a list, recording each request."""

    def __init__(self, *answers: httpx.Response | type[Exception]) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, type):
            raise answer("scripted failure", request=request)
        return answer


def problem(status: int, detail: str, errors: list[str] | None = None) -> httpx.Response:
    body: dict[str, Any] = {"title": "x", "status": status, "detail": detail}
    if errors is not None:
        body["errors"] = errors
    return httpx.Response(status, json=body, headers={"content-type": "application/problem+json"})


# -- requests ----------------------------------------------------------------------------------


def test_a_get_quotes_path_parameters_under_the_control_plane_host() -> None:
    recorder = Recorder(httpx.Response(200, json={"id": "x", "name": "RTX 4090"}))
    with client(recorder) as rp, pytest.raises(ResponseFormatError):
        rp.rest.get_gpu_type("NVIDIA GeForce RTX 4090/x")  # the answer lacks required fields
    (request,) = recorder.requests
    assert request.method == "GET"
    assert request.url.raw_path == b"/v2/catalog/gpus/NVIDIA%20GeForce%20RTX%204090%2Fx?count=1"
    assert request.url.host == "control.test"
    assert request.headers["authorization"] == f"Bearer {KEY}"


def test_query_arrays_are_comma_separated_and_booleans_are_json() -> None:
    recorder = Recorder(
        httpx.Response(200, json={"gpus": []}), httpx.Response(200, json={"pods": []})
    )
    with client(recorder) as rp:
        rp.rest.list_gpu_types(
            include=[CatalogInclude.AVAILABILITY],
            product=[Product.POD, Product.SERVERLESS],
            cloud=GpuCloudFilter.SECURE,
            count=2,
        )
        assert rp.rest.list_pods(include_cluster_pods=True).pods == []
    gpus, pods = recorder.requests
    assert dict(gpus.url.params) == {
        "include": "AVAILABILITY",
        "product": "POD,SERVERLESS",
        "count": "2",
        "cloud": "SECURE",
    }
    assert dict(pods.url.params) == {"includeClusterPods": "true"}


def test_a_body_is_the_models_json_and_a_201_parses_into_the_model() -> None:
    recorder = Recorder(httpx.Response(201, json=pod_json(status="PROVISIONING")))
    with client(recorder) as rp:
        pod = rp.rest.create_pod(
            body=CreatePodRequest(name="p", image="img", gpu=CreateGpuConfig(id="NVIDIA L4"))
        )
    (request,) = recorder.requests
    assert request.method == "POST" and request.url.path == "/v2/pods"
    assert request.headers["content-type"] == "application/json"
    sent = json.loads(request.content)
    assert sent["name"] == "p" and sent["gpu"] == {"id": "NVIDIA L4", "count": 1}
    assert isinstance(pod, Pod) and pod.status is PodStatus.PROVISIONING
    assert pod.created_at.microsecond == 123456  # nanoseconds and Z, on every Python
    assert pod.env.additional_properties == {"A": "1"}


def test_a_204_is_none_and_the_other_2xx_of_an_operation_is_its_model() -> None:
    recorder = Recorder(httpx.Response(204), httpx.Response(200, json=pod_json(status="EXITED")))
    with client(recorder) as rp:
        assert rp.rest.pod_action("pod1", body=PodActionRequest(action=PodAction.STOP)) is None
        stopped = rp.rest.pod_action("pod1", body=PodActionRequest(action=PodAction.STOP))
    assert isinstance(stopped, Pod) and stopped.status is PodStatus.EXITED
    assert [json.loads(r.content) for r in recorder.requests] == [{"action": "stop"}] * 2


def test_an_unknown_enum_value_and_an_unknown_field_parse() -> None:
    recorder = Recorder(httpx.Response(200, json=pod_json(status="HIBERNATING", newField=1)))
    with client(recorder) as rp:
        pod = rp.rest.get_pod("pod1")
    assert pod.status == "HIBERNATING" and pod.status.name == "UNKNOWN"
    assert pod.additional_properties == {"newField": 1}


def test_an_answer_that_does_not_fit_the_model_is_a_response_format_error() -> None:
    body = {k: v for k, v in pod_json().items() if k != "image"}
    recorder = Recorder(httpx.Response(200, json=body), httpx.Response(200, text="<html>"))
    with client(recorder) as rp:
        with pytest.raises(ResponseFormatError, match=r"GET /v2/pods/pod1 \(getPod\).*description"):
            rp.rest.get_pod("pod1")
        with pytest.raises(ResponseFormatError, match="expected JSON"):
            rp.rest.get_pod("pod1")


def test_an_undocumented_2xx_is_a_response_format_error() -> None:
    recorder = Recorder(httpx.Response(202, json={}))
    with client(recorder) as rp, pytest.raises(ResponseFormatError, match="HTTP 202"):
        rp.rest.get_pod("pod1")


# -- errors ------------------------------------------------------------------------------------


def test_v2_problem_details_name_the_field_in_the_error() -> None:
    recorder = Recorder(
        problem(400, "invalid request body", ["body.bogus: unknown field 'bogus'"]),
        problem(404, "pod nope not found"),
    )
    with client(recorder) as rp:
        with pytest.raises(BadRequestError) as bad:
            rp.rest.create_pod(body=CreatePodRequest(name="p", image="i"))
        with pytest.raises(NotFoundError) as missing:
            rp.rest.get_pod("nope")
    assert "unknown field 'bogus'" in str(bad.value)
    assert str(bad.value).startswith("POST /v2/pods (createPod) failed with HTTP 400")
    assert bad.value.status_code == 400 and "bogus" in bad.value.body
    assert "pod nope not found" in str(missing.value)


def test_an_error_body_that_is_not_a_problem_document_is_quoted() -> None:
    recorder = Recorder(httpx.Response(401, text="Unauthorized"))
    with client(recorder) as rp, pytest.raises(AuthenticationError) as caught:
        rp.rest.list_pods()
    assert "Unauthorized" in str(caught.value) and "API key" in str(caught.value)
    assert KEY not in str(caught.value)


@pytest.mark.parametrize(
    ("call", "answer", "resent"),
    [
        (lambda rp: rp.rest.list_pods(), {"pods": []}, True),
        (
            lambda rp: rp.rest.update_ssh_keys(body=UpdateSshKeysRequest(keys=[])),
            {"keys": []},
            True,
        ),
        (lambda rp: rp.rest.delete_pod("pod1"), None, True),
        (lambda rp: rp.rest.create_pod(body=CreatePodRequest(name="p", image="i")), None, False),
        (
            lambda rp: rp.rest.pod_action("p", body=PodActionRequest(action=PodAction.RESTART)),
            None,
            False,
        ),
    ],
    ids=["GET", "PUT", "DELETE", "POST create", "POST action"],
)
def test_only_idempotent_methods_are_resent_after_a_dropped_connection(
    call: Callable[[Runpod], Any], answer: Any, resent: bool
) -> None:
    ok = httpx.Response(204) if answer is None else httpx.Response(200, json=answer)
    recorder = Recorder(httpx.ReadError, ok)
    with client(recorder) as rp:
        if resent:
            call(rp)
        else:
            with pytest.raises(TransportError, match="no answer"):
                call(rp)
    assert len(recorder.requests) == (2 if resent else 1)


def test_every_operation_resends_by_http_semantics() -> None:
    for operation in OPERATIONS.values():
        assert operation.idempotent == (operation.method in ("GET", "PUT", "DELETE")), operation.id


def test_a_post_is_resent_after_429_and_a_get_after_503() -> None:
    recorder = Recorder(
        httpx.Response(429, headers={"retry-after": "0"}),
        httpx.Response(201, json=pod_json()),
        httpx.Response(503),
        httpx.Response(200, json=pod_json()),
    )
    with client(recorder) as rp:
        rp.rest.create_pod(body=CreatePodRequest(name="p", image="i"))
        rp.rest.get_pod("pod1")
    assert len(recorder.requests) == 4


def test_a_post_is_not_resent_after_a_5xx_and_a_429_runs_out() -> None:
    recorder = Recorder(problem(502, "bad gateway"), *[httpx.Response(429)] * 3)
    with client(recorder) as rp:
        with pytest.raises(ServerError, match="server error"):
            rp.rest.create_pod(body=CreatePodRequest(name="p", image="i"))
        with pytest.raises(RateLimitError):
            rp.rest.list_pods()
    assert len(recorder.requests) == 4


def test_the_flows_compose_under_one_driver() -> None:
    """`RestFlows` is what helpers build on: operations `yield from` inside a bigger flow."""
    recorder = Recorder(
        httpx.Response(200, json={"pods": [pod_json("a"), pod_json("b")]}),
        httpx.Response(200, json=pod_json("a", status="EXITED")),
        httpx.Response(200, json=pod_json("b", status="EXITED")),
    )
    with client(recorder) as rp:
        flows: RestFlows[Any] = rp._rest_flows

        def stop_all() -> Any:
            listed = yield from flows.list_pods()
            stopped = []
            for pod in listed.pods:
                answer = yield from flows.pod_action(
                    pod.id, body=PodActionRequest(action=PodAction.STOP)
                )
                assert answer is not None
                stopped.append(answer.status)
            return stopped

        assert rp._drive(stop_all()) == [PodStatus.EXITED, PodStatus.EXITED]


async def test_the_async_twin_sends_the_same() -> None:
    recorder = Recorder(httpx.Response(200, json=pod_json()), problem(404, "pod x not found"))
    async with AsyncRunpod(
        KEY,
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(recorder)),
        retry=FAST_RETRY,
        rate_limits=False,
    ) as rp:
        pod = await rp.rest.get_pod("pod1")
        assert pod.id == "pod1" and pod.template is None
        with pytest.raises(NotFoundError, match="pod x not found"):
            await rp.rest.get_pod("x")
    assert [r.url.path for r in recorder.requests] == ["/v2/pods/pod1", "/v2/pods/x"]


def test_unset_fields_are_left_out_of_the_body() -> None:
    body = CreatePodRequest(name="p", image="i").to_dict()
    assert "gpu" not in body and "templateId" not in body
    assert CreatePodRequest(name="p").image is UNSET


def test_rest_urls_follow_the_api_base_url() -> None:
    recorder = Recorder(httpx.Response(200, json={"pods": []}))
    with Runpod(
        KEY,
        http_client=httpx.Client(transport=httpx.MockTransport(recorder)),
        api_base_url="https://proxy.test/runpod/graphql",
        rate_limits=False,
    ) as rp:
        rp.rest.list_pods()
    assert (
        str(recorder.requests[0].url)
        == "https://proxy.test/runpod/v2/pods?includeClusterPods=false"
    )
