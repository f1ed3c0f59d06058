"""Control plane: a private image's registry credentials, and a pod's whole life.

`rp.graphql` is the generated, typed GraphQL client (one method per operation
in codegen/operations); `rp.pods` and `rp.registries` add keyword-argument helpers
and the waits the generated code cannot (`wait_until_running`,
`wait_until_stopped`).
Whatever happens, the pod is terminated and the credentials deleted at the end.

This creates a real pod on RunPod, which costs money while it exists.

    REGISTRY_USERNAME=... REGISTRY_PASSWORD=... [REGISTRY_NEW_PASSWORD=...] \
        python examples/pods_and_registry.py
"""

from __future__ import annotations

import os

from runpod_typed import Runpod
from runpod_typed.graphql import CloudTypeEnum, PodFindAndDeployOnDemandInput

IMAGE = "registry.example.com/team/trainer:1.0"


def cheapest_secure_gpu(rp: Runpod) -> str:
    """The id of the cheapest GPU type on Secure Cloud that is in stock."""
    offers = [
        (gpu.secure_price, gpu.id)
        for gpu in rp.graphql.gpu_types().gpu_types or []
        if gpu and gpu.id and gpu.secure_price is not None
        if gpu.lowest_price and gpu.lowest_price.stock_status
    ]
    if not offers:
        raise SystemExit("no Secure Cloud GPU type is in stock right now")
    price, gpu_id = min(offers)
    print(f"cheapest Secure Cloud GPU in stock: {gpu_id} at ${price:.2f}/h")
    return gpu_id


def main() -> None:
    with Runpod() as rp:
        gpu_id = cheapest_secure_gpu(rp)
        username = os.environ["REGISTRY_USERNAME"]
        auth = rp.registries.create(
            name="team-registry", username=username, password=os.environ["REGISTRY_PASSWORD"]
        )
        if auth.id is None:
            raise SystemExit("RunPod did not store the registry credentials")
        print(f"registry auth {auth.name}: {auth.id}")
        pod_id = None
        try:
            # The helpers cover the common fields; the generated input takes every field.
            deploy = PodFindAndDeployOnDemandInput(
                name="trainer",
                image_name=IMAGE,
                gpu_type_id=gpu_id,
                gpu_count=1,
                cloud_type=CloudTypeEnum.SECURE,
                container_disk_in_gb=20,
                container_registry_auth_id=auth.id,
            )
            created = rp.graphql.create_pod(input=deploy).pod_find_and_deploy_on_demand
            if created is None:
                raise SystemExit("RunPod accepted the deployment but returned no pod")
            pod_id = created.id
            print(f"pod {pod_id}: {created.desired_status.value}")  # GraphQL's model

            # rp.pods answers with REST v2's Pod: a lifecycle status and its actions.
            pod = rp.pods.wait_until_running(pod_id, timeout=900)
            print(f"pod {pod_id}: {pod.status.value} at ${pod.cost:.2f}/h")
            rp.pods.stop(pod_id)
            pod = rp.pods.wait_until_stopped(pod_id, timeout=300)
            print(f"pod {pod_id}: {pod.status.value}")
            rp.pods.resume(pod_id, gpu_count=1)
            pod = rp.pods.wait_until_running(pod_id, timeout=900)
            print(f"pod {pod_id}: {pod.status.value} again")

            new_password = os.environ.get("REGISTRY_NEW_PASSWORD")
            if new_password:  # rotate the stored password in place
                rp.registries.update(auth.id, username=username, password=new_password)
                print(f"registry auth {auth.id}: password rotated")
        finally:
            if pod_id is not None:
                rp.pods.terminate(pod_id)
                print(f"pod {pod_id}: terminated")
            rp.registries.delete(auth.id)
            print(f"registry auth {auth.id}: deleted")


if __name__ == "__main__":
    main()
