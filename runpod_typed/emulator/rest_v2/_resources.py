"""REST v2's operations on the control plane's state, one handler per operationId.

Writes go through the GraphQL control plane's own resolvers, looked up by schema
coordinate (``Mutation.podStop``, ``Mutation.saveEndpoint``, ...), so a rule the
GraphQL plane enforces (placement, stock, names that must be unique, a volume in
use) holds for v2 too, and a pod created through one plane is the same record the
other sees. A resolver's refusal becomes v2's problem document: NOT_FOUND is 404,
BAD_USER_INPUT 400, anything else (no capacity, say) 422. Reads render the
records with `_views`. Every handler runs under the state's lock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from graphql import GraphQLError

from runpod_typed.emulator.control_plane._pods import settle
from runpod_typed.emulator.control_plane._schema import _RESOURCES
from runpod_typed.emulator.control_plane._state import (
    Cluster,
    EcrDelegation,
    Endpoint,
    NetworkVolume,
    Pod,
    RegistryAuth,
    State,
    Template,
)
from runpod_typed.emulator.control_plane._templates import _PUBLIC_TEMPLATES
from runpod_typed.emulator.control_plane.catalogue import (
    CLUSTER_OFFERS_BY_GPU,
    CPU_FLAVORS,
    CPU_FLAVORS_BY_ID,
    DATA_CENTERS,
    DATA_CENTERS_BY_ID,
    GPU_POOLS,
    GPU_TYPES,
    GPU_TYPES_BY_ID,
    HOST_CUDA_VERSION,
    GpuType,
)
from runpod_typed.emulator.rest_v2 import _views as views
from runpod_typed.emulator.rest_v2._spec import Json, Problem

#: GraphQL error code -> HTTP status of v2's answer.
_STATUS_OF_CODE = {"NOT_FOUND": 404, "BAD_USER_INPUT": 400}


@dataclass
class Call:
    """One request, checked: path parameters, query (parsed, defaults filled), body."""

    state: State
    path: dict[str, str]
    query: Json
    body: Json | None
    #: The job API root the request came through (``http://host:port/v2``), for requestUrls.
    job_api: str

    @property
    def id(self) -> str:
        return self.path["id"]

    @property
    def json(self) -> Json:
        assert self.body is not None
        return self.body


Answer = tuple[int, Json | None]
Handler = Callable[[Call], Answer]
HANDLERS: dict[str, Handler] = {}


def handles(operation_id: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        HANDLERS[operation_id] = handler
        return handler

    return register


def _resolvers() -> dict[str, Callable[..., Any]]:
    return {c: r for resource in _RESOURCES for c, r in resource.BINDINGS.items()}


def graphql(state: State, coordinate: str, **arguments: Any) -> Any:
    """Run the GraphQL plane's resolver for `coordinate`; its refusal as v2's Problem."""
    try:
        return _resolvers()[coordinate](state, **arguments)
    except GraphQLError as exc:
        code = (exc.extensions or {}).get("code")
        raise Problem(_STATUS_OF_CODE.get(str(code), 422), exc.message) from None


def _find(records: dict[str, Any], key: str, kind: str) -> Any:
    record = records.get(key)
    if record is None:
        raise Problem(404, f"{kind} {key} not found")
    return record


def _env_input(env: dict[str, str]) -> list[Json]:
    return [{"key": key, "value": value} for key, value in env.items()]


def _container_input(body: Json) -> Json:
    """v2's container settings as the GraphQL plane's input fields (only those given)."""
    fields: Json = {}
    if "image" in body:
        fields["imageName"] = body["image"]
    if "args" in body:
        fields["dockerArgs"] = body["args"]
    if "disk" in body:
        fields["containerDiskInGb"] = body["disk"]
    if "env" in body:
        fields["env"] = _env_input(body["env"])
    if "ports" in body:
        fields["ports"] = ",".join(body["ports"])
    if "registry" in body:
        fields["containerRegistryAuthId"] = body["registry"] or ""
    persistent = (body.get("mounts") or {}).get("persistent")
    if persistent is not None:
        fields["volumeInGb"] = persistent["size"]
        fields["volumeMountPath"] = persistent["path"]
    return fields


# -- pods --------------------------------------------------------------------------------------


def _pod(call: Call, *, live: bool = False) -> tuple[Pod, float]:
    now = settle(call.state)
    pods = call.state.live_pods() if live else call.state.pods
    pod: Pod = _find(pods, call.id, "pod")
    return pod, now


@handles("listPods")
def _list_pods(call: Call) -> Answer:
    now = settle(call.state)
    pods = sorted(call.state.live_pods().values(), key=lambda p: p.created_at)
    if not call.query.get("includeClusterPods"):
        pods = [pod for pod in pods if pod.cluster_id is None]
    return 200, {"pods": [views.pod_view(call.state, pod, now) for pod in pods]}


@handles("getPod")
def _get_pod(call: Call) -> Answer:
    pod, now = _pod(call)
    return 200, views.pod_view(call.state, pod, now)


@handles("createPod")
def _create_pod(call: Call) -> Answer:
    body = call.json
    gpu, cpu = body.get("gpu"), body.get("cpu")
    if (gpu is None) == (cpu is None):
        raise Problem(400, "give exactly one of gpu and cpu", ["body: gpu or cpu is required"])
    inp: Json = {
        "name": body["name"],
        "cloudType": body.get("cloud", "SECURE"),
        **_container_input(body),
    }
    if body.get("templateId"):
        inp["templateId"] = body["templateId"]
    network = (body.get("mounts") or {}).get("network") or []
    if network:
        inp["networkVolumeId"] = network[0]["volumeId"]
        inp["volumeMountPath"] = network[0]["path"]
    if gpu is not None:
        coordinate = "Mutation.podFindAndDeployOnDemand"
        inp.update(gpuTypeId=gpu["id"], gpuCount=gpu.get("count", 1))
        if gpu.get("minCudaVersion"):
            inp["minCudaVersion"] = gpu["minCudaVersion"]
    else:
        assert cpu is not None
        coordinate = "Mutation.deployCpuPod"
        inp["instanceId"] = _instance_id(cpu["id"], cpu["vcpuCount"], "body.cpu")
    created = None
    problem: Problem | None = None
    for data_center in body.get("dataCenterIds") or [None]:
        try:
            created = graphql(call.state, coordinate, input={**inp, "dataCenterId": data_center})
            break
        except Problem as exc:
            problem = exc
    if created is None:
        assert problem is not None
        raise problem
    pod = call.state.pods[created["id"]]
    return 201, views.pod_view(call.state, pod, time.monotonic())


def _instance_id(flavor_id: str, vcpus: int, where: str) -> str:
    flavor = CPU_FLAVORS_BY_ID.get(flavor_id)
    if flavor is None:
        known = ", ".join(f.id for f in CPU_FLAVORS)
        raise Problem(400, f"unknown CPU type {flavor_id!r}", [f"{where}.id: one of {known}"])
    return f"{flavor.id}-{vcpus}-{vcpus * flavor.ram_multiplier}"


@handles("updatePod")
def _update_pod(call: Call) -> Answer:
    pod, now = _pod(call, live=True)
    body = call.json
    edit = _container_input(body)
    if "templateId" in body:
        wanted = body["templateId"]
        if wanted and wanted not in call.state.templates and wanted not in _PUBLIC_TEMPLATES:
            raise Problem(404, f"template {wanted} not found")
        pod.template_id = body["templateId"] or None
    if edit:
        graphql(call.state, "Mutation.podEditJob", input={"podId": pod.id, **edit})
    if "name" in body:
        pod.name = body["name"]
    if "locked" in body:
        pod.locked = body["locked"]
    return 200, views.pod_view(call.state, pod, now)


@handles("deletePod")
def _delete_pod(call: Call) -> Answer:
    pod, _ = _pod(call, live=True)
    if pod.locked:
        raise Problem(409, f"pod {pod.id} is locked; unlock it (PATCH locked=false) first")
    graphql(call.state, "Mutation.podTerminate", input={"podId": pod.id})
    return 204, None


@handles("podAction")
def _pod_action(call: Call) -> Answer:
    pod, now = _pod(call)
    action = call.json["action"]
    status = views.pod_status(call.state, pod, now)
    if action not in views.ACTIONS[status]:
        allowed = ", ".join(views.ACTIONS[status]) or "none"
        raise Problem(409, f"cannot {action} a pod that is {status} (allowed: {allowed})")
    if pod.locked and action in ("stop", "terminate"):
        raise Problem(409, f"pod {pod.id} is locked; unlock it (PATCH locked=false) first")
    if action == "start":
        if pod.spot:
            graphql(
                call.state,
                "Mutation.podBidResume",
                input={"podId": pod.id, "bidPerGpu": pod.unit_price},
            )
        else:
            graphql(call.state, "Mutation.podResume", input={"podId": pod.id})
    elif action == "stop":
        graphql(call.state, "Mutation.podStop", input={"podId": pod.id})
    elif action == "terminate":
        graphql(call.state, "Mutation.podTerminate", input={"podId": pod.id})
    else:  # restart: the container starts again on the same machine
        pod.set_phase("starting", now, "Restarted by User")
        pod.started_before = True
    return 200, views.pod_view(call.state, pod, time.monotonic())


# -- templates ---------------------------------------------------------------------------------


def _template_input(body: Json, current: Template | None) -> Json:
    """saveTemplate's input: the current values (it wants name and image each time),
    overridden by the fields v2 was given, with v2's defaults for a new template."""
    inp: Json = {}
    if current is not None:
        inp = {
            "id": current.id,
            "name": current.name,
            "imageName": current.image_name,
            "dockerArgs": current.docker_args,
            "containerDiskInGb": current.container_disk_in_gb,
            "volumeInGb": current.volume_in_gb,
            "volumeMountPath": current.volume_mount_path,
            "ports": current.ports,
            "env": _env_input(current.env),
            "containerRegistryAuthId": current.container_registry_auth_id or "",
        }
    else:
        inp = {"dockerArgs": "", "volumeInGb": 0, "env": [], "ports": ""}
        body = {"category": "NVIDIA", "startJupyter": True, "startSsh": True, **body}
    inp.update(_container_input(body))
    for v2_name, name in (
        ("name", "name"),
        ("category", "category"),
        ("public", "isPublic"),
        ("serverless", "isServerless"),
        ("startJupyter", "startJupyter"),
        ("startSsh", "startSsh"),
    ):
        if v2_name in body:
            inp[name] = body[v2_name]
    return inp


