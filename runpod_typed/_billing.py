"""`rp.billing`: what the account spent, per time bucket (REST v2 only: GraphQL has none).

Each helper is one `GET /v2/billing/...` with the same window: `start_time` and
`end_time` (timezone-aware datetimes), `bucket_size` (hour, day, week, month, year)
or `last_n` buckets; and answers with v2's envelope (`metadata` with the query
RunPod applied, `records` one per bucket and resource, amounts in USD).
"""

from __future__ import annotations

import datetime
from typing import Any

from runpod_typed._control import AsyncNamespace, ResourceFlows, SyncNamespace, async_helper, helper
from runpod_typed._flow import Flow
from runpod_typed._generated.rest.models import (
    BillingBucketSize,
    ListBillingResponse,
    ListClusterBillingResponse,
    ListEndpointBillingResponse,
    ListNetworkVolumeBillingResponse,
    ListPodBillingResponse,
    ListServerlessBillingResponse,
)
from runpod_typed._generated.rest.types import UNSET

__all__ = ["AsyncBilling", "Billing", "BillingFlows"]


def _window(
    start_time: datetime.datetime | None,
    end_time: datetime.datetime | None,
    bucket_size: BillingBucketSize | None,
    last_n: int | None,
    **ids: str | None,
) -> dict[str, Any]:
    """The query every billing operation takes (None: left to RunPod's default)."""
    given = dict(
        start_time=start_time, end_time=end_time, bucket_size=bucket_size, last_n=last_n, **ids
    )
    return {name: UNSET if value is None else value for name, value in given.items()}


class BillingFlows(ResourceFlows):
    """The billing helpers as flows over the generated REST v2 flows."""

    def account(
        self,
        *,
        start_time: datetime.datetime | None = None,
        end_time: datetime.datetime | None = None,
        bucket_size: BillingBucketSize | None = None,
        last_n: int | None = None,
    ) -> Flow[ListBillingResponse]:
        """The account's spending per bucket, split by product."""
        window = _window(start_time, end_time, bucket_size, last_n)
        return (yield from self.rest.list_billing(**window))

    def pods(
        self,
        *,
        pod_id: str | None = None,
        start_time: datetime.datetime | None = None,
        end_time: datetime.datetime | None = None,
        bucket_size: BillingBucketSize | None = None,
        last_n: int | None = None,
    ) -> Flow[ListPodBillingResponse]:
        """Pods' spending per bucket (one pod's with `pod_id`)."""
        window = _window(start_time, end_time, bucket_size, last_n, pod_id=pod_id)
        return (yield from self.rest.list_pod_billing(**window))

    def network_volumes(
        self,
        *,
        network_volume_id: str | None = None,
        start_time: datetime.datetime | None = None,
        end_time: datetime.datetime | None = None,
        bucket_size: BillingBucketSize | None = None,
        last_n: int | None = None,
    ) -> Flow[ListNetworkVolumeBillingResponse]:
        """Network volumes' storage spending per bucket (one volume's with its id)."""
        window = _window(
            start_time, end_time, bucket_size, last_n, network_volume_id=network_volume_id
        )
        return (yield from self.rest.list_network_volume_billing(**window))

    def serverless(
        self,
        *,
        endpoint_id: str | None = None,
        start_time: datetime.datetime | None = None,
        end_time: datetime.datetime | None = None,
        bucket_size: BillingBucketSize | None = None,
        last_n: int | None = None,
    ) -> Flow[ListServerlessBillingResponse]:
        """Serverless spending per bucket (one endpoint's with `endpoint_id`)."""
        window = _window(start_time, end_time, bucket_size, last_n, serverless_id=endpoint_id)
        return (yield from self.rest.list_serverless_billing(**window))

    def endpoints(
        self,
        *,
        start_time: datetime.datetime | None = None,
        end_time: datetime.datetime | None = None,
        bucket_size: BillingBucketSize | None = None,
        last_n: int | None = None,
    ) -> Flow[ListEndpointBillingResponse]:
        """Spending per serverless endpoint and bucket."""
        window = _window(start_time, end_time, bucket_size, last_n)
        return (yield from self.rest.list_endpoint_billing(**window))

    def clusters(
        self,
        *,
        cluster_id: str | None = None,
        start_time: datetime.datetime | None = None,
        end_time: datetime.datetime | None = None,
        bucket_size: BillingBucketSize | None = None,
        last_n: int | None = None,
    ) -> Flow[ListClusterBillingResponse]:
        """Instant clusters' spending per bucket (one cluster's with `cluster_id`)."""
        window = _window(start_time, end_time, bucket_size, last_n, cluster_id=cluster_id)
        return (yield from self.rest.list_cluster_billing(**window))


class Billing(SyncNamespace[BillingFlows]):
    """`rp.billing`: account, pods, network volumes, serverless, endpoints, clusters."""

    account = helper(BillingFlows.account)
    pods = helper(BillingFlows.pods)
    network_volumes = helper(BillingFlows.network_volumes)
    serverless = helper(BillingFlows.serverless)
    endpoints = helper(BillingFlows.endpoints)
    clusters = helper(BillingFlows.clusters)


class AsyncBilling(AsyncNamespace[BillingFlows]):
    """`rp.billing` of `AsyncRunpod`: the same helpers, awaitable."""

    account = async_helper(BillingFlows.account)
    pods = async_helper(BillingFlows.pods)
    network_volumes = async_helper(BillingFlows.network_volumes)
    serverless = async_helper(BillingFlows.serverless)
    endpoints = async_helper(BillingFlows.endpoints)
    clusters = async_helper(BillingFlows.clusters)
