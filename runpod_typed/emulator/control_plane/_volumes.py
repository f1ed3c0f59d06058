"""Network volumes: createNetworkVolume, updateNetworkVolume, deleteNetworkVolume."""

from __future__ import annotations

from runpod_typed.emulator.control_plane._bindings import Bindings
from runpod_typed.emulator.control_plane._errors import error, get_or_not_found
from runpod_typed.emulator.control_plane._state import NetworkVolume, State
from runpod_typed.emulator.control_plane._wire import Input, Json, integer, text
from runpod_typed.emulator.control_plane.catalogue import DATA_CENTERS_BY_ID

BINDINGS = Bindings()


@BINDINGS.field("Mutation.createNetworkVolume")
def _create(state: State, input: Input | None) -> Json:
    inp = input or {}
    dc = DATA_CENTERS_BY_ID.get(str(inp.get("dataCenterId")))
    if dc is None or not dc.storage_support:
        raise error(f"Data center {inp.get('dataCenterId')} has no network storage.")
    volume = NetworkVolume(
        id=state.ids.make(10),
        name=text(inp.get("name"), "Network volume name"),
        size=integer(inp.get("size"), "size", 1),
        data_center_id=dc.id,
    )
    state.volumes[volume.id] = volume
    return volume.view()


@BINDINGS.field("Mutation.updateNetworkVolume")
def _update(state: State, input: Input | None) -> Json:
    """Rename or grow a volume (it can never shrink)."""
    inp = input or {}
    volume = get_or_not_found(state.volumes, inp.get("id"), NetworkVolume.KIND)
    if inp.get("size") is not None:
        size = integer(inp["size"], "size", 1)
        if size < volume.size:
            raise error("A network volume can only grow: size must not decrease.")
        volume.size = size
    if inp.get("name") is not None:
        volume.name = text(inp["name"], "Network volume name")
    return volume.view()


@BINDINGS.field("Mutation.deleteNetworkVolume")
def _delete(state: State, input: Input | None) -> None:
    inp = input or {}
    volume = get_or_not_found(state.volumes, inp.get("id"), NetworkVolume.KIND)
    users = [p.id for p in state.live_pods().values() if p.network_volume_id == volume.id]
    users += [
        e.id
        for e in state.endpoints.values()
        if any(v["networkVolumeId"] == volume.id for v in e.network_volume_ids)
    ]
    if users:
        raise error(f"Network volume is in use by {', '.join(users)}.")
    del state.volumes[volume.id]