@handles("listTemplates")
def _list_templates(call: Call) -> Answer:
    templates = sorted(call.state.templates.values(), key=lambda t: t.name)
    return 200, {"templates": [views.template_view(t) for t in templates]}


@handles("getTemplate")
def _get_template(call: Call) -> Answer:
    template = call.state.templates.get(call.id) or _PUBLIC_TEMPLATES.get(call.id)
    if template is None:
        raise Problem(404, f"template {call.id} not found")
    return 200, views.template_view(template)


@handles("createTemplate")
def _create_template(call: Call) -> Answer:
    saved = graphql(call.state, "Mutation.saveTemplate", input=_template_input(call.json, None))
    return 201, views.template_view(call.state.templates[saved["id"]])


@handles("updateTemplate")
def _update_template(call: Call) -> Answer:
    current: Template = _find(call.state.templates, call.id, "template")
    graphql(call.state, "Mutation.saveTemplate", input=_template_input(call.json, current))
    return 200, views.template_view(call.state.templates[current.id])


@handles("deleteTemplate")
def _delete_template(call: Call) -> Answer:
    template: Template = _find(call.state.templates, call.id, "template")
    graphql(call.state, "Mutation.deleteTemplate", templateName=template.name)
    return 204, None


@handles("listPublicTemplates")
def _list_public_templates(call: Call) -> Answer:
    official = call.query.get("source", "official") == "official"
    templates = list(_PUBLIC_TEMPLATES.values()) if official else []
    return 200, {"templates": [views.template_view(t) for t in templates]}


