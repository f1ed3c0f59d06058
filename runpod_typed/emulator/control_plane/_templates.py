"""Pod and serverless templates: podTemplate, saveTemplate, deleteTemplate."""

from __future__ import annotations

from collections import ChainMap
from dataclasses import replace
from typing import Any

from runpod_typed.emulator.control_plane._bindings import Bindings
from runpod_typed.emulator.control_plane._errors import error, get_or_not_found
from runpod_typed.emulator.control_plane._registry import registry_auth_id
from runpod_typed.emulator.control_plane._state import State, Template
from runpod_typed.emulator.control_plane._wire import (
    Input,
    Json,
    env_map,
    first,
    integer,
    parse_ports,
    text,
    unique_name,
)

BINDINGS = Bindings()

# Public templates any account can deploy from; the official client deploys CPU pods
# from "runpod-ubuntu" when given no template.
_PUBLIC_TEMPLATES = {
    t.id: t
    for t in (
        Template(
            "runpod-ubuntu",
            "Runpod Ubuntu",
            "runpod/base:0.6.2-ubuntu2204",
            category="CPU",
            is_public=True,
            is_runpod=True,
        ),
        Template(
            "runpod-torch-v240",
            "Runpod Pytorch 2.4.0",
            "runpod/pytorch:2.4.0-py3.11-cuda12.4.1-devel-ubuntu22.04",
            container_disk_in_gb=50,
            volume_in_gb=20,
            ports="8888/http,22/tcp",
            start_jupyter=True,
            is_public=True,
            is_runpod=True,
        ),
    )
}


def pod_template(state: State, template_id: Any) -> Template:
    """A template a pod can use: the account's own, or one of RunPod's public ones."""
    return get_or_not_found(
        ChainMap(state.templates, _PUBLIC_TEMPLATES), template_id, Template.KIND
    )


def serverless_template(state: State, template_id: Any) -> Template:
    """One of the account's templates that an endpoint can run (``isServerless``)."""
    template = get_or_not_found(state.templates, template_id, Template.KIND)
    if not template.is_serverless:
        raise error(f"Template {template_id} is not a serverless template.")
    return template


@BINDINGS.field("Query.podTemplate")
def _get(state: State, id: str | None = None) -> Json:
    return pod_template(state, id).view()


@BINDINGS.field("Mutation.saveTemplate")
def _save(state: State, input: Input | None) -> Json:
    return save_template(state, input or {}).view()


def save_template(state: State, inp: Input) -> Template:
    """Create a template, or update the one ``id`` names (fields left out are kept).

    Also how ``saveEndpoint`` creates the template given inline (``template``).
    """
    existing = (
        get_or_not_found(state.templates, inp["id"], Template.KIND) if inp.get("id") else None
    )
    others = (t for t in state.templates.values() if t is not existing)
    name = unique_name(inp.get("name"), "Template", others)
    base = existing or Template(id=state.ids.make(10), name=name, image_name="")
    template = replace(
        base,
        name=name,
        image_name=text(inp.get("imageName"), "imageName"),
        docker_args=str(first(inp.get("dockerArgs"), base.docker_args)),
        container_disk_in_gb=integer(
            first(inp.get("containerDiskInGb"), base.container_disk_in_gb),
            "containerDiskInGb",
            1,
        ),
        volume_in_gb=integer(first(inp.get("volumeInGb"), base.volume_in_gb), "volumeInGb"),
        volume_mount_path=str(inp.get("volumeMountPath") or base.volume_mount_path),
        ports=str(first(inp.get("ports"), base.ports)),
        env=env_map(inp["env"]) if inp.get("env") is not None else base.env,
        is_serverless=bool(first(inp.get("isServerless"), base.is_serverless)),
        is_public=bool(first(inp.get("isPublic"), base.is_public)),
        readme=str(first(inp.get("readme"), base.readme)),
        start_ssh=bool(first(inp.get("startSsh"), base.start_ssh)),
        start_jupyter=bool(first(inp.get("startJupyter"), base.start_jupyter)),
        start_script=first(inp.get("startScript"), base.start_script),
        advanced_start=bool(first(inp.get("advancedStart"), base.advanced_start)),
        category=str(first(inp.get("category"), base.category)),
        container_registry_auth_id=registry_auth_id(state, inp.get("containerRegistryAuthId")),
    )
    parse_ports(template.ports)
    state.templates[template.id] = template
    return template


@BINDINGS.field("Mutation.deleteTemplate")
def _delete(state: State, templateName: str | None = None) -> None:
    by_name = {t.name: t for t in state.templates.values()}
    template = get_or_not_found(by_name, templateName, Template.KIND)
    users = [e.id for e in state.endpoints.values() if e.template_id == template.id]
    users += [p.id for p in state.live_pods().values() if p.template_id == template.id]
    if users:
        raise error(f"Template {templateName!r} is in use by {', '.join(users)}.")
    del state.templates[template.id]
