"""The GraphQL codegen rewrites: Python names in Python, exact signatures, the flow client."""

from __future__ import annotations

import ast
import inspect
from typing import Any

import pytest

from codegen.postprocess import flow_client_source, postprocess_source


def test_field_aliases_become_validation_and_serialization_aliases() -> None:
    source = (
        "from pydantic import Field\n"
        "class PodFilter(BaseModel):\n"
        '    pod_id: str = Field(alias="podId")\n'
        '    gpu_count: int = Field(alias="gpuCount", default=1)\n'
    )
    result = postprocess_source(source)
    assert "alias=" not in result.replace("_alias=", "")
    assert "Field(validation_alias='podId', serialization_alias='podId')" in result
    assert "Field(validation_alias='gpuCount', serialization_alias='gpuCount', default=1)" in (
        result
    )


def test_only_pydantic_field_calls_are_rewritten() -> None:
    source = 'def Field(**kw):\n    return kw\nx = Field(alias="a")\n'
    assert postprocess_source(source) == source


def test_catch_all_kwargs_are_dropped_from_operation_methods() -> None:
    source = (
        "class C:\n"
        "    def pod(self, input: X, **kwargs: Any) -> Pod:\n"
        "        response = self.execute(query=q, variables=v, **kwargs)\n"
        "        return response\n"
        "    def plain(self, **kwargs: Any) -> None:\n"
        "        other(**kwargs)\n"
    )
    result = postprocess_source(source)
    assert "def pod(self, input: X) -> Pod:" in result
    assert "self.execute(query=q, variables=v)" in result
    assert "def plain(self, **kwargs: Any) -> None:" in result  # not an operation method


SYNC_CLIENT = """from typing import Any
from .graphql_base_client import GraphQLBaseClient
from .pods import Pods


class RunpodGraphQLClient(GraphQLBaseClient):
    def pods(self, **kwargs: Any) -> Pods:
        query = "query Pods { x }"
        variables: dict[str, object] = {}
        response = self.execute(query=query, operation_name="Pods", variables=variables, **kwargs)
        data = self.get_data(response)
        return Pods.model_validate(data)
"""


def test_the_flow_client_is_derived_from_the_sync_client() -> None:
    flows = postprocess_source(
        flow_client_source(SYNC_CLIENT, sync_base="GraphQLBaseClient", flow_client="Flows")
    )
    tree = ast.parse(flows)
    (cls,) = [node for node in tree.body if isinstance(node, ast.ClassDef)]
    assert cls.name == "Flows"
    assert ast.unparse(cls.bases[0]) == "GraphQLFlowBaseClient[Effect]"
    (method,) = [node for node in cls.body if isinstance(node, ast.FunctionDef)]
    assert ast.unparse(method.args) == "self"
    assert ast.unparse(method.returns) == "Generator[Effect, Any, Pods]"  # type: ignore[arg-type]
    assert "response = yield from self.execute(" in flows
    assert "return self.parse(Pods, data)" in flows
    assert "from .graphql_flow_base_client import GraphQLFlowBaseClient, Effect" in flows


def test_the_flow_client_refuses_a_sync_client_it_does_not_understand() -> None:
    with pytest.raises(ValueError, match="expected one class"):
        flow_client_source(SYNC_CLIENT, sync_base="Other", flow_client="Flows")
    broken = SYNC_CLIENT.replace("response = self.execute", "response = self.send")
    with pytest.raises(ValueError, match=r"expected one `x = self\.execute"):
        flow_client_source(broken, sync_base="GraphQLBaseClient", flow_client="Flows")


# --- the generated package ---------------------------------------------------------------------


def test_generated_inputs_take_python_names_and_send_wire_names() -> None:
    from runpod_typed.graphql import CloudTypeEnum, PodFilter, PodFindAndDeployOnDemandInput

    assert PodFilter(pod_id="p1").model_dump(by_alias=True) == {"podId": "p1"}
    assert PodFilter(podId="p1").pod_id == "p1"  # type: ignore[call-arg]  # still accepted
    deploy = PodFindAndDeployOnDemandInput(
        gpu_count=1, cloud_type=CloudTypeEnum.SECURE, image_name="img"
    )
    wire = deploy.model_dump(mode="json", by_alias=True, exclude_unset=True)
    assert wire == {"gpuCount": 1, "cloudType": "SECURE", "imageName": "img"}


def test_generated_answers_still_parse_from_camel_case() -> None:
    from runpod_typed.graphql import PodFieldsMachine

    wire = {
        "podHostId": "h1",
        "gpuDisplayName": "RTX 4090",
        "gpuTypeId": "NVIDIA GeForce RTX 4090",
        "location": "EU",
        "dataCenterId": "EU-RO-1",
        "secureCloud": True,
        "supportPublicIp": None,
        "fieldAddedLater": 1,
    }
    machine = PodFieldsMachine.model_validate(wire)
    assert (machine.pod_host_id, machine.data_center_id) == ("h1", "EU-RO-1")
    del wire["fieldAddedLater"]
    assert machine.model_dump(by_alias=True) == wire


@pytest.mark.parametrize("client", ["RunpodGraphQLClient", "AsyncRunpodGraphQLClient"])
def test_generated_methods_take_only_their_variables(client: str) -> None:
    import runpod_typed.graphql as generated

    cls = getattr(generated, client)
    for name, method in vars(cls).items():
        if callable(method) and not name.startswith("_"):
            kinds = [p.kind for p in inspect.signature(method).parameters.values()]
            assert inspect.Parameter.VAR_KEYWORD not in kinds, name


def test_the_generated_flow_client_yields_the_sends_effects() -> None:
    from runpod_typed.graphql import Myself, RunpodGraphQLFlows

    seen: list[dict[str, Any]] = []

    def send(payload: dict[str, Any]) -> Any:
        seen.append(payload)
        reply = yield "an effect"
        return {"data": {"myself": None}, "reply": reply}

    flow = RunpodGraphQLFlows(send).myself()
    assert next(flow) == "an effect"
    with pytest.raises(StopIteration) as stop:
        flow.send("answer")
    assert isinstance(stop.value.value, Myself)
    assert seen[0]["operationName"] == "Myself"
    sync_ops = {n for n in vars(generated_sync()) if not n.startswith("_")}
    flow_ops = {n for n in vars(RunpodGraphQLFlows) if not n.startswith("_")}
    assert sync_ops == flow_ops


def generated_sync() -> type:
    from runpod_typed.graphql import RunpodGraphQLClient

    return RunpodGraphQLClient
