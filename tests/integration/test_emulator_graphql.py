"""The emulator's GraphQL control plane over loopback HTTP, driven with plain httpx."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLNamedType,
    GraphQLObjectType,
    OperationDefinitionNode,
    build_schema,
    get_named_type,
    parse,
)

from runpod_typed.emulator import RunningEmulator
from runpod_typed.emulator.control_plane import NO_INSTANCES, load_sdl

RTX_4090 = "NVIDIA GeForce RTX 4090"
SOLD_OUT_GPU = "NVIDIA H100 NVL"
POLLS = 400  # bound on status polls; each waits POLL_INTERVAL
POLL_INTERVAL = 0.02


@pytest.fixture
def gql(runpod_emulator: RunningEmulator) -> Iterator[_GraphQL]:
    with httpx.Client(headers={"Authorization": "Bearer emulator-test-key"}) as client:
        yield _GraphQL(client, runpod_emulator.graphql_url)


class _GraphQL:
    """POSTs documents the way RunPod's clients do and returns the decoded body."""

    def __init__(self, client: httpx.Client, url: str) -> None:
        self.client = client
        self.url = url

    def post(self, query: str, **variables: Any) -> httpx.Response:
        return self.client.post(self.url, json={"query": query, "variables": variables})

    def __call__(self, query: str, **variables: Any) -> dict[str, Any]:
        response = self.post(query, **variables)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def data(self, query: str, **variables: Any) -> dict[str, Any]:
        """The data of a document that must succeed."""
        body = self(query, **variables)
        assert "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data

    def error(self, query: str, **variables: Any) -> dict[str, Any]:
        """The single error of a document that must fail in its resolver."""
        body = self(query, **variables)
        assert len(body.get("errors", [])) == 1, body
        error: dict[str, Any] = body["errors"][0]
        return error


DEPLOY = """
mutation Deploy($input: PodFindAndDeployOnDemandInput!) {
  podFindAndDeployOnDemand(input: $input) { id desiredStatus costPerHr gpuCount runtime { uptimeInSeconds } }
}
"""
SPOT = """
mutation Spot($input: PodRentInterruptableInput!) {
  podRentInterruptable(input: $input) { id desiredStatus podType costPerHr }
}
"""
POD = """
query Pod($podId: String!) {
  pod(input: {podId: $podId}) {
    id desiredStatus lastStatusChange
    runtime { uptimeInSeconds ports { ip isIpPublic privatePort publicPort type } }
  }
}
"""
MY_PODS = "query { myself { pods { id desiredStatus } currentSpendPerHr } }"


def _deploy(gql: _GraphQL, **overrides: Any) -> dict[str, Any]:
    pod_input = {"name": "lifecycle", "imageName": "runpod/base:0.6.2", "gpuTypeId": RTX_4090}
    pod_input.update(overrides)
    pod: dict[str, Any] = gql.data(DEPLOY, input=pod_input)["podFindAndDeployOnDemand"]
    return pod


def _poll_status(gql: _GraphQL, pod_id: str, wanted: str) -> list[str]:
    """Poll pod(podId) until desiredStatus is `wanted`; return the distinct states seen."""
    seen: list[str] = []
    for _ in range(POLLS):
        pod = gql.data(POD, podId=pod_id)["pod"]
        if not seen or seen[-1] != pod["desiredStatus"]:
            seen.append(pod["desiredStatus"])
        if pod["desiredStatus"] == wanted and (wanted != "RUNNING" or pod["runtime"]):
            return seen
        time.sleep(POLL_INTERVAL)
    pytest.fail(f"pod {pod_id} never reached {wanted}; states seen: {seen}")


