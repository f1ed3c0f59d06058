"""`rp.endpoints`: managing serverless endpoints (their workers, scaling, regions, volumes).

Running jobs on an endpoint is `rp.endpoint(endpoint_id)` (`_endpoint.py`); this module
creates, changes and deletes the endpoints themselves.

An endpoint is queue-based (`type="QB"`, the default) or load-balancing (`"LB"`), fixed
at creation. It runs on GPUs (`gpu_ids`, GPU pools like "AMPERE_16,ADA_24") or on CPUs
(`instance_ids`, like ["cpu3c-2-4"]), in any data center or in the ones `data_center_ids`
names (multi-region), with network volumes (`network_volume_ids`, at most one per data
center). It runs a template: an existing one (`template_id`) or one created with it
(`template=EndpointTemplateInput(...)`), exactly one of the two.

`workers`, `releases` and `worker_logs` are REST v2's (GraphQL has none): the
endpoint's workers with a summary by state, its releases with the rollout, and a
worker's log as a typed stream of `LogEvent`, like `rp.pods.logs`.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from typing_extensions import TypedDict, Unpack

from runpod_typed._control import (
    AsyncNamespace,
    Events,
    ResourceFlows,
    SyncNamespace,
    answered,
    async_helper,
    async_stream_helper,
    given,
    helper,
    present,
    stream_helper,
    text,
)
from runpod_typed._errors import EndpointNotFound, InvalidRequestError
from runpod_typed._flow import Flow
from runpod_typed._generated.graphql import FlashBootType
from runpod_typed._generated.graphql import input_types as inputs
from runpod_typed._generated.rest.models import (
    ListEndpointReleasesResponse,
    ListEndpointWorkersResponse,
    LogEvent,
    LogSource,
)
from runpod_typed._generated.rest.types import UNSET

if TYPE_CHECKING:
    from runpod_typed._generated.graphql import EndpointFields

__all__ = [
    "AsyncEndpoints",
    "EndpointFlows",
    "EndpointSpec",
    "EndpointType",
    "Endpoints",
    "ScalerType",
]

#: "QB": queue-based (jobs through /run, /runsync); "LB": load-balancing (HTTP to workers).
EndpointType = Literal["QB", "LB"]
#: How workers are scaled: by seconds of queue delay, or by requests per worker.
ScalerType = Literal["QUEUE_DELAY", "REQUEST_COUNT"]


class EndpointSpec(TypedDict, total=False):
    """An endpoint's settings; left out (or None): RunPod's default, or on update, unchanged."""

    template_id: str | None
    """The template the workers run (or give `template`)."""
    template: inputs.EndpointTemplateInput | None
    """A template to create with the endpoint, instead of `template_id`."""
    gpu_ids: str | None
    """GPU pools, comma-separated, like "AMPERE_16,ADA_24" (GPU and LB endpoints)."""
    gpu_count: int | None
    instance_ids: Sequence[str] | None
    """CPU instance types, like ["cpu3c-2-4"]: the endpoint runs on CPUs (no `gpu_ids`)."""
    data_center_ids: Sequence[str] | None
    """Data centers the workers may run in, like ["EU-RO-1", "US-KS-2"]."""
    network_volume_ids: Sequence[str] | None
    """Network volumes to mount, at most one per data center."""
    locations: str | None
    workers_min: int | None
    workers_max: int | None
    idle_timeout: int | None
    """Seconds a worker stays up without work."""
    scaler_type: ScalerType | None
    scaler_value: int | None
    flash_boot_type: FlashBootType | None
    execution_timeout_ms: int | None
    allowed_cuda_versions: str | None
    min_cuda_version: str | None
    model_references: Sequence[str] | None


class EndpointChanges(EndpointSpec, total=False):
    """What `update` may change: any setting, and the name."""

    name: str | None


def _endpoint_input(fields: Mapping[str, Any]) -> inputs.EndpointInput:
    chosen = given(fields)
    if chosen.get("template_id") and chosen.get("template"):
        raise InvalidRequestError("give template_id= or template=, not both")
    volumes = chosen.pop("network_volume_ids", None)
    if volumes is not None:
        chosen["network_volume_ids"] = [
            inputs.EndpointNetworkVolumeInput(network_volume_id=text("network volume id", v))
            for v in volumes
        ]
    for name in ("instance_ids", "data_center_ids", "model_references"):
        if name in chosen:
            chosen[name] = list(chosen[name])
    if "type" in chosen:
        chosen["type_"] = chosen.pop("type")
    return inputs.EndpointInput(**chosen)


def _current(endpoint: EndpointFields) -> dict[str, Any]:
    """An endpoint's settings as `create` takes them (what `update` starts from)."""
    fields = endpoint.model_dump(
        include=set(EndpointSpec.__annotations__) | {"name", "type_"}, exclude_none=True
    )
    fields["type"] = fields.pop("type_", None)
    volumes = [v.network_volume_id for v in endpoint.network_volume_ids or [] if v]
    fields["network_volume_ids"] = [v for v in volumes if v] or None
    if endpoint.instance_ids is not None:
        fields["instance_ids"] = [i for i in endpoint.instance_ids if i]
    return fields


