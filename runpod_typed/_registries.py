"""`rp.registries`: stored credentials for private container registries.

A template or pod names them by id (`container_registry_auth_id=`) to pull a private
image. RunPod never returns the password.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from runpod_typed._control import (
    AsyncNamespace,
    ResourceFlows,
    SyncNamespace,
    answered,
    async_helper,
    helper,
    present,
    text,
)
from runpod_typed._errors import RegistryAuthNotFound
from runpod_typed._flow import Flow
from runpod_typed._generated.graphql import input_types as inputs

if TYPE_CHECKING:
    from runpod_typed._generated.graphql import RegistryAuthFields

__all__ = ["AsyncRegistries", "Registries", "RegistryFlows"]


class RegistryFlows(ResourceFlows):
    """The registry-credential helpers, each a flow over the generated flow client."""

    not_found = RegistryAuthNotFound

    def list(self) -> Flow[list[RegistryAuthFields]]:
        """The account's registry credentials (names and ids; never passwords)."""
        answer = yield from self.graphql.registry_auths()
        return present(answer.myself.container_registry_creds if answer.myself else None)

    def get(self, registry_auth_id: str) -> Flow[RegistryAuthFields]:
        """One set of credentials by id; `RegistryAuthNotFound` if none."""
        return (yield from self.listed(self.list(), registry_auth_id))

    def create(self, *, name: str, username: str, password: str) -> Flow[RegistryAuthFields]:
        """Store credentials for a private registry (the password is never returned)."""
        new = inputs.SaveRegistryAuthInput(
            name=text("name", name),
            username=text("username", username),
            password=text("password", password),
        )
        answer = yield from self.graphql.create_registry_auth(input=new)
        return answered(answer.save_registry_auth, "the credentials")

    def update(
        self, registry_auth_id: str, *, username: str, password: str
    ) -> Flow[RegistryAuthFields]:
        """Replace the user name and password (to rotate a token, say)."""
        wanted = self.id(registry_auth_id)
        change = inputs.UpdateRegistryAuthInput(
            id=wanted, username=text("username", username), password=text("password", password)
        )
        answer = yield from self.about(wanted, self.graphql.update_registry_auth(input=change))
        return self.found(answer.update_registry_auth, wanted)

    def delete(self, registry_auth_id: str) -> Flow[None]:
        """Delete credentials; RunPod refuses while a template uses them."""
        wanted = self.id(registry_auth_id)
        yield from self.about(wanted, self.graphql.delete_registry_auth(registry_auth_id=wanted))


class Registries(SyncNamespace[RegistryFlows]):
    """`rp.registries`: list, get, create, update, delete."""

    list = helper(RegistryFlows.list)
    get = helper(RegistryFlows.get)
    create = helper(RegistryFlows.create)
    update = helper(RegistryFlows.update)
    delete = helper(RegistryFlows.delete)


class AsyncRegistries(AsyncNamespace[RegistryFlows]):
    """`rp.registries` of `AsyncRunpod`: the same helpers, awaitable."""

    list = async_helper(RegistryFlows.list)
    get = async_helper(RegistryFlows.get)
    create = async_helper(RegistryFlows.create)
    update = async_helper(RegistryFlows.update)
    delete = async_helper(RegistryFlows.delete)
