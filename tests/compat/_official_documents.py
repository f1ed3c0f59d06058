"""Print, as JSON, every GraphQL document the official `runpod` package sends to the control plane.

Run with the interpreter of .official-venv (never imported by our own venv): it calls the
package's query and mutation builders with realistic arguments, covering each branch that
changes the document's shape, and collects the static query strings. The output is a JSON
list of {"name": ..., "document": ...}; tests/compat/test_official_documents.py validates
each document against schema/runpod.graphql.
"""

from __future__ import annotations

import importlib
import inspect
import json
import sys
from types import ModuleType
from typing import Any


def _module(name: str) -> ModuleType:
    """Import a module of the official package by name (it is absent from our own venv)."""
    return importlib.import_module(f"runpod.api.{name}")


registry_mutations = _module("mutations.container_register_auth")
endpoint_mutations = _module("mutations.endpoints")
pod_mutations = _module("mutations.pods")
template_mutations = _module("mutations.templates")
user_mutations = _module("mutations.user")
endpoint_queries = _module("queries.endpoints")
gpu_queries = _module("queries.gpus")
pod_queries = _module("queries.pods")
user_queries = _module("queries.user")

GPU = "NVIDIA GeForce RTX 4090"
POD_ID = "ldl1dxirsim64n"
PUBKEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample user@host\nssh-rsa AAAAB3Nza user@other"