class EndpointFlows(ResourceFlows):
    """The endpoint helpers, each a flow over the generated flow client."""

    not_found = EndpointNotFound

    def list(self) -> Flow[list[EndpointFields]]:
        """The account's serverless endpoints."""
        answer = yield from self.graphql.endpoints()
        return present(answer.myself.endpoints if answer.myself else None)

    def get(self, endpoint_id: str) -> Flow[EndpointFields]:
        """One endpoint by id; `EndpointNotFound` if the account has none with it."""
        wanted = self.id(endpoint_id)
        answer = yield from self.about(wanted, self.graphql.endpoint_by_id(id=wanted))
        return self.found(answer.myself.endpoint if answer.myself else None, wanted)

    def create(
        self, *, name: str, type: EndpointType = "QB", **spec: Unpack[EndpointSpec]
    ) -> Flow[EndpointFields]:
        """Create an endpoint; give `template_id` or `template`, and `gpu_ids` or `instance_ids`."""
        if not spec.get("template_id") and spec.get("template") is None:
            raise InvalidRequestError("an endpoint needs template_id= or template=")
        new = _endpoint_input({**spec, "name": text("name", name), "type": type})
        answer = yield from self.graphql.save_endpoint(input=new)
        return answered(answer.save_endpoint, "the endpoint")

    def update(self, endpoint_id: str, **changes: Unpack[EndpointChanges]) -> Flow[EndpointFields]:
        """Change an endpoint: what is left out keeps its value (the type cannot change).

        RunPod's save replaces the whole configuration, so this reads the endpoint and sends
        it back with the changes. `data_center_ids` cannot be read back: give it again when
        changing a multi-region endpoint.
        """
        current = yield from self.get(endpoint_id)
        fields = {**_current(current), **given(changes), "id": current.id}
        if changes.get("template") is not None:
            fields.pop("template_id", None)
        change = _endpoint_input(fields)
        answer = yield from self.about(endpoint_id, self.graphql.save_endpoint(input=change))
        return answered(answer.save_endpoint, "the endpoint")

    def delete(self, endpoint_id: str) -> Flow[None]:
        """Delete an endpoint; RunPod wants `workers_min` and `workers_max` at 0 first."""
        wanted = self.id(endpoint_id)
        yield from self.about(wanted, self.graphql.delete_endpoint(id=wanted))

    def workers(self, endpoint_id: str) -> Flow[ListEndpointWorkersResponse]:
        """The endpoint's workers (REST v2): `workers` and a `summary` by state."""
        wanted = self.id(endpoint_id)
        return (yield from self.about(wanted, self.rest.list_endpoint_workers(wanted)))

    def releases(self, endpoint_id: str) -> Flow[ListEndpointReleasesResponse]:
        """The endpoint's releases (REST v2) and the `rollout` of the newest."""
        wanted = self.id(endpoint_id)
        return (yield from self.about(wanted, self.rest.list_endpoint_releases(wanted)))

    def worker_logs(
        self,
        endpoint_id: str,
        worker_id: str,
        *,
        source: LogSource | None = None,
        tail: int = 100,
        since: datetime.datetime | None = None,
    ) -> Events[LogEvent]:
        """A worker's log as it is written (REST v2 server-sent events): the last `tail`
        lines (or those `since`), then each new one, until the caller stops iterating."""
        wanted = self.id(endpoint_id)
        flow = self.rest.get_worker_logs(
            wanted,
            text("worker id", worker_id),
            source=UNSET if source is None else source,
            tail=tail,
            since=UNSET if since is None else since,
        )
        return Events(self.about(wanted, flow, "to follow"))


class Endpoints(SyncNamespace[EndpointFlows]):
    """`rp.endpoints`: list, get, create, update, delete (jobs: `rp.endpoint(id)`)."""

    list = helper(EndpointFlows.list)
    get = helper(EndpointFlows.get)
    create = helper(EndpointFlows.create)
    update = helper(EndpointFlows.update)
    delete = helper(EndpointFlows.delete)
    workers = helper(EndpointFlows.workers)
    releases = helper(EndpointFlows.releases)
    worker_logs = stream_helper(EndpointFlows.worker_logs)


class AsyncEndpoints(AsyncNamespace[EndpointFlows]):
    """`rp.endpoints` of `AsyncRunpod`: the same helpers, awaitable."""

    list = async_helper(EndpointFlows.list)
    get = async_helper(EndpointFlows.get)
    create = async_helper(EndpointFlows.create)
    update = async_helper(EndpointFlows.update)
    delete = async_helper(EndpointFlows.delete)
    workers = async_helper(EndpointFlows.workers)
    releases = async_helper(EndpointFlows.releases)
    worker_logs = async_stream_helper(EndpointFlows.worker_logs)