# -- serverless endpoints ----------------------------------------------------------------------


def _endpoint_input(call: Call, current: Endpoint | None) -> Json:
    body = call.json
    inp: Json = {"name": body.get("name", current.name if current else "")}
    if current is not None:
        inp["id"] = current.id
    else:
        inp["type"] = "LB" if body.get("type") == "LOAD_BALANCER" else "QB"
    gpu, cpu = body.get("gpu"), body.get("cpu")
    if current is None and (gpu is None) == (cpu is None):
        raise Problem(400, "give exactly one of gpu and cpu", ["body: gpu or cpu is required"])
    if gpu is not None:
        pools = gpu.get("pools")
        if pools is None and current is not None:
            pools = [e for e in current.gpu_ids.split(",") if e and not e.startswith("-")]
        excluded = ["-" + t for t in gpu.get("excludedTypes", [])]
        inp["gpuIds"] = ",".join([*(pools or []), *excluded])
        inp["instanceIds"] = []
        if "count" in gpu:
            inp["gpuCount"] = gpu["count"]
        if "allowedCudaVersions" in gpu:
            inp["allowedCudaVersions"] = ",".join(gpu["allowedCudaVersions"])
        if "minCudaVersion" in gpu:
            inp["minCudaVersion"] = gpu["minCudaVersion"]
    if cpu is not None:
        inp["gpuIds"] = ""
        inp["instanceIds"] = [
            _instance_id(c["id"], c["vcpuCount"], f"body.cpu[{i}]") for i, c in enumerate(cpu)
        ]
    if "dataCenterIds" in body:
        inp["dataCenterIds"] = body["dataCenterIds"]
    if "networkVolumes" in body:
        inp["networkVolumeIds"] = [{"networkVolumeId": v} for v in body["networkVolumes"]]
    scaling = body.get("scaling")
    if scaling is not None:
        inp["scalerType"] = scaling["type"]
        value = scaling.get("queueDelay", scaling.get("requestCount", 1))
        inp["scalerValue"] = max(1, round(value))
    workers = body.get("workers") or {}
    defaults = {"min": 0, "max": 3, "idleTimeout": 10} if current is None else {}
    for v2_name, name in (
        ("min", "workersMin"),
        ("max", "workersMax"),
        ("idleTimeout", "idleTimeout"),
    ):
        if v2_name in workers or v2_name in defaults:
            inp[name] = workers.get(v2_name, defaults.get(v2_name))
    if "timeout" in body or current is None:
        inp["executionTimeoutMs"] = body.get("timeout", 300000)
    if "flashboot" in body or current is None:
        inp["flashBootType"] = body.get("flashboot", "OFF")
    return inp