def test_pod_lifecycle_moves_through_runpods_states(gql: _GraphQL) -> None:
    pod = _deploy(gql, ports="8888/http,22/tcp", gpuCount=2)
    assert pod["desiredStatus"] == "CREATED"
    assert pod["runtime"] is None
    assert pod["gpuCount"] == 2

    assert _poll_status(gql, pod["id"], "RUNNING")[-1] == "RUNNING"
    running = gql.data(POD, podId=pod["id"])["pod"]
    ports = {p["privatePort"]: p for p in running["runtime"]["ports"]}
    assert ports[8888]["type"] == "http"
    assert ports[22]["isIpPublic"] is True

    stopped = gql.data(
        "mutation($id: String!) { podStop(input: {podId: $id}) { id desiredStatus } }",
        id=pod["id"],
    )["podStop"]
    assert stopped == {"id": pod["id"], "desiredStatus": "EXITED"}
    assert gql.data(POD, podId=pod["id"])["pod"]["runtime"] is None

    resumed = gql.data(
        "mutation($id: String!) { podResume(input: {podId: $id, gpuCount: 1}) "
        "{ desiredStatus gpuCount } }",
        id=pod["id"],
    )["podResume"]
    assert resumed == {"desiredStatus": "RUNNING", "gpuCount": 1}
    _poll_status(gql, pod["id"], "RUNNING")

    terminate = "mutation($id: String!) { podTerminate(input: {podId: $id}) }"
    assert gql.data(terminate, id=pod["id"]) == {"podTerminate": None}
    for _ in range(POLLS):
        if pod["id"] not in {p["id"] for p in gql.data(MY_PODS)["myself"]["pods"]}:
            break
        time.sleep(POLL_INTERVAL)
    else:
        pytest.fail("a terminated pod stayed in myself.pods")
    assert gql.error(POD, podId=pod["id"])["path"] == ["pod"]


def test_running_pods_count_towards_current_spend(gql: _GraphQL) -> None:
    pod = _deploy(gql, gpuCount=2)
    myself = gql.data(MY_PODS)["myself"]
    assert myself["pods"] == [{"id": pod["id"], "desiredStatus": "CREATED"}]
    assert myself["currentSpendPerHr"] == pytest.approx(pod["costPerHr"])


def test_spot_pod_needs_a_bid_at_least_the_minimum(gql: _GraphQL) -> None:
    price = gql.data(
        "query($id: String) { gpuTypes(input: {id: $id}) "
        "{ lowestPrice(input: {gpuCount: 1}) { minimumBidPrice } } }",
        id=RTX_4090,
    )["gpuTypes"][0]["lowestPrice"]["minimumBidPrice"]
    spot_input = {"imageName": "runpod/base:0.6.2", "gpuTypeId": RTX_4090, "gpuCount": 1}

    error = gql.error(SPOT, input={**spot_input, "bidPerGpu": price / 2})
    assert error["path"] == ["podRentInterruptable"]
    assert "bid" in error["message"]

    pod = gql.data(SPOT, input={**spot_input, "bidPerGpu": price})["podRentInterruptable"]
    assert pod["podType"] == "INTERRUPTABLE"
    assert pod["costPerHr"] == pytest.approx(price)
    on_demand_resume = gql.error(
        "mutation($id: String!) { podResume(input: {podId: $id}) { id } }", id=pod["id"]
    )
    assert on_demand_resume["message"] == "Cannot resume a spot pod as an on demand pod."


def test_unknown_pod_is_an_error_with_path(gql: _GraphQL) -> None:
    body = gql(POD, podId="doesnotexist00")
    assert body["data"] == {"pod": None}
    (error,) = body["errors"]
    assert error["path"] == ["pod"]
    assert "doesnotexist00" in error["message"]
    stop = gql.error('mutation { podStop(input: {podId: "doesnotexist00"}) { id } }')
    assert stop["path"] == ["podStop"]


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"gpuTypeId": SOLD_OUT_GPU}, id="sold-out"),
        pytest.param({"gpuTypeId": "NVIDIA GeForce GTX 1"}, id="unknown-type"),
        pytest.param({"gpuCount": 64}, id="too-many-gpus"),
        pytest.param({"minVcpuCount": 512}, id="too-many-vcpus"),
        pytest.param({"dataCenterId": "EU-RO-1", "countryCode": "US"}, id="no-such-placement"),
    ],
)
def test_unavailable_gpu_is_runpods_no_instances_error(
    gql: _GraphQL, overrides: dict[str, Any]
) -> None:
    pod_input = {"imageName": "runpod/base:0.6.2", "gpuTypeId": RTX_4090, **overrides}
    body = gql(DEPLOY, input=pod_input)
    assert body["data"] == {"podFindAndDeployOnDemand": None}
    assert body["errors"][0]["message"] == NO_INSTANCES
    assert body["errors"][0]["path"] == ["podFindAndDeployOnDemand"]
    assert gql.data(MY_PODS)["myself"]["pods"] == []


