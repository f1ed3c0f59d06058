"""Account helpers on the control plane: GPU catalogue, user settings, registry credentials.

Like `_pods.py`: keyword arguments in, generated models out, each helper one
flow over the generated flow client, so `Account` and `AsyncAccount` share it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from runpod_typed._errors import InvalidRequestError, RunpodError
from runpod_typed._flow import AsyncDrive, Drive, Effect, Flow
from runpod_typed._generated.graphql import input_types as inputs

if TYPE_CHECKING:
    from runpod_typed._generated.graphql import GpuTypesGpuTypes, RegistryAuthFields, UserFields
    from runpod_typed._generated.graphql.flows import RunpodGraphQLFlows

V = TypeVar("V")


def _text(name: str, value: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequestError(f"{name} must be a non-empty string, got {value!r}")
    return value


def _present(value: V | None, what: str) -> V:
    if value is None:
        raise RunpodError(f"RunPod answered without {what}")
    return value


class AccountFlows:
    """Every account helper as a flow over the generated flow client."""

    def __init__(self, graphql: RunpodGraphQLFlows[Effect]) -> None:
        self.graphql = graphql

    def gpus(self, gpu_count: int | None) -> Flow[list[GpuTypesGpuTypes]]:
        price = None if gpu_count is None else inputs.GpuLowestPriceInput(gpu_count=gpu_count)
        answer = yield from self.graphql.gpu_types(lowest_price=price)
        return [gpu for gpu in answer.gpu_types or [] if gpu is not None]

    def gpu(self, gpu_id: str, gpu_count: int) -> Flow[GpuTypesGpuTypes]:
        answer = yield from self.graphql.gpu_types(
            input=inputs.GpuTypeFilter(id=_text("gpu id", gpu_id)),
            lowest_price=inputs.GpuLowestPriceInput(gpu_count=gpu_count),
        )
        found = [gpu for gpu in answer.gpu_types or [] if gpu is not None]
        if not found:
            raise InvalidRequestError(f"RunPod has no GPU type {gpu_id!r}; see rp.account.gpus()")
        return found[0]

    def user(self) -> Flow[UserFields]:
        answer = yield from self.graphql.myself()
        return _present(answer.myself, "the user")

    def update_user_settings(self, pub_key: str) -> Flow[UserFields]:
        settings = inputs.UpdateUserSettingsInput(pub_key=pub_key)
        answer = yield from self.graphql.update_user_settings(input=settings)
        return _present(answer.update_user_settings, "the user")

    def registry_auths(self) -> Flow[list[RegistryAuthFields]]:
        answer = yield from self.graphql.registry_auths()
        creds = answer.myself.container_registry_creds if answer.myself else None
        return [cred for cred in creds or [] if cred is not None]

    def create_registry_auth(
        self, name: str, username: str, password: str
    ) -> Flow[RegistryAuthFields]:
        new = inputs.SaveRegistryAuthInput(
            name=_text("name", name),
            username=_text("username", username),
            password=_text("password", password),
        )
        answer = yield from self.graphql.create_registry_auth(input=new)
        return _present(answer.save_registry_auth, "the credentials")

    def update_registry_auth(
        self, registry_auth_id: str, username: str, password: str
    ) -> Flow[RegistryAuthFields]:
        change = inputs.UpdateRegistryAuthInput(
            id=_text("registry auth id", registry_auth_id),
            username=_text("username", username),
            password=_text("password", password),
        )
        answer = yield from self.graphql.update_registry_auth(input=change)
        return _present(answer.update_registry_auth, "the credentials")

    def delete_registry_auth(self, registry_auth_id: str) -> Flow[None]:
        auth_id = _text("registry auth id", registry_auth_id)
        yield from self.graphql.delete_registry_auth(registry_auth_id=auth_id)


class Account:
    """`rp.account`: GPU types and prices, the user, container registry credentials."""

    def __init__(self, graphql: RunpodGraphQLFlows[Effect], drive: Drive) -> None:
        self._flows = AccountFlows(graphql)
        self._drive = drive

    def gpus(self, *, gpu_count: int | None = None) -> list[GpuTypesGpuTypes]:
        """Every GPU type; with `gpu_count`, its lowest prices for that many GPUs."""
        return self._drive(self._flows.gpus(gpu_count))

    def gpu(self, gpu_id: str, *, gpu_count: int = 1) -> GpuTypesGpuTypes:
        return self._drive(self._flows.gpu(gpu_id, gpu_count))

    def user(self) -> UserFields:
        return self._drive(self._flows.user())

    def update_user_settings(self, *, pub_key: str) -> UserFields:
        return self._drive(self._flows.update_user_settings(pub_key))

    def registry_auths(self) -> list[RegistryAuthFields]:
        return self._drive(self._flows.registry_auths())

    def create_registry_auth(
        self, *, name: str, username: str, password: str
    ) -> RegistryAuthFields:
        """Store credentials for a private image registry (the password is never returned)."""
        flow = self._flows.create_registry_auth(name, username, password)
        return self._drive(flow)

    def update_registry_auth(
        self, registry_auth_id: str, *, username: str, password: str
    ) -> RegistryAuthFields:
        flow = self._flows.update_registry_auth(registry_auth_id, username, password)
        return self._drive(flow)

    def delete_registry_auth(self, registry_auth_id: str) -> None:
        self._drive(self._flows.delete_registry_auth(registry_auth_id))


class AsyncAccount:
    """The awaitable twin of `Account`."""

    def __init__(self, graphql: RunpodGraphQLFlows[Effect], drive: AsyncDrive) -> None:
        self._flows = AccountFlows(graphql)
        self._drive = drive

    async def gpus(self, *, gpu_count: int | None = None) -> list[GpuTypesGpuTypes]:
        return await self._drive(self._flows.gpus(gpu_count))

    async def gpu(self, gpu_id: str, *, gpu_count: int = 1) -> GpuTypesGpuTypes:
        return await self._drive(self._flows.gpu(gpu_id, gpu_count))

    async def user(self) -> UserFields:
        return await self._drive(self._flows.user())

    async def update_user_settings(self, *, pub_key: str) -> UserFields:
        return await self._drive(self._flows.update_user_settings(pub_key))

    async def registry_auths(self) -> list[RegistryAuthFields]:
        return await self._drive(self._flows.registry_auths())

    async def create_registry_auth(
        self, *, name: str, username: str, password: str
    ) -> RegistryAuthFields:
        flow = self._flows.create_registry_auth(name, username, password)
        return await self._drive(flow)

    async def update_registry_auth(
        self, registry_auth_id: str, *, username: str, password: str
    ) -> RegistryAuthFields:
        flow = self._flows.update_registry_auth(registry_auth_id, username, password)
        return await self._drive(flow)

    async def delete_registry_auth(self, registry_auth_id: str) -> None:
        await self._drive(self._flows.delete_registry_auth(registry_auth_id))