def _endpoint_template(call: Call, current: Endpoint | None) -> Json:
    """The template part of saveEndpoint's input: a templateId, or a template inline
    (v2 gives an endpoint its own container settings)."""
    body = call.json
    container = _container_input(body)
    template_id = body.get("templateId")
    if current is None and not template_id:
        return {"template": {"dockerArgs": "", "env": [], "ports": "", **container}}
    if template_id and not container:
        return {"templateId": template_id}
    if template_id:  # a template, with the endpoint's own overrides: a copy of it
        base = _find(call.state.templates, template_id, "template")
        merged = _template_input({}, base)
        merged.pop("id")
        merged.pop("name")
        return {"template": {**merged, **container}}
    if container and current is not None:  # the endpoint's own template changes
        template = call.state.templates[current.template_id]
        edit = {**_template_input({}, template), **container, "isServerless": True}
        graphql(call.state, "Mutation.saveTemplate", input=edit)
    return {}


@handles("listEndpoints")
def _list_endpoints(call: Call) -> Answer:
    endpoints = sorted(call.state.endpoints.values(), key=lambda e: e.created_at)
    return 200, {"endpoints": [views.endpoint_view(call.state, e, call.job_api) for e in endpoints]}


@handles("getEndpoint")
def _get_endpoint(call: Call) -> Answer:
    endpoint: Endpoint = _find(call.state.endpoints, call.id, "endpoint")
    return 200, views.endpoint_view(call.state, endpoint, call.job_api)


@handles("createEndpoint")
def _create_endpoint(call: Call) -> Answer:
    inp = {**_endpoint_input(call, None), **_endpoint_template(call, None)}
    saved = graphql(call.state, "Mutation.saveEndpoint", input=inp)
    return 201, views.endpoint_view(call.state, call.state.endpoints[saved["id"]], call.job_api)


@handles("updateEndpoint")
def _update_endpoint(call: Call) -> Answer:
    current: Endpoint = _find(call.state.endpoints, call.id, "endpoint")
    inp = _endpoint_input(call, current)
    inp.update(_endpoint_template(call, current))
    graphql(call.state, "Mutation.saveEndpoint", input=inp)
    return 200, views.endpoint_view(call.state, call.state.endpoints[current.id], call.job_api)


@handles("deleteEndpoint")
def _delete_endpoint(call: Call) -> Answer:
    endpoint: Endpoint = _find(call.state.endpoints, call.id, "endpoint")
    endpoint.workers_min = endpoint.workers_max = 0  # v2 scales the endpoint down itself
    graphql(call.state, "Mutation.deleteEndpoint", id=endpoint.id)
    return 204, None


@handles("listEndpointWorkers")
def _list_workers(call: Call) -> Answer:
    endpoint: Endpoint = _find(call.state.endpoints, call.id, "endpoint")
    return 200, views.workers_view(endpoint)