def test_lowest_price_reflects_stock_and_count(gql: _GraphQL) -> None:
    query = """
    query($id: String, $count: Int) {
      gpuTypes(input: {id: $id}) {
        id maxGpuCount
        lowestPrice(input: {gpuCount: $count}) { uninterruptablePrice minimumBidPrice stockStatus }
      }
    }
    """
    (gpu,) = gql.data(query, id=RTX_4090, count=1)["gpuTypes"]
    assert gpu["lowestPrice"]["stockStatus"] is not None
    assert gpu["lowestPrice"]["minimumBidPrice"] < gpu["lowestPrice"]["uninterruptablePrice"]
    too_many = gql.data(query, id=RTX_4090, count=gpu["maxGpuCount"] + 1)["gpuTypes"][0]
    assert too_many["lowestPrice"] == {
        "uninterruptablePrice": None,
        "minimumBidPrice": None,
        "stockStatus": None,
    }
    sold_out = gql.data(query, id=SOLD_OUT_GPU, count=1)["gpuTypes"][0]
    assert sold_out["lowestPrice"]["stockStatus"] is None


def test_invalid_input_is_rejected(gql: _GraphQL) -> None:
    error = gql.error(DEPLOY, input={"imageName": "", "gpuTypeId": RTX_4090})
    assert error["path"] == ["podFindAndDeployOnDemand"]
    assert "imageName" in error["message"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


def test_invalid_documents_fail_validation_with_400(gql: _GraphQL) -> None:
    unknown_field = gql.post("query { myself { id noSuchField } }")
    assert unknown_field.status_code == 400
    (error,) = unknown_field.json()["errors"]
    assert "noSuchField" in error["message"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "data" not in unknown_field.json()

    wrong_type = gql.post("query { pod(input: {podId: 42}) { id } }")
    assert wrong_type.status_code == 400

    syntax = gql.post("query { myself { id ")
    assert syntax.status_code == 400
    assert syntax.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"


def test_introspection_describes_runpods_schema(gql: _GraphQL) -> None:
    schema = gql.data("{ __schema { queryType { name } mutationType { fields { name } } } }")
    mutations = {f["name"] for f in schema["__schema"]["mutationType"]["fields"]}
    assert {"podFindAndDeployOnDemand", "podRentInterruptable", "saveEndpoint"} <= mutations
    pod_type = gql.data('{ __type(name: "Pod") { fields { name } } }')["__type"]
    assert "desiredStatus" in {f["name"] for f in pod_type["fields"]}


def test_graphql_is_served_over_get_for_tools(gql: _GraphQL) -> None:
    response = gql.client.get(gql.url, params={"query": "{ gpuTypes { id } }"})
    assert response.status_code == 200
    assert RTX_4090 in {g["id"] for g in response.json()["data"]["gpuTypes"]}


def test_registry_auth_password_is_never_returned(gql: _GraphQL) -> None:
    secret = "s3cret-registry-password"
    created = gql.post(
        "mutation($i: SaveRegistryAuthInput!) { saveRegistryAuth(input: $i) { id name } }",
        i={"name": "docker-hub", "username": "me", "password": secret},
    )
    auth_id = created.json()["data"]["saveRegistryAuth"]["id"]
    updated = gql.post(
        "mutation($i: UpdateRegistryAuthInput!) { updateRegistryAuth(input: $i) { id name } }",
        i={"id": auth_id, "username": "me", "password": secret + "2"},
    )
    listed = gql.post("{ myself { containerRegistryCreds { id name } } }")
    for response in (created, updated, listed):
        assert response.status_code == 200
        assert secret not in response.text
    assert listed.json()["data"]["myself"]["containerRegistryCreds"] == [
        {"id": auth_id, "name": "docker-hub"}
    ]
    auth_type = gql.data('{ __type(name: "ContainerRegistryAuth") { fields { name } } }')
    assert "password" not in {f["name"] for f in auth_type["__type"]["fields"]}


def test_reset_clears_state(gql: _GraphQL, runpod_emulator: RunningEmulator) -> None:
    _deploy(gql)
    gql.data(
        "mutation($i: CreateNetworkVolumeInput!) { createNetworkVolume(input: $i) { id } }",
        i={"name": "data", "size": 10, "dataCenterId": "EU-RO-1"},
    )
    runpod_emulator.reset()
    myself = gql.data("{ myself { pods { id } networkVolumes { id } podTemplates { id } } }")
    assert myself["myself"] == {"pods": [], "networkVolumes": [], "podTemplates": []}


OPERATIONS_DIR = Path(__file__).resolve().parents[2] / "codegen" / "operations"
Vars = Callable[[dict[str, Any]], dict[str, Any]]


def _operation_documents() -> dict[str, str]:
    """Operation name -> the text of the file that defines it (fragments included)."""
    documents: dict[str, str] = {}
    for path in sorted(OPERATIONS_DIR.glob("*.graphql")):
        text = path.read_text(encoding="utf-8")
        for definition in parse(text).definitions:
            if isinstance(definition, OperationDefinitionNode) and definition.name:
                documents[definition.name.value] = text
    return documents


def _pod_input(**extra: Any) -> dict[str, Any]:
    return {"input": {"name": "ops", "imageName": "runpod/base:0.6.2", **extra}}


# Each step: (operation, variables built from earlier results, result field, check).
# Results are kept by operation name, so a later step can use the ids an earlier one made.
_SCENARIO: list[tuple[str, Vars, str, Callable[[Any], bool]]] = [
    ("Myself", lambda r: {}, "myself", lambda u: u["id"] and u["clientBalance"] > 0),
    (
        "UpdateUserSettings",
        lambda r: {"input": {"pubKey": "ssh-ed25519 AAAAC3Nza test@host"}},
        "updateUserSettings",
        lambda u: u["pubKey"] == "ssh-ed25519 AAAAC3Nza test@host",
    ),
    (
        "GpuTypes",
        lambda r: {"input": {"id": RTX_4090}, "lowestPrice": {"gpuCount": 2}},
        "gpuTypes",
        lambda g: g[0]["id"] == RTX_4090 and g[0]["lowestPrice"]["uninterruptablePrice"] > 0,
    ),
    ("CpuTypes", lambda r: {}, "cpuTypes", lambda c: all(t["cores"] > 0 for t in c)),
    ("DataCenters", lambda r: {}, "dataCenters", lambda d: any(dc["gpuAvailability"] for dc in d)),
    ("CountryCodes", lambda r: {}, "countryCodes", lambda c: "US" in c and "RO" in c),
    (
        "CpuFlavors",
        lambda r: {"input": {"id": "cpu3c"}},
        "cpuFlavors",
        lambda f: [x["id"] for x in f] == ["cpu3c"] and f[0]["maxVcpu"] >= f[0]["minVcpu"],
    ),
    (
        "CpuAvailability",
        lambda r: {
            "input": {"id": "cpu3c"},
            "specifics": {"dataCenterId": "EU-RO-1", "instanceId": "cpu3c-2-4"},
        },
        "cpuFlavors",
        lambda f: f[0]["specifics"]["stockStatus"] == "High" and f[0]["specifics"]["securePrice"],
    ),
    (
        "CreateSecret",
        lambda r: {"input": {"name": "ops-secret", "value": "s3cr3t", "description": "ops"}},
        "secretCreate",
        lambda s: s["name"] == "ops-secret" and "value" not in s,
    ),
    (
        "Secrets",
        lambda r: {},
        "myself",
        lambda u: [s["name"] for s in u["secrets"]] == ["ops-secret"],
    ),
    (
        "DeleteSecret",
        lambda r: {"id": r["CreateSecret"]["id"]},
        "secretDelete",
        lambda x: x is None,
    ),
    (
        "CreateNetworkVolume",
        lambda r: {"input": {"name": "ops-data", "size": 20, "dataCenterId": "US-TX-3"}},
        "createNetworkVolume",
        lambda v: v["size"] == 20 and v["dataCenterId"] == "US-TX-3",
    ),
    (
        "UpdateNetworkVolume",
        lambda r: {"input": {"id": r["CreateNetworkVolume"]["id"], "size": 40}},
        "updateNetworkVolume",
        lambda v: v["size"] == 40,
    ),
    ("NetworkVolumes", lambda r: {}, "myself", lambda u: len(u["networkVolumes"]) == 1),
    (
        "CreateRegistryAuth",
        lambda r: {"input": {"name": "ops-registry", "username": "me", "password": "pw"}},
        "saveRegistryAuth",
        lambda a: a["name"] == "ops-registry",
    ),
    (
        "UpdateRegistryAuth",
        lambda r: {
            "input": {"id": r["CreateRegistryAuth"]["id"], "username": "u", "password": "p"}
        },
        "updateRegistryAuth",
        lambda a: a["id"],
    ),
    ("RegistryAuths", lambda r: {}, "myself", lambda u: len(u["containerRegistryCreds"]) == 1),
    (
        "SaveTemplate",
        lambda r: {
            "input": {
                "name": "ops-worker",
                "imageName": "example/worker:1",
                "dockerArgs": "",
                "containerDiskInGb": 10,
                "volumeInGb": 0,
                "env": [{"key": "MODE", "value": "ops"}],
                "isServerless": True,
                "containerRegistryAuthId": r["CreateRegistryAuth"]["id"],
            }
        },
        "saveTemplate",
        lambda t: t["isServerless"] and t["env"] == [{"key": "MODE", "value": "ops"}],
    ),
    ("Templates", lambda r: {}, "myself", lambda u: len(u["podTemplates"]) == 1),
    (
        "SaveEndpoint",
        lambda r: {
            "input": {
                "name": "ops-endpoint",
                "templateId": r["SaveTemplate"]["id"],
                "gpuIds": "ADA_24,AMPERE_24",
                "workersMin": 0,
                "workersMax": 2,
                "networkVolumeId": r["CreateNetworkVolume"]["id"],
            }
        },
        "saveEndpoint",
        lambda e: e["workersMax"] == 2 and e["env"] == [{"key": "MODE", "value": "ops"}],
    ),
    ("Endpoints", lambda r: {}, "myself", lambda u: len(u["endpoints"]) == 1),
    (
        "EndpointById",
        lambda r: {"id": r["SaveEndpoint"]["id"]},
        "myself",
        lambda u: u["endpoint"]["type"] == "QB" and u["endpoint"]["networkVolumeIds"],
    ),
    (
        "UpdateEndpointTemplate",
        lambda r: {
            "input": {"endpointId": r["SaveEndpoint"]["id"], "templateId": r["SaveTemplate"]["id"]}
        },
        "updateEndpointTemplate",
        lambda e: e["version"] == 1,
    ),
    (
        "CreatePod",
        lambda r: _pod_input(
            gpuTypeId=RTX_4090, gpuCount=1, networkVolumeId=r["CreateNetworkVolume"]["id"]
        ),
        "podFindAndDeployOnDemand",
        lambda p: p["desiredStatus"] == "CREATED" and p["machine"]["dataCenterId"] == "US-TX-3",
    ),
    ("Pod", lambda r: {"input": {"podId": r["CreatePod"]["id"]}}, "pod", lambda p: p["id"]),
    ("Pods", lambda r: {}, "myself", lambda u: len(u["pods"]) == 1),
    (
        "EditPod",
        lambda r: {
            "input": {
                "podId": r["CreatePod"]["id"],
                "imageName": "example/other:2",
                "containerRegistryAuthId": r["CreateRegistryAuth"]["id"],
            }
        },
        "podEditJob",
        lambda p: p["imageName"] == "example/other:2" and p["containerRegistryAuthId"],
    ),
    (
        "StopPod",
        lambda r: {"input": {"podId": r["CreatePod"]["id"]}},
        "podStop",
        lambda p: p["desiredStatus"] == "EXITED",
    ),
    (
        "ResumePod",
        lambda r: {"input": {"podId": r["CreatePod"]["id"], "gpuCount": 1}},
        "podResume",
        lambda p: p["desiredStatus"] == "RUNNING",
    ),
    (
        "CreateSpotPod",
        lambda r: _pod_input(gpuTypeId=RTX_4090, bidPerGpu=0.5),
        "podRentInterruptable",
        lambda p: p["podType"] == "INTERRUPTABLE" and p["costPerHr"] == 0.5,
    ),
    (
        "StopPod",
        lambda r: {"input": {"podId": r["CreateSpotPod"]["id"]}},
        "podStop",
        lambda p: p["desiredStatus"] == "EXITED",
    ),
    (
        "BidResumePod",
        lambda r: {"input": {"podId": r["CreateSpotPod"]["id"], "bidPerGpu": 0.6}},
        "podBidResume",
        lambda p: p["desiredStatus"] == "RUNNING" and p["costPerHr"] == 0.6,
    ),
    (
        "CreateCpuPod",
        lambda r: _pod_input(instanceId="cpu3c-4-8"),
        "deployCpuPod",
        lambda p: p["gpuCount"] == 0 and p["vcpuCount"] == 4 and p["memoryInGb"] == 8,
    ),
    (
        "CreateCluster",
        lambda r: {
            "input": {
                "clusterName": "ops-cluster",
                "gpuTypeId": "NVIDIA H100 80GB HBM3",
                "podCount": 2,
                "gpuCountPerPod": 8,
                "imageName": "example/trainer:1",
                "type": "TRAINING",
                "deployCost": 50.0,
            }
        },
        "createCluster",
        lambda c: len(c["pods"]) == 2 and all(p["clusterIp"] for p in c["pods"]),
    ),
    (
        "DeleteCluster",
        lambda r: {"input": {"id": r["CreateCluster"]["id"]}},
        "deleteCluster",
        lambda x: x is True,
    ),
    *(
        (
            "TerminatePod",
            lambda r, made=made: {"input": {"podId": r[made]["id"]}},
            "podTerminate",
            lambda result: result is None,
        )
        for made in ("CreatePod", "CreateSpotPod", "CreateCpuPod")
    ),
    (
        "SaveEndpoint",
        lambda r: {
            "input": {
                "id": r["SaveEndpoint"]["id"],
                "name": "ops-endpoint",
                "templateId": r["SaveTemplate"]["id"],
                "gpuIds": "ADA_24",
                "workersMin": 0,
                "workersMax": 0,
            }
        },
        "saveEndpoint",
        lambda e: e["workersMax"] == 0 and e["version"] == 2,
    ),
    (
        "DeleteEndpoint",
        lambda r: {"id": r["SaveEndpoint"]["id"]},
        "deleteEndpoint",
        lambda x: x is None,
    ),
    (
        "DeleteTemplate",
        lambda r: {"templateName": "ops-worker"},
        "deleteTemplate",
        lambda x: x is None,
    ),
    (
        "DeleteRegistryAuth",
        lambda r: {"registryAuthId": r["CreateRegistryAuth"]["id"]},
        "deleteRegistryAuth",
        lambda x: x is None,
    ),
    (
        "DeleteNetworkVolume",
        lambda r: {"input": {"id": r["CreateNetworkVolume"]["id"]}},
        "deleteNetworkVolume",
        lambda x: x is None,
    ),
]


def test_every_sdk_operation_executes_with_sensible_data(gql: _GraphQL) -> None:
    documents = _operation_documents()
    assert {name for name, *_ in _SCENARIO} == set(documents), "scenario and operations differ"
    results: dict[str, Any] = {}
    for name, variables, field_name, check in _SCENARIO:
        response = gql.client.post(
            gql.url,
            json={"query": documents[name], "operationName": name, "variables": variables(results)},
        )
        body = response.json()
        assert response.status_code == 200 and "errors" not in body, (name, body)
        result = body["data"][field_name]
        assert check(result), (name, result)
        results[name] = result
    after = gql.data("{ myself { endpoints { id } podTemplates { id } networkVolumes { id } } }")
    assert after["myself"] == {"endpoints": [], "podTemplates": [], "networkVolumes": []}


def _select_everything(type_: GraphQLNamedType, depth: int) -> str:
    """A selection of every argument-free field of `type_`, nested `depth` levels deep."""
    assert isinstance(type_, GraphQLObjectType)
    fields = []
    for name, definition in type_.fields.items():
        inner = get_named_type(definition.type)
        if definition.args:
            continue
        if isinstance(inner, GraphQLObjectType):
            if depth > 0:
                fields.append(f"{name} {_select_everything(inner, depth - 1)}")
        else:
            fields.append(name)
    return "{ " + " ".join(fields) + " }"


def test_every_field_resolves_for_populated_state(gql: _GraphQL) -> None:
    """Non-null fields the SDL declares must get values: an omission shows up as an error."""
    schema = build_schema(load_sdl())
    volume = gql.data(
        'mutation { createNetworkVolume(input: {name: "v", size: 5, dataCenterId: "EU-RO-1"})'
        " { id } }"
    )["createNetworkVolume"]
    template = gql.data(
        'mutation { saveTemplate(input: {name: "t", imageName: "i", dockerArgs: "",'
        " containerDiskInGb: 5, volumeInGb: 0, env: [], isServerless: true}) { id } }"
    )["saveTemplate"]
    gql.data(
        'mutation($t: String!, $v: String) { saveEndpoint(input: {name: "e", templateId: $t,'
        ' gpuIds: "ADA_24", networkVolumeId: $v}) { id } }',
        t=template["id"],
        v=volume["id"],
    )
    gql.data(
        'mutation { saveRegistryAuth(input: {name: "r", username: "u", password: "p"}) { id } }'
    )
    pod = _deploy(gql, networkVolumeId=volume["id"], ports="22/tcp")
    _poll_status(gql, pod["id"], "RUNNING")

    everything = _select_everything(schema.query_type, 4)  # type: ignore[arg-type]
    lowest_price = _select_everything(schema.type_map["LowestPrice"], 0)
    # Root fields merge, so this adds lowestPrice (skipped for its argument) to gpuTypes.
    body = gql(f"query {everything[:-1]} gpuTypes {{ lowestPrice {lowest_price} }} }}")
    assert "errors" not in body, body["errors"][:3]
    myself = body["data"]["myself"]
    assert all(len(myself[k]) == 1 for k in ("pods", "endpoints", "podTemplates", "networkVolumes"))
    assert myself["pods"][0]["runtime"]["ports"][0]["privatePort"] == 22


SAVE_TEMPLATE = """
mutation($input: SaveTemplateInput!) { saveTemplate(input: $input) { id name isServerless } }
"""
SAVE_ENDPOINT = """
mutation($input: EndpointInput!) {
  saveEndpoint(input: $input) { id workersMin workersMax idleTimeout version }
}
"""


def _template(gql: _GraphQL, name: str, *, serverless: bool = True) -> str:
    template_input = {
        "name": name,
        "imageName": "example/worker:1",
        "dockerArgs": "",
        "containerDiskInGb": 5,
        "volumeInGb": 0,
        "env": [],
        "isServerless": serverless,
    }
    template_id: str = gql.data(SAVE_TEMPLATE, input=template_input)["saveTemplate"]["id"]
    return template_id


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        pytest.param({"workersMin": 3, "workersMax": 1}, "workersMin", id="min-above-max"),
        pytest.param({"workersMax": -1}, "workersMax", id="negative-workers"),
        pytest.param({"gpuIds": "AMPERE_9000"}, "AMPERE_9000", id="unknown-pool"),
        pytest.param({"scalerType": "VIBES"}, "scalerType", id="unknown-scaler"),
        pytest.param({"templateId": "nosuchtmpl"}, "nosuchtmpl", id="unknown-template"),
        pytest.param({"name": " "}, "name", id="blank-name"),
    ],
)
def test_endpoint_input_is_validated(
    gql: _GraphQL, overrides: dict[str, Any], message: str
) -> None:
    endpoint_input = {"name": "e", "templateId": _template(gql, "w"), "gpuIds": "ADA_24"}
    error = gql.error(SAVE_ENDPOINT, input={**endpoint_input, **overrides})
    assert error["path"] == ["saveEndpoint"]
    assert message in error["message"]
    assert gql.data("{ myself { endpoints { id } } }")["myself"]["endpoints"] == []


