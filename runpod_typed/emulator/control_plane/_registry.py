"""Container registry credentials: saveRegistryAuth, updateRegistryAuth, deleteRegistryAuth."""

from __future__ import annotations

from typing import Any

from runpod_typed.emulator.control_plane._bindings import Bindings
from runpod_typed.emulator.control_plane._errors import error, get_or_not_found
from runpod_typed.emulator.control_plane._state import RegistryAuth, State
from runpod_typed.emulator.control_plane._wire import Input, Json, text, unique_name

BINDINGS = Bindings()


def registry_auth_id(state: State, auth_id: Any) -> str | None:
    """An optional registry credential id; RunPod's clients send "" for none."""
    if not auth_id:
        return None
    return get_or_not_found(state.registry_auths, auth_id, RegistryAuth.KIND).id


@BINDINGS.field("Mutation.saveRegistryAuth")
def _save(state: State, input: Input | None) -> Json:
    inp = input or {}
    name = unique_name(inp.get("name"), "Registry auth", state.registry_auths.values())
    auth = RegistryAuth(
        id=state.ids.make(24, prefix="c"),
        name=name,
        username=text(inp.get("username"), "username"),
        password=text(inp.get("password"), "password"),
    )
    state.registry_auths[auth.id] = auth
    return auth.view(state.user.id)


@BINDINGS.field("Mutation.updateRegistryAuth")
def _update(state: State, input: Input | None) -> Json:
    inp = input or {}
    auth = get_or_not_found(state.registry_auths, inp.get("id"), RegistryAuth.KIND)
    auth.username = text(inp.get("username"), "username")
    auth.password = text(inp.get("password"), "password")
    return auth.view(state.user.id)


@BINDINGS.field("Mutation.deleteRegistryAuth")
def _delete(state: State, registryAuthId: str | None = None) -> None:
    auth = get_or_not_found(state.registry_auths, registryAuthId, RegistryAuth.KIND)
    users = [t.name for t in state.templates.values() if t.container_registry_auth_id == auth.id]
    if users:
        raise error(f"Registry auth is in use by template(s) {', '.join(users)}.")
    del state.registry_auths[auth.id]
