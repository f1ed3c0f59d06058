"""Deploy a serverless endpoint from a template, run a job on it, then delete both.

`rp.templates` and `rp.endpoints` manage the endpoint (the control plane);
`rp.endpoint(endpoint_id)` runs jobs on it (the serverless job API), as for any
endpoint. The endpoint is scaled to zero and deleted at the end whatever happens
(RunPod deletes only idle endpoints), and its template after it.

This creates a real endpoint on RunPod; it costs money while a worker runs.

    python examples/deploy_endpoint.py [IMAGE]
"""

from __future__ import annotations

import sys

from runpod_typed import Runpod

IMAGE = "runpod/worker-v1-vllm:stable"


def main() -> None:
    image = sys.argv[1] if len(sys.argv) > 1 else IMAGE
    with Runpod() as rp:
        template = rp.templates.create(
            name="deploy-endpoint-example",
            image_name=image,
            is_serverless=True,
            container_disk_in_gb=20,
            env={"MAX_MODEL_LEN": "4096"},
        )
        assert template.id is not None
        print(f"template {template.name}: {template.id}")
        endpoint_id = None
        try:
            endpoint = rp.endpoints.create(
                name="deploy-endpoint-example",
                template_id=template.id,
                gpu_ids="ADA_24,AMPERE_24",
                workers_min=0,
                workers_max=1,
                idle_timeout=5,
            )
            endpoint_id = endpoint.id
            assert endpoint_id is not None
            print(f"endpoint {endpoint.name}: {endpoint_id}")

            job = rp.endpoint(endpoint_id).run_sync(
                {"output": "hello from the endpoint"}, timeout=600
            )
            print(f"job output: {job}")
        finally:
            if endpoint_id is not None:
                rp.endpoints.update(endpoint_id, workers_min=0, workers_max=0)
                rp.endpoints.delete(endpoint_id)
                print(f"endpoint {endpoint_id}: deleted")
            rp.templates.delete(template.id)
            print(f"template {template.id}: deleted")


if __name__ == "__main__":
    main()