def test_endpoints_need_serverless_templates_and_keep_omitted_fields(gql: _GraphQL) -> None:
    pod_template = _template(gql, "pod-template", serverless=False)
    error = gql.error(
        SAVE_ENDPOINT, input={"name": "e", "templateId": pod_template, "gpuIds": "ADA_24"}
    )
    assert "serverless" in error["message"]

    endpoint_input = {"name": "e", "templateId": _template(gql, "w"), "gpuIds": "ADA_24"}
    created = gql.data(SAVE_ENDPOINT, input={**endpoint_input, "idleTimeout": 60})["saveEndpoint"]
    updated = gql.data(
        SAVE_ENDPOINT, input={**endpoint_input, "id": created["id"], "workersMax": 5}
    )
    assert updated["saveEndpoint"] == {**created, "workersMax": 5, "version": 1}


def test_resources_in_use_cannot_be_deleted(gql: _GraphQL) -> None:
    auth_id = gql.data(
        'mutation { saveRegistryAuth(input: {name: "r", username: "u", password: "p"}) { id } }'
    )["saveRegistryAuth"]["id"]
    template_input = {
        "name": "private",
        "imageName": "registry.example.com/private:1",
        "dockerArgs": "",
        "containerDiskInGb": 5,
        "volumeInGb": 0,
        "env": [],
        "isServerless": True,
        "containerRegistryAuthId": auth_id,
    }
    template_id = gql.data(SAVE_TEMPLATE, input=template_input)["saveTemplate"]["id"]
    endpoint = gql.data(
        SAVE_ENDPOINT,
        input={"name": "e", "templateId": template_id, "gpuIds": "ADA_24", "workersMax": 2},
    )["saveEndpoint"]

    delete_auth = "mutation($id: String!) { deleteRegistryAuth(registryAuthId: $id) }"
    delete_template = 'mutation { deleteTemplate(templateName: "private") }'
    delete_endpoint = "mutation($id: String!) { deleteEndpoint(id: $id) }"
    assert "in use" in gql.error(delete_auth, id=auth_id)["message"]
    assert "in use" in gql.error(delete_template)["message"]
    assert "workersMax" in gql.error(delete_endpoint, id=endpoint["id"])["message"]

    gql.data(
        SAVE_ENDPOINT,
        input={
            "id": endpoint["id"],
            "name": "e",
            "templateId": template_id,
            "gpuIds": "ADA_24",
            "workersMax": 0,
        },
    )
    for document, variables in (
        (delete_endpoint, {"id": endpoint["id"]}),
        (delete_template, {}),
        (delete_auth, {"id": auth_id}),
    ):
        assert None in gql.data(document, **variables).values()
    myself = gql.data(
        "{ myself { endpoints { id } podTemplates { id } containerRegistryCreds { id } } }"
    )
    assert myself["myself"] == {"endpoints": [], "podTemplates": [], "containerRegistryCreds": []}