@handles("listEndpointReleases")
def _list_releases(call: Call) -> Answer:
    endpoint: Endpoint = _find(call.state.endpoints, call.id, "endpoint")
    return 200, views.releases_view(call.state, endpoint)


# -- network volumes, registries, delegations, SSH keys ----------------------------------------


@handles("listNetworkVolumes")
def _list_volumes(call: Call) -> Answer:
    volumes = sorted(call.state.volumes.values(), key=lambda v: v.name)
    return 200, {"networkVolumes": [views.volume_view(v) for v in volumes]}


@handles("getNetworkVolume")
def _get_volume(call: Call) -> Answer:
    volume: NetworkVolume = _find(call.state.volumes, call.id, "network volume")
    return 200, views.volume_view(volume)


@handles("createNetworkVolume")
def _create_volume(call: Call) -> Answer:
    body = call.json
    if body["dataCenter"] not in DATA_CENTERS_BY_ID:
        raise Problem(400, f"unknown data center {body['dataCenter']!r}", ["body.dataCenter"])
    inp = {"name": body["name"], "size": body["size"], "dataCenterId": body["dataCenter"]}
    created = graphql(call.state, "Mutation.createNetworkVolume", input=inp)
    return 201, views.volume_view(call.state.volumes[created["id"]])


@handles("updateNetworkVolume")
def _update_volume(call: Call) -> Answer:
    volume: NetworkVolume = _find(call.state.volumes, call.id, "network volume")
    graphql(call.state, "Mutation.updateNetworkVolume", input={"id": volume.id, **call.json})
    return 200, views.volume_view(volume)


@handles("deleteNetworkVolume")
def _delete_volume(call: Call) -> Answer:
    volume: NetworkVolume = _find(call.state.volumes, call.id, "network volume")
    graphql(call.state, "Mutation.deleteNetworkVolume", input={"id": volume.id})
    return 204, None


@handles("listRegistries")
def _list_registries(call: Call) -> Answer:
    auths = sorted(call.state.registry_auths.values(), key=lambda a: a.name)
    return 200, {"registries": [views.registry_view(a) for a in auths]}


@handles("getRegistry")
def _get_registry(call: Call) -> Answer:
    auth: RegistryAuth = _find(call.state.registry_auths, call.id, "registry")
    return 200, views.registry_view(auth)


@handles("createRegistry")
def _create_registry(call: Call) -> Answer:
    created = graphql(call.state, "Mutation.saveRegistryAuth", input=dict(call.json))
    return 201, views.registry_view(call.state.registry_auths[created["id"]])


@handles("deleteRegistry")
def _delete_registry(call: Call) -> Answer:
    auth: RegistryAuth = _find(call.state.registry_auths, call.id, "registry")
    graphql(call.state, "Mutation.deleteRegistryAuth", registryAuthId=auth.id)
    return 204, None


@handles("listDelegations")
def _list_delegations(call: Call) -> Answer:
    found = sorted(call.state.delegations.values(), key=lambda d: d.created_at)
    return 200, {"delegations": [views.delegation_view(call.state, d) for d in found]}


@handles("createDelegation")
def _create_delegation(call: Call) -> Answer:
    """`resource`: an ECR image, ``ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPO[:TAG]``."""
    resource = call.json["resource"].strip()
    registry, _, rest = resource.partition("/")
    repository, _, tag = rest.partition(":")
    host = registry.split(".")
    if len(host) < 6 or host[1:3] != ["dkr", "ecr"] or not repository:
        raise Problem(
            400,
            f"resource {resource!r} is not an ECR image (ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPO)",
            ["body.resource"],
        )
    delegation = EcrDelegation(
        id=call.state.ids.make(14),
        name=call.json.get("name"),
        registry_uri=registry,
        aws_region=host[3],
        repository=repository,
        tag=tag or "latest",
    )
    call.state.delegations[delegation.id] = delegation
    return 201, views.delegation_view(call.state, delegation)


@handles("revokeDelegation")
def _revoke_delegation(call: Call) -> Answer:
    _find(call.state.delegations, call.id, "delegation")
    del call.state.delegations[call.id]
    return 204, None


@handles("getSshKeys")
def _get_ssh_keys(call: Call) -> Answer:
    keys = [line.strip() for line in call.state.user.pub_key.splitlines() if line.strip()]
    return 200, {"keys": keys}


