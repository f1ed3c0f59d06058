"""The user and everything it owns: myself, updateUserSettings."""

from __future__ import annotations

from runpod_typed.emulator.control_plane._bindings import Bindings
from runpod_typed.emulator.control_plane._endpoints import endpoint_view
from runpod_typed.emulator.control_plane._pods import pod_view, settle
from runpod_typed.emulator.control_plane._state import State
from runpod_typed.emulator.control_plane._wire import Input, Json, camel_fields

BINDINGS = Bindings()


@BINDINGS.field("Query.myself")
def _user_view(state: State) -> Json:
    now = settle(state)
    user = state.user
    pods = [pod_view(state, pod, now) for pod in state.pods.values()]
    active = ("CREATED", "RUNNING")
    spend = sum(pod["costPerHr"] for pod in pods if pod["desiredStatus"] in active)
    return {
        **camel_fields(user),
        "currentSpendPerHr": round(spend, 4),
        "multiFactorEnabled": False,
        "signedTermsOfService": True,
        "referralEarned": 0.0,
        "templateEarned": 0.0,
        "notifyPodsStale": True,
        "notifyPodsGeneral": True,
        "notifyLowBalance": True,
        "notifyOther": True,
        "pods": pods,
        "endpoints": [endpoint_view(state, e) for e in state.endpoints.values()],
        "podTemplates": [t.view() for t in state.templates.values()],
        "networkVolumes": [v.view() for v in state.volumes.values()],
        "containerRegistryCreds": [a.view(user.id) for a in state.registry_auths.values()],
    }


@BINDINGS.field("Mutation.updateUserSettings")
def _update_settings(state: State, input: Input | None) -> Json:
    inp = input or {}
    if inp.get("pubKey") is not None:
        state.user.pub_key = str(inp["pubKey"])
    return _user_view(state)
