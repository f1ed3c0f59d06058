"""Serverless endpoints: User.endpoint, saveEndpoint, updateEndpointTemplate, deleteEndpoint.

``saveEndpoint`` checks what RunPod's server checks beyond the schema (see "Rules beyond
the schema" in docs/schema-evidence.md): exactly one of ``templateId`` and ``template``;
``gpuIds`` for GPU and load-balancing endpoints, ``instanceIds`` with an empty ``gpuIds``
for a CPU endpoint; the type (QB or LB) fixed at creation; at most one network volume per
data center, each in one of the endpoint's data centers; workersMin <= workersMax. Where
RunPod's wording is not known the message is ours.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from runpod_typed.emulator.control_plane._bindings import Bindings
from runpod_typed.emulator.control_plane._catalogue_queries import check_gpu_ids, cpu_instance
from runpod_typed.emulator.control_plane._errors import error, get_or_not_found
from runpod_typed.emulator.control_plane._state import Endpoint, NetworkVolume, State
from runpod_typed.emulator.control_plane._templates import save_template, serverless_template
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
from runpod_typed.emulator.control_plane.catalogue import DATA_CENTERS_BY_ID

BINDINGS = Bindings()

ENDPOINT_TYPES = ("QB", "LB")
TEMPLATE_XOR = "Provide exactly one of templateId or template."
TYPE_IS_FIXED = "The endpoint type cannot be changed after the endpoint is created."
GPU_IDS_REQUIRED = (
    "gpuIds is required for GPU and load-balancing endpoints; for a CPU endpoint give "
    "instanceIds and an empty gpuIds."
)


def endpoint_view(state: State, endpoint: Endpoint) -> Json:
    template = state.templates[endpoint.template_id]
    volumes = [state.volumes.get(v["networkVolumeId"]) for v in endpoint.network_volume_ids]
    first_volume = volumes[0] if volumes else None
    return {
        **camel_fields(endpoint),
        "createdAt": iso(endpoint.created_at),
        "template": template.view(),
        "env": env_list(template.env),
        "networkVolumeId": first_volume.id if first_volume else None,
        "networkVolume": first_volume.view() if first_volume else None,
        "networkVolumeIds": [dict(v) for v in endpoint.network_volume_ids],
        "workersStandby": endpoint.workers_min,
        "workersPFBTarget": endpoint.workers_pfb_target,
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

    inline = input.get("template")
    if input.get("templateId") and inline is not None:
        raise error(TEMPLATE_XOR)
    if existing is None and not input.get("templateId") and inline is None:
        raise error(TEMPLATE_XOR)
    kind = str(pick("type", base.type))
    if kind not in ENDPOINT_TYPES:
        raise error(f'type must be "QB" or "LB", got {kind!r}.')
    if existing is not None and kind != existing.type:
        raise error(TYPE_IS_FIXED)
    gpu_ids = str(pick("gpuIds", base.gpu_ids) or "")
    instance_ids = [i for i in pick("instanceIds", base.instance_ids) or [] if i]
    cpu = bool(instance_ids) and not gpu_ids.strip()
    if cpu and kind == "LB":
        raise error(GPU_IDS_REQUIRED)
    if cpu:
        for instance_id in instance_ids:
            cpu_instance(instance_id)
    elif not gpu_ids.strip():
        raise error(GPU_IDS_REQUIRED)
    else:
        check_gpu_ids(gpu_ids)
    data_center_ids = _data_center_ids(pick("dataCenterIds", base.data_center_ids))
    endpoint = replace(
        base,
        name=text(input.get("name"), "Endpoint name"),
        type=kind,
        gpu_ids=gpu_ids,
        compute_type="CPU" if cpu else "GPU",
        instance_ids=instance_ids or None,
        data_center_ids=data_center_ids,
        network_volume_ids=_volume_ids(state, input, base.network_volume_ids, data_center_ids),
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
        workers_pfb_target=pick("workersPFBTarget", base.workers_pfb_target),
        flash_environment_id=pick("flashEnvironmentId", base.flash_environment_id),
        version=base.version + 1 if existing else 0,
    )
    if endpoint.workers_min > endpoint.workers_max:
        raise error("workersMin must not be greater than workersMax.")
    if endpoint.scaler_type not in ("QUEUE_DELAY", "REQUEST_COUNT"):
        raise error("scalerType must be QUEUE_DELAY or REQUEST_COUNT.")
    # The template last: an endpoint refused above leaves no template behind.
    if input.get("templateId"):
        endpoint.template_id = serverless_template(state, input["templateId"]).id
    elif inline is not None:
        endpoint.template_id = _inline_template(state, endpoint, inline)
    state.endpoints[endpoint.id] = endpoint
    return endpoint_view(state, endpoint)


def _inline_template(state: State, endpoint: Endpoint, inline: Input) -> str:
    """Create the serverless template given with the endpoint (flash and runpodctl do this)."""
    fields = {key: value for key, value in inline.items() if value is not None}
    fields.setdefault("name", f"{endpoint.name}__template__{state.ids.make(6)}")
    fields.setdefault("dockerArgs", "")
    fields.setdefault("env", [])
    fields["volumeInGb"] = 0
    fields["isServerless"] = True
    return save_template(state, fields).id


def _data_center_ids(wanted: Any) -> list[str] | None:
    if not wanted:
        return None
    unknown = [dc for dc in wanted if dc not in DATA_CENTERS_BY_ID]
    if unknown:
        raise error(f"Unknown data center in dataCenterIds: {', '.join(map(str, unknown))}.")
    return [str(dc) for dc in wanted]


def _volume_ids(
    state: State, inp: Input, current: list[Json], data_center_ids: list[str] | None
) -> list[Json]:
    """networkVolumeIds, or the older single networkVolumeId ("" detaches)."""
    if inp.get("networkVolumeIds") is not None:
        wanted = [v["networkVolumeId"] for v in inp["networkVolumeIds"] if v is not None]
    elif inp.get("networkVolumeId") is not None:
        wanted = [inp["networkVolumeId"]] if inp["networkVolumeId"] else []
    else:
        wanted = [v["networkVolumeId"] for v in current]
    volumes = [get_or_not_found(state.volumes, v, NetworkVolume.KIND) for v in wanted]
    seen: dict[str, str] = {}
    for volume in volumes:
        dc = volume.data_center_id
        if dc in seen:
            raise error(
                f"Multiple network volumes in data center {dc} ({seen[dc]} and {volume.id}): "
                "only one network volume is allowed per data center."
            )
        seen[dc] = volume.id
        if data_center_ids is not None and dc not in data_center_ids:
            raise error(
                f"Network volume {volume.id} is in data center {dc}, which is not in the "
                f"endpoint's dataCenterIds ({', '.join(data_center_ids)})."
            )
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
