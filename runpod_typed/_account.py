"""`rp.account`: the account that owns the API key, and its settings.

GPU types and prices are on `rp.catalog`, registry credentials on `rp.registries`.
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
)
from runpod_typed._flow import Flow
from runpod_typed._generated.graphql import input_types as inputs

if TYPE_CHECKING:
    from runpod_typed._generated.graphql import UserFields

__all__ = ["Account", "AccountFlows", "AsyncAccount"]


class AccountFlows(ResourceFlows):
    """The account helpers, each a flow over the generated flow client."""

    def user(self) -> Flow[UserFields]:
        """The account: email, balance, spend, limits, SSH keys, notification settings."""
        answer = yield from self.graphql.myself()
        return answered(answer.myself, "the user")

    def update_user_settings(self, *, pub_key: str) -> Flow[UserFields]:
        """Replace the SSH public keys installed into new pods (one per line)."""
        settings = inputs.UpdateUserSettingsInput(pub_key=pub_key)
        answer = yield from self.graphql.update_user_settings(input=settings)
        return answered(answer.update_user_settings, "the user")


class Account(SyncNamespace[AccountFlows]):
    """`rp.account`: the user and its settings."""

    user = helper(AccountFlows.user)
    update_user_settings = helper(AccountFlows.update_user_settings)


class AsyncAccount(AsyncNamespace[AccountFlows]):
    """`rp.account` of `AsyncRunpod`: the same helpers, awaitable."""

    user = async_helper(AccountFlows.user)
    update_user_settings = async_helper(AccountFlows.update_user_settings)
