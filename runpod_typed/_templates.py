"""`rp.templates`: the account's templates (saved container settings for pods and workers).

RunPod's `saveTemplate` takes the whole template every time, so `update` reads the
template, applies the changes and saves all of it; `delete` takes the id, like every
other helper, and finds the name RunPod's `deleteTemplate` wants.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from typing_extensions import TypedDict, Unpack

from runpod_typed._control import (
    AsyncNamespace,
    ResourceFlows,
    SyncNamespace,
    answered,
    async_helper,
    env_input,
    given,
    helper,
    present,
    text,
)
from runpod_typed._errors import TemplateNotFound
from runpod_typed._flow import Flow
from runpod_typed._generated.graphql import input_types as inputs

if TYPE_CHECKING:
    from runpod_typed._generated.graphql import TemplateFields

__all__ = ["AsyncTemplates", "TemplateChanges", "TemplateFlows", "TemplateSpec", "Templates"]


class TemplateSpec(TypedDict, total=False):
    """A template's settings besides its name and image; left out (or None): RunPod's default."""

    docker_args: str | None
    """Command-line arguments for the container ("" by default)."""
    container_disk_in_gb: int | None
    """Container disk in GB (10 by default)."""
    volume_in_gb: int | None
    """Pod volume in GB (0 by default: none)."""
    volume_mount_path: str | None
    ports: str | None
    """Exposed ports, like "8888/http,22/tcp"."""
    env: Mapping[str, str] | None
    """Environment variables; a value may refer to a secret: "{{ RUNPOD_SECRET_name }}"."""
    is_serverless: bool | None
    """True for a template serverless endpoints can run."""
    is_public: bool | None
    readme: str | None
    container_registry_auth_id: str | None
    """Credentials (see `rp.registries`) for a private image."""
    start_ssh: bool | None
    start_jupyter: bool | None
    start_script: str | None
    advanced_start: bool | None
    category: str | None
    """Kind of workload, like "NVIDIA" or "CPU"."""


class TemplateChanges(TemplateSpec, total=False):
    """What `update` may change: any setting, and the name and image too."""

    name: str | None
    image_name: str | None


#: What RunPod requires on every save, and what a new template gets when left out.
_REQUIRED_DEFAULTS: dict[str, Any] = {
    "docker_args": "",
    "container_disk_in_gb": 10,
    "volume_in_gb": 0,
    "env": {},
}


def _save_input(fields: Mapping[str, Any]) -> inputs.SaveTemplateInput:
    chosen = given(fields)
    if "env" in chosen:
        chosen["env"] = env_input(chosen["env"])
    return inputs.SaveTemplateInput(**chosen)


def _current(template: TemplateFields) -> dict[str, Any]:
    """A template's settings as `create` takes them (what `update` starts from)."""
    fields = template.model_dump(
        include=set(inputs.SaveTemplateInput.model_fields) - {"id", "env"}, exclude_none=True
    )
    fields["env"] = {e.key: e.value or "" for e in template.env or [] if e and e.key}
    return fields


class TemplateFlows(ResourceFlows):
    """The template helpers, each a flow over the generated flow client."""

    not_found = TemplateNotFound

    def list(self) -> Flow[list[TemplateFields]]:
        """The account's templates."""
        answer = yield from self.graphql.templates()
        return present(answer.myself.pod_templates if answer.myself else None)

    def get(self, template_id: str) -> Flow[TemplateFields]:
        """One of the account's templates by id; `TemplateNotFound` if none."""
        return (yield from self.listed(self.list(), template_id))

    def create(
        self, *, name: str, image_name: str, **spec: Unpack[TemplateSpec]
    ) -> Flow[TemplateFields]:
        """Create a template; names are unique per account."""
        fields = {**_REQUIRED_DEFAULTS, **given(spec)}
        new = _save_input(
            {**fields, "name": text("name", name), "image_name": text("image_name", image_name)}
        )
        answer = yield from self.graphql.save_template(input=new)
        return answered(answer.save_template, "the template")

    def update(self, template_id: str, **changes: Unpack[TemplateChanges]) -> Flow[TemplateFields]:
        """Change a template: what is left out keeps its value."""
        current = yield from self.get(template_id)
        change = _save_input({**_current(current), **given(changes), "id": current.id})
        saved = self.about(template_id, self.graphql.save_template(input=change))
        answer = yield from saved
        return answered(answer.save_template, "the template")

    def delete(self, template_id: str) -> Flow[None]:
        """Delete a template; RunPod refuses while a pod or endpoint uses it."""
        template = yield from self.get(template_id)
        name = answered(template.name, "the template's name")
        yield from self.about(template_id, self.graphql.delete_template(template_name=name))


class Templates(SyncNamespace[TemplateFlows]):
    """`rp.templates`: list, get, create, update, delete."""

    list = helper(TemplateFlows.list)
    get = helper(TemplateFlows.get)
    create = helper(TemplateFlows.create)
    update = helper(TemplateFlows.update)
    delete = helper(TemplateFlows.delete)


class AsyncTemplates(AsyncNamespace[TemplateFlows]):
    """`rp.templates` of `AsyncRunpod`: the same helpers, awaitable."""

    list = async_helper(TemplateFlows.list)
    get = async_helper(TemplateFlows.get)
    create = async_helper(TemplateFlows.create)
    update = async_helper(TemplateFlows.update)
    delete = async_helper(TemplateFlows.delete)
