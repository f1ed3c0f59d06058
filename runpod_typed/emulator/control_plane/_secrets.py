"""Secrets: User.secrets, secretCreate, secretDelete.

A secret's value is kept but never answered, as RunPod never returns it. Names are
unique per account (templates refer to a secret by name).
"""

from __future__ import annotations

from runpod_typed.emulator.control_plane._bindings import Bindings
from runpod_typed.emulator.control_plane._errors import get_or_not_found
from runpod_typed.emulator.control_plane._state import Secret, State
from runpod_typed.emulator.control_plane._wire import Input, Json, text, unique_name

BINDINGS = Bindings()


@BINDINGS.field("User.secrets")
def _list(state: State) -> list[Json]:
    return [secret.view() for secret in state.secrets.values()]


@BINDINGS.field("Mutation.secretCreate")
def _create(state: State, input: Input) -> Json:
    name = unique_name(input.get("name"), "Secret", state.secrets.values())
    secret = Secret(
        id=state.ids.make(24, prefix="s"),
        name=name,
        value=text(input.get("value"), "Secret value"),
        description=input.get("description"),
    )
    state.secrets[secret.id] = secret
    return secret.view()


@BINDINGS.field("Mutation.secretDelete")
def _delete(state: State, id: str) -> None:
    secret = get_or_not_found(state.secrets, id, Secret.KIND)
    del state.secrets[secret.id]
