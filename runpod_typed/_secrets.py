"""`rp.secrets`: values stored once on RunPod and referred to by name; never read back.

Templates and workers refer to a secret as `{{ RUNPOD_SECRET_<name> }}` in an
environment variable's value. RunPod never returns a secret's value: the results carry
its id, name and description.
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
from runpod_typed._errors import SecretNotFound
from runpod_typed._flow import Flow
from runpod_typed._generated.graphql import input_types as inputs

if TYPE_CHECKING:
    from runpod_typed._generated.graphql import SecretFields

__all__ = ["AsyncSecrets", "SecretFlows", "Secrets"]


class SecretFlows(ResourceFlows):
    """The secret helpers, each a flow over the generated flow client."""

    not_found = SecretNotFound

    def list(self) -> Flow[list[SecretFields]]:
        """The account's secrets (names and descriptions; values are never returned)."""
        answer = yield from self.graphql.secrets()
        return present(answer.myself.secrets if answer.myself else None)

    def get(self, secret_id: str) -> Flow[SecretFields]:
        """One secret by id; `SecretNotFound` if the account has none with it."""
        return (yield from self.listed(self.list(), secret_id))

    def create(
        self, *, name: str, value: str, description: str | None = None
    ) -> Flow[SecretFields]:
        """Store a secret; `value` is sent once and never returned."""
        new = inputs.SecretCreateInput(
            name=text("name", name), value=text("value", value), description=description
        )
        answer = yield from self.graphql.create_secret(input=new)
        return answered(answer.secret_create, "the secret")

    def delete(self, secret_id: str) -> Flow[None]:
        """Delete a secret by id; `SecretNotFound` if the account has none with it."""
        wanted = self.id(secret_id)
        yield from self.about(wanted, self.graphql.delete_secret(id=wanted))


class Secrets(SyncNamespace[SecretFlows]):
    """`rp.secrets`: list, get, create, delete."""

    list = helper(SecretFlows.list)
    get = helper(SecretFlows.get)
    create = helper(SecretFlows.create)
    delete = helper(SecretFlows.delete)


class AsyncSecrets(AsyncNamespace[SecretFlows]):
    """`rp.secrets` of `AsyncRunpod`: the same helpers, awaitable."""

    list = async_helper(SecretFlows.list)
    get = async_helper(SecretFlows.get)
    create = async_helper(SecretFlows.create)
    delete = async_helper(SecretFlows.delete)