def test_network_volumes_grow_only_and_pin_pods_to_their_data_center(gql: _GraphQL) -> None:
    create = "mutation($i: CreateNetworkVolumeInput!) { createNetworkVolume(input: $i) { id } }"
    update = "mutation($i: UpdateNetworkVolumeInput!) { updateNetworkVolume(input: $i) { size } }"
    volume_id = gql.data(create, i={"name": "d", "size": 50, "dataCenterId": "EU-SE-1"})[
        "createNetworkVolume"
    ]["id"]
    assert "grow" in gql.error(update, i={"id": volume_id, "size": 10})["message"]
    assert gql.data(update, i={"id": volume_id, "size": 60}) == {
        "updateNetworkVolume": {"size": 60}
    }
    no_storage = gql.error(create, i={"name": "d", "size": 5, "dataCenterId": "US-CA-2"})
    assert no_storage["path"] == ["createNetworkVolume"]

    pod = _deploy(gql, networkVolumeId=volume_id)
    placed = gql.data(
        "query($id: String!) { pod(input: {podId: $id}) { machine { dataCenterId } } }",
        id=pod["id"],
    )
    assert placed["pod"]["machine"]["dataCenterId"] == "EU-SE-1"
    # The L4 is offered only in US data centers, so no machine can reach this volume.
    assert (
        gql.error(
            DEPLOY, input={"imageName": "x", "gpuTypeId": "NVIDIA L4", "networkVolumeId": volume_id}
        )["message"]
        == NO_INSTANCES
    )


def test_client_mistakes_are_not_logged_as_server_errors(
    gql: _GraphQL, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="runpod_typed.emulator.graphql"):
        gql.error(POD, podId="doesnotexist00")
        assert gql.post("{ myself { noSuchField } }").status_code == 400
        gql.error(DEPLOY, input={"imageName": "x", "gpuTypeId": SOLD_OUT_GPU})
    assert [r for r in caplog.records if r.name == "runpod_typed.emulator.graphql"] == []