@handles("updateSshKeys")
def _update_ssh_keys(call: Call) -> Answer:
    keys = list(call.json["keys"])
    graphql(call.state, "Mutation.updateUserSettings", input={"pubKey": "\n".join(keys)})
    return 200, {"keys": keys}


# -- catalogue ---------------------------------------------------------------------------------


def _gpu_offered(gpu: GpuType, query: Json) -> bool:
    products = set(query.get("product") or ())
    pooled = any(gpu.id in pool.gpu_type_ids for pool in GPU_POOLS)
    if products and not (
        ("POD" in products)
        or ("CLUSTER" in products and gpu.id in CLUSTER_OFFERS_BY_GPU)
        or ("SERVERLESS" in products and pooled)
    ):
        return False
    if query.get("count", 1) > gpu.max_gpu_count:
        return False
    cloud = query.get("cloud")
    if (cloud == "SECURE" and not gpu.secure_cloud) or (
        cloud == "COMMUNITY" and not gpu.community_cloud
    ):
        return False
    countries = set(query.get("countryCodes") or ())
    if countries and not any(
        DATA_CENTERS_BY_ID[dc].country_code in countries for dc in gpu.data_center_ids
    ):
        return False
    wanted = [views._cuda(v) for v in query.get("cudaVersions") or ()]
    if wanted and min(wanted) > HOST_CUDA_VERSION:
        return False
    minimum = query.get("minCudaVersion")
    return not (minimum and views._cuda(minimum) > HOST_CUDA_VERSION)


def _includes_availability(call: Call) -> bool:
    return "AVAILABILITY" in (call.query.get("include") or ())


@handles("listGpuTypes")
def _list_gpus(call: Call) -> Answer:
    shown = [g for g in GPU_TYPES if _gpu_offered(g, call.query)]
    return 200, {"gpus": [views.gpu_view(g, _includes_availability(call)) for g in shown]}


@handles("getGpuType")
def _get_gpu(call: Call) -> Answer:
    gpu = GPU_TYPES_BY_ID.get(call.id)
    if gpu is None:
        raise Problem(404, f"GPU type {call.id} not found")
    return 200, views.gpu_view(gpu, _includes_availability(call))


@handles("listCpuTypes")
def _list_cpus(call: Call) -> Answer:
    vcpus = call.query.get("vcpuCount")
    shown = [f for f in CPU_FLAVORS if vcpus is None or f.min_vcpu <= vcpus <= f.max_vcpu]
    return 200, {"cpus": [views.cpu_view(f, _includes_availability(call)) for f in shown]}


@handles("getCpuType")
def _get_cpu(call: Call) -> Answer:
    flavor = CPU_FLAVORS_BY_ID.get(call.id)
    if flavor is None:
        raise Problem(404, f"CPU type {call.id} not found")
    return 200, views.cpu_view(flavor, _includes_availability(call))


@handles("listDataCenters")
def _list_data_centers(call: Call) -> Answer:
    query = call.query
    include = list(query.get("include") or ())
    shown = [
        dc
        for dc in DATA_CENTERS
        if (not query.get("regions") or views.region_of(dc) in query["regions"])
        and (not query.get("compliance") or set(query["compliance"]) <= set(dc.compliance))
        and (not query.get("networkVolumeTypes") or dc.storage_support)
        and (
            query.get("globalNetwork") is None
            or (dc.country_code == "US") == query["globalNetwork"]
        )
    ]
    return 200, {"dataCenters": [views.data_center_view(dc, include) for dc in shown]}


@handles("getDataCenter")
def _get_data_center(call: Call) -> Answer:
    dc = DATA_CENTERS_BY_ID.get(call.id)
    if dc is None:
        raise Problem(404, f"data center {call.id} not found")
    return 200, views.data_center_view(dc, list(call.query.get("include") or ()))


# -- clusters ----------------------------------------------------------------------------------


@handles("listClusters")
def _list_clusters(call: Call) -> Answer:
    now = settle(call.state)
    clusters = list(call.state.clusters.values())
    return 200, {"clusters": [views.cluster_view(call.state, c, now) for c in clusters]}


@handles("getCluster")
def _get_cluster(call: Call) -> Answer:
    now = settle(call.state)
    cluster: Cluster = _find(call.state.clusters, call.id, "cluster")
    return 200, views.cluster_view(call.state, cluster, now)


