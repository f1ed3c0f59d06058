"""Serverless endpoints: User.endpoint, saveEndpoint, updateEndpointTemplate, deleteEndpoint."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from runpod_typed.emulator.control_plane._bindings import Bindings
from runpod_typed.emulator.control_plane._catalogue_queries import check_gpu_ids, cpu_instance
from runpod_typed.emulator.control_plane._errors import error, get_or_not_found
from runpod_typed.emulator.control_plane._state import Endpoint, NetworkVolume, State
from runpod_typed.emulator.control_plane._templates import serverless_template
from runpod_typed.emulator.control_plane._wire import (
    Input,
    Json,
    camel_fields,
    env_list,
    first,
    integer,
    iso,
    text,
)

BINDINGS = Bindings()


def endpoint_view(state: State, endpoint: Endpoint) -> Json:
    template = state.templates[endpoint.template_id]
    volume = state.volumes.get(
        endpoint.network_volume_ids[0]["networkVolumeId"] if endpoint.network_volume_ids else ""
    )
    return {
        **camel_fields(endpoint),
        "createdAt": iso(endpoint.created_at),
        "template": template.view(),
        "env": env_list(template.env),
        "networkVolumeId": volume.id if volume else None,
        "networkVolume": volume.view() if volume else None,
        "workersStandby": endpoint.workers_min,
        "type": "QB",
        "userId": state.user.id,
        "pods": [],
    }


@BINDINGS.field("User.endpoint")
def _get(state: State, id: str | None = None) -> Json:
    return endpoint_view(state, get_or_not_found(state.endpoints, id, Endpoint.KIND))


@BINDINGS.field("Mutation.saveEndpoint")
def _save(state: State, input: Input) -> Json:
    """Create an endpoint, or update the one ``id`` names (fields left out are kept)."""
    existing = (
        get_or_not_found(state.endpoints, input["id"], Endpoint.KIND) if input.get("id") else None
    )
    base = existing or Endpoint(id=state.ids.make(14))

    def pick(key: str, current: Any) -> Any:
        return first(input.get(key), current)

    compute_type = str(pick("computeType", base.compute_type))
    instance_ids = pick("instanceIds", base.instance_ids)
    if compute_type == "CPU":
        for instance_id in instance_ids or ["cpu3g-2-8"]:
            cpu_instance(instance_id)
    else:
        check_gpu_ids(input["gpuIds"])
    endpoint = replace(
        base,
        name=text(input.get("name"), "Endpoint name"),
        template_id=serverless_template(state, input.get("templateId")).id,
        gpu_ids=str(input["gpuIds"]),
        compute_type=compute_type,
        instance_ids=instance_ids,
        network_volume_ids=_volume_ids(state, input, base.network_volume_ids),
        locations=pick("locations", base.locations) or None,
        idle_timeout=integer(pick("idleTimeout", base.idle_timeout), "idleTimeout"),
        scaler_type=str(pick("scalerType", base.scaler_type)),
        scaler_value=integer(pick("scalerValue", base.scaler_value), "scalerValue", 1),
        workers_min=integer(pick("workersMin", base.workers_min), "workersMin"),
        workers_max=integer(pick("workersMax", base.workers_max), "workersMax"),
        gpu_count=integer(pick("gpuCount", base.gpu_count), "gpuCount", 1),
        allowed_cuda_versions=pick("allowedCudaVersions", base.allowed_cuda_versions) or None,
        min_cuda_version=pick("minCudaVersion", base.min_cuda_version) or None,
        model_references=pick("modelReferences", base.model_references),
        flash_boot_type=str(pick("flashBootType", base.flash_boot_type)),
        execution_timeout_ms=integer(
            pick("executionTimeoutMs", base.execution_timeout_ms), "executionTimeoutMs", 1
        ),
        version=base.version + 1 if existing else 0,
    )
    if endpoint.workers_min > endpoint.workers_max:
        raise error("workersMin must not be greater than workersMax.")
    if endpoint.scaler_type not in ("QUEUE_DELAY", "REQUEST_COUNT"):
        raise error("scalerType must be QUEUE_DELAY or REQUEST_COUNT.")
    state.endpoints[endpoint.id] = endpoint
    return endpoint_view(state, endpoint)


def _volume_ids(state: State, inp: Input, current: list[Json]) -> list[Json]:
    """networkVolumeIds, or the older single networkVolumeId ("" detaches)."""
    if inp.get("networkVolumeIds") is not None:
        wanted = [v["networkVolumeId"] for v in inp["networkVolumeIds"]]
    elif inp.get("networkVolumeId") is not None:
        wanted = [inp["networkVolumeId"]] if inp["networkVolumeId"] else []
    else:
        return current
    volumes = [get_or_not_found(state.volumes, v, NetworkVolume.KIND) for v in wanted]
    return [{"networkVolumeId": v.id, "dataCenterId": v.data_center_id} for v in volumes]


@BINDINGS.field("Mutation.updateEndpointTemplate")
def _update_template(state: State, input: Input | None) -> Json:
    inp = input or {}
    endpoint = get_or_not_found(state.endpoints, inp.get("endpointId"), Endpoint.KIND)
    endpoint.template_id = serverless_template(state, inp.get("templateId")).id
    endpoint.version += 1
    return endpoint_view(state, endpoint)


@BINDINGS.field("Mutation.deleteEndpoint")
def _delete(state: State, id: str | None = None) -> None:
    endpoint = get_or_not_found(state.endpoints, id, Endpoint.KIND)
    if endpoint.workers_min or endpoint.workers_max:
        raise error(
            "Set workersMin and workersMax to 0 before deleting the endpoint "
            f"(they are {endpoint.workers_min} and {endpoint.workers_max})."
        )
    del state.endpoints[endpoint.id]
