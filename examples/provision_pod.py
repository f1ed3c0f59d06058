"""Provision a pod from the catalog's availability, follow its logs, terminate it.

`rp.catalog.gpus()` reads RunPod's catalogue with availability (REST v2) and keeps
the GPU types in stock, cheapest first; `rp.pods.create` deploys a pod on the first
that takes it, `rp.pods.wait_until_running` waits for it (and fails at once with
`PodFailed` if it goes to ERROR), `rp.pods.logs` follows its log as typed events --
leaving the loop closes the stream -- and the pod is terminated whatever happens.

This creates a real pod on RunPod, which costs money while it exists.

    python examples/provision_pod.py [IMAGE] [LINES]
"""

from __future__ import annotations

import itertools
import sys

from runpod_typed import APIStatusError, PodFailed, Runpod
from runpod_typed.rest import GpuCloudFilter, Pod

IMAGE = "runpod/pytorch:2.4.0-py3.11-cuda12.4.1-devel-ubuntu22.04"


def deploy(rp: Runpod, image: str) -> Pod:
    """A pod on the cheapest Secure Cloud GPU type in stock that has a machine free."""
    offers = rp.catalog.gpus(cloud=GpuCloudFilter.SECURE, min_memory_gb=16)
    for gpu in offers:
        print(f"trying {gpu.id} ({gpu.memory} GB, ${gpu.price.secure:.2f}/h, {gpu.availability})")
        try:
            return rp.pods.create(
                name="provision-example",
                image_name=image,
                gpu_type_id=gpu.id,
                container_disk_in_gb=20,
                ports="8888/http,22/tcp",
            )
        except APIStatusError as refused:  # taken since the catalogue was read
            print(f"  not now: HTTP {refused.status_code}")
    raise SystemExit("no Secure Cloud GPU type with 16 GB or more is in stock right now")


def main() -> None:
    image = sys.argv[1] if len(sys.argv) > 1 else IMAGE
    lines = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    with Runpod() as rp:
        pod = deploy(rp, image)
        print(f"pod {pod.id}: {pod.status.value}")
        try:
            try:
                pod = rp.pods.wait_until_running(pod.id, timeout=900)
            except PodFailed as failed:
                print(f"pod {pod.id}: {failed.status}, actions {failed.actions}")
            else:
                print(f"pod {pod.id}: {pod.status.value} at ${pod.cost:.2f}/h")
            for event in itertools.islice(rp.pods.logs(pod.id), lines):
                print(f"log [{event.source.value}] {event.line}")
        finally:
            rp.pods.terminate(pod.id)
            print(f"pod {pod.id}: terminated")


if __name__ == "__main__":
    main()