@handles("createCluster")
def _create_cluster(call: Call) -> Answer:
    body = call.json
    compute = body["compute"]
    gpu = GPU_TYPES_BY_ID.get(compute["gpuTypeId"])
    price = (gpu.secure_price or 0.0) if gpu else 0.0
    inp: Json = {
        "clusterName": body["name"],
        "type": body["type"],
        "gpuTypeId": compute["gpuTypeId"],
        "podCount": compute["podCount"],
        "gpuCountPerPod": compute["gpuCountPerPod"],
        "deployCost": round(price * compute["gpuCountPerPod"] * compute["podCount"], 4),
        **_container_input(body),
    }
    if body.get("dataCenterIds"):
        inp["dataCenterId"] = body["dataCenterIds"][0]
    created = graphql(call.state, "Mutation.createCluster", input=inp)
    cluster = call.state.clusters[created["id"]]
    return 201, views.cluster_view(call.state, cluster, settle(call.state))


@handles("updateCluster")
def _update_cluster(call: Call) -> Answer:
    cluster: Cluster = _find(call.state.clusters, call.id, "cluster")
    if "name" in call.json:
        cluster.name = call.json["name"]
    return 200, views.cluster_view(call.state, cluster, settle(call.state))


@handles("deleteCluster")
def _delete_cluster(call: Call) -> Answer:
    cluster: Cluster = _find(call.state.clusters, call.id, "cluster")
    graphql(call.state, "Mutation.deleteCluster", input={"id": cluster.id})
    return 204, None


@handles("listClusterPods")
def _list_cluster_pods(call: Call) -> Answer:
    now = settle(call.state)
    cluster: Cluster = _find(call.state.clusters, call.id, "cluster")
    pods = [call.state.pods[p] for p in cluster.pod_ids if p in call.state.pods]
    return 200, {"pods": [views.pod_view(call.state, pod, now) for pod in pods]}


# -- billing -----------------------------------------------------------------------------------

_BUCKETS = {
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
    "week": timedelta(weeks=1),
    "month": timedelta(days=30),
    "year": timedelta(days=365),
}


def _window(call: Call) -> tuple[datetime, datetime, str]:
    """The billing query's time range and bucket size (defaults: the last bucket)."""
    from runpod_typed.emulator.rest_v2._spec import parse_time

    bucket = call.query.get("bucketSize", "day")
    end = (
        parse_time(call.query["endTime"]) if "endTime" in call.query else datetime.now(timezone.utc)
    )
    if "startTime" in call.query:
        start = parse_time(call.query["startTime"])
    else:
        start = end - _BUCKETS[bucket] * call.query.get("lastN", 1)
    if start > end:
        raise Problem(400, "startTime must not be after endTime", ["query.startTime"])
    return start, end, bucket


def _hours(since: float, start: datetime, end: datetime) -> float:
    begin = max(start.timestamp(), since)
    return max(0.0, end.timestamp() - begin) / 3600


def _stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _billing(
    call: Call,
    records: list[Json],
    totals_of: list[str],
    id_filter: tuple[str, str | None] | None,
    unique: str | None,
) -> Answer:
    start, end, bucket = _window(call)
    query: Json = {"startTime": _stamp(start), "endTime": _stamp(end), "bucketSize": bucket}
    if id_filter is not None:
        query[id_filter[0]] = id_filter[1]
    totals = {name: round(sum(r[name] for r in records), 6) for name in totals_of}
    metadata: Json = {"query": query, "recordCount": len(records), "totals": totals}
    if unique is not None:
        metadata[unique] = len(records)
    for record in records:
        record.update(startTime=_stamp(start), endTime=_stamp(end))
    return 200, {"metadata": metadata, "records": records}


def _pod_records(call: Call, start: datetime, end: datetime, pod_id: str | None) -> list[Json]:
    records = []
    for pod in call.state.pods.values():
        if pod_id is not None and pod.id != pod_id:
            continue
        hours = _hours(pod.created_at, start, end)
        gpu = round(pod.cost_per_hr * hours, 6) if pod.gpu is not None else 0.0
        cpu = round(pod.cost_per_hr * hours, 6) if pod.gpu is None else 0.0
        disk = round(0.0001 * (pod.container_disk_in_gb + pod.volume_in_gb) * hours, 6)
        records.append(
            {
                "podId": pod.id,
                "gpuAmount": gpu,
                "cpuAmount": cpu,
                "diskAmount": disk,
                "totalAmount": round(gpu + cpu + disk, 6),
            }
        )
    return records