def documents() -> list[dict[str, Any]]:
    """Build every document, each under a name that says which builder and branch made it."""
    docs: dict[str, str] = {
        "queries.user.QUERY_USER": user_queries.QUERY_USER,
        "queries.gpus.QUERY_GPU_TYPES": gpu_queries.QUERY_GPU_TYPES,
        "queries.pods.QUERY_POD": pod_queries.QUERY_POD,
        "queries.endpoints.QUERY_ENDPOINT": endpoint_queries.QUERY_ENDPOINT,
        "queries.gpus.generate_gpu_query": gpu_queries.generate_gpu_query(GPU, 2),
        "queries.pods.generate_pod_query": pod_queries.generate_pod_query(POD_ID),
        "mutations.user.generate_user_mutation": user_mutations.generate_user_mutation(PUBKEY),
        # GPU pod with every optional field: podFindAndDeployOnDemand.
        "mutations.pods.generate_pod_deployment_mutation[gpu,all]": (
            pod_mutations.generate_pod_deployment_mutation(
                name="trainer",
                image_name="runpod/pytorch:2.4.0-py3.11-cuda12.4.1-devel-ubuntu22.04",
                gpu_type_id=GPU,
                cloud_type="SECURE",
                support_public_ip=False,
                start_ssh=True,
                data_center_id="EU-RO-1",
                country_code="RO",
                gpu_count=2,
                volume_in_gb=40,
                container_disk_in_gb=20,
                min_vcpu_count=4,
                min_memory_in_gb=16,
                docker_args="bash -c 'sleep infinity'",
                ports="8888/http, 22/tcp",
                volume_mount_path="/workspace",
                env={"JUPYTER_PASSWORD": "secret", "HF_HOME": "/workspace/hf"},
                template_id="runpod-torch-v240",
                network_volume_id="agv6w2qcg7",
                allowed_cuda_versions=["12.4", "12.5"],
                min_download=100,
                min_upload=50,
            )
        ),
        # GPU pod with defaults only: dataCenterId is sent as a null literal.
        "mutations.pods.generate_pod_deployment_mutation[gpu,minimal]": (
            pod_mutations.generate_pod_deployment_mutation("minimal", "runpod/stack", GPU)
        ),
        # CPU pod on a given instance type: deployCpuPod.
        "mutations.pods.generate_pod_deployment_mutation[cpu,instance]": (
            pod_mutations.generate_pod_deployment_mutation(
                name="cpu-box",
                image_name="runpod/base:0.6.2-cpu",
                cloud_type="ALL",
                start_ssh=False,
                data_center_id="US-KS-2",
                container_disk_in_gb=10,
                ports="22/tcp",
                env={"MODE": "batch"},
                network_volume_id="agv6w2qcg7",
                instance_id="cpu3c-2-4",
            )
        ),
        # CPU pod with defaults only: templateId falls back to runpod-ubuntu.
        "mutations.pods.generate_pod_deployment_mutation[cpu,minimal]": (
            pod_mutations.generate_pod_deployment_mutation("cpu-minimal", "runpod/base:0.6.2-cpu")
        ),
        "mutations.pods.generate_pod_stop_mutation": pod_mutations.generate_pod_stop_mutation(
            POD_ID
        ),
        "mutations.pods.generate_pod_resume_mutation": pod_mutations.generate_pod_resume_mutation(
            POD_ID, 1
        ),
        "mutations.pods.generate_pod_terminate_mutation": (
            pod_mutations.generate_pod_terminate_mutation(POD_ID)
        ),
        "mutations.templates.generate_pod_template[all]": template_mutations.generate_pod_template(
            name="worker-template",
            image_name="ghcr.io/acme/worker:1.2",
            docker_start_cmd='python -u handler.py --mode "fast"',
            container_disk_in_gb=15,
            volume_in_gb=20,
            volume_mount_path="/runpod-volume",
            ports="8000/http, 22/tcp",
            env={"MODEL": "llama", "LOG_LEVEL": "info"},
            is_serverless=True,
            registry_auth_id="cm5p1bxaq0001mk07mws2k8c4",
        ),
        "mutations.templates.generate_pod_template[minimal]": (
            template_mutations.generate_pod_template("plain", "ubuntu:22.04")
        ),
        "mutations.endpoints.generate_endpoint_mutation[all]": (
            endpoint_mutations.generate_endpoint_mutation(
                name="image-gen",
                template_id="xkhgg72fuo",
                gpu_ids="AMPERE_24,ADA_24",
                network_volume_id="agv6w2qcg7",
                locations="US,RO",
                idle_timeout=10,
                scaler_type="REQUEST_COUNT",
                scaler_value=2,
                workers_min=1,
                workers_max=5,
                flashboot=True,
                allowed_cuda_versions="12.4,12.5",
                gpu_count=2,
            )
        ),
        "mutations.endpoints.generate_endpoint_mutation[minimal]": (
            endpoint_mutations.generate_endpoint_mutation("echo", "xkhgg72fuo")
        ),
        "mutations.endpoints.update_endpoint_template_mutation": (
            endpoint_mutations.update_endpoint_template_mutation("i02xupws21hp6i", "xkhgg72fuo")
        ),
        "mutations.container_register_auth.generate_container_registry_auth": (
            registry_mutations.generate_container_registry_auth("ghcr", "acme-bot", "ghp_token")
        ),
        "mutations.container_register_auth.update_container_registry_auth": (
            registry_mutations.update_container_registry_auth(
                "cm5p1bxaq0001mk07mws2k8c4", "acme-bot", "ghp_new_token"
            )
        ),
        "mutations.container_register_auth.delete_container_registry_auth": (
            registry_mutations.delete_container_registry_auth("cm5p1bxaq0001mk07mws2k8c4")
        ),
    }
    missing = sorted(_builders() - {name.split("[")[0] for name in docs})
    if missing:
        raise SystemExit(f"builders not exercised (new in this runpod version?): {missing}")
    return [{"name": name, "document": document} for name, document in docs.items()]


MODULES: tuple[ModuleType, ...] = (
    registry_mutations,
    endpoint_mutations,
    pod_mutations,
    template_mutations,
    user_mutations,
    endpoint_queries,
    gpu_queries,
    pod_queries,
    user_queries,
)


def _builders() -> set[str]:
    """Name every public builder function and query constant, so none can be left out."""
    names = set()
    for module in MODULES:
        prefix = module.__name__.removeprefix("runpod.api.")
        for attr, value in vars(module).items():
            own_function = inspect.isfunction(value) and value.__module__ == module.__name__
            query_constant = attr.isupper() and isinstance(value, str)
            if not attr.startswith("_") and (own_function or query_constant):
                names.add(f"{prefix}.{attr}")
    return names


if __name__ == "__main__":
    json.dump(documents(), sys.stdout, indent=2)
    sys.stdout.write("\n")