@handles("listPodBilling")
def _pod_billing(call: Call) -> Answer:
    start, end, _ = _window(call)
    pod_id = call.query.get("podId")
    records = _pod_records(call, start, end, pod_id)
    amounts = ["cpuAmount", "diskAmount", "gpuAmount", "totalAmount"]
    return _billing(call, records, amounts, ("podId", pod_id), "uniquePodCount")


@handles("listNetworkVolumeBilling")
def _volume_billing(call: Call) -> Answer:
    start, end, _ = _window(call)
    wanted = call.query.get("networkVolumeId")
    records = []
    for volume in call.state.volumes.values():
        if wanted is None or volume.id == wanted:
            amount = round(volume.size * 0.07 / 730 * _hours(0.0, start, end), 6)
            records.append(
                {
                    "networkVolumeId": volume.id,
                    "standardAmount": amount,
                    "highPerformanceAmount": 0.0,
                    "totalAmount": amount,
                }
            )
    amounts = ["highPerformanceAmount", "standardAmount", "totalAmount"]
    return _billing(call, records, amounts, ("networkVolumeId", wanted), "uniqueNetworkVolumeCount")


@handles("listServerlessBilling")
def _serverless_billing(call: Call) -> Answer:
    wanted = call.query.get("serverlessId")
    records = [
        {
            "serverlessId": e.id,
            "cpuAmount": 0.0,
            "diskAmount": 0.0,
            "feeAmount": 0.0,
            "gpuAmount": 0.0,
            "totalAmount": 0.0,
        }
        for e in call.state.endpoints.values()
        if wanted is None or e.id == wanted
    ]
    amounts = ["cpuAmount", "diskAmount", "feeAmount", "gpuAmount", "totalAmount"]
    return _billing(call, records, amounts, ("serverlessId", wanted), "uniqueServerlessCount")


@handles("listEndpointBilling")
def _endpoint_billing(call: Call) -> Answer:
    records = [{"totalAmount": 0.0}] if call.state.endpoints else []
    return _billing(call, records, ["totalAmount"], None, None)


@handles("listClusterBilling")
def _cluster_billing(call: Call) -> Answer:
    start, end, _ = _window(call)
    wanted = call.query.get("clusterId")
    records = []
    for cluster in call.state.clusters.values():
        if wanted is not None and cluster.id != wanted:
            continue
        pods = _pod_records(call, start, end, None)
        gpu = round(sum(r["gpuAmount"] for r in pods if r["podId"] in cluster.pod_ids), 6)
        disk = round(sum(r["diskAmount"] for r in pods if r["podId"] in cluster.pod_ids), 6)
        records.append(
            {
                "clusterId": cluster.id,
                "gpuAmount": gpu,
                "diskAmount": disk,
                "networkingAmount": 0.0,
                "totalAmount": round(gpu + disk, 6),
            }
        )
    amounts = ["diskAmount", "gpuAmount", "networkingAmount", "totalAmount"]
    return _billing(call, records, amounts, ("clusterId", wanted), "uniqueClusterCount")


@handles("listBilling")
def _account_billing(call: Call) -> Answer:
    start, end, _ = _window(call)
    pods = _pod_records(call, start, end, None)
    cluster_pods = {p for c in call.state.clusters.values() for p in c.pod_ids}
    own = [r for r in pods if r["podId"] not in cluster_pods]
    clustered = [r for r in pods if r["podId"] in cluster_pods]
    volumes = _volume_billing(call)[1]
    storage = volumes["metadata"]["totals"]["standardAmount"] if volumes else 0.0
    amounts: Json = {
        "podGpuAmount": round(sum(r["gpuAmount"] for r in own), 6),
        "podCpuAmount": round(sum(r["cpuAmount"] for r in own), 6),
        "podDiskAmount": round(sum(r["diskAmount"] for r in own), 6),
        "clusterGpuAmount": round(sum(r["gpuAmount"] for r in clustered), 6),
        "clusterDiskAmount": round(sum(r["diskAmount"] for r in clustered), 6),
        "clusterNetworkingAmount": 0.0,
        "endpointAmount": 0.0,
        "serverlessCpuAmount": 0.0,
        "serverlessDiskAmount": 0.0,
        "serverlessFeeAmount": 0.0,
        "serverlessGpuAmount": 0.0,
        "storageHighPerformanceAmount": 0.0,
        "storageStandardAmount": storage,
    }
    amounts["totalAmount"] = round(sum(amounts.values()), 6)
    records = [amounts] if any(amounts.values()) else []
    return _billing(call, records, list(amounts), None, None)
