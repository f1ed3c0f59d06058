"""The official `runpod` package's GraphQL functions, unchanged, against the emulator.

The package runs in its own virtualenv (.official-venv), in a subprocess pointed at the
emulator through its own RUNPOD_API_BASE_URL variable. The script calls each function
the way a user would and prints every result (or the error it raised) as JSON; it runs
once per module (it takes a few seconds) and each test checks one area of the results.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runpod_typed.emulator import Emulator
from runpod_typed.emulator.control_plane import NO_INSTANCES

pytestmark = pytest.mark.compat

OFFICIAL_PYTHON = Path(__file__).resolve().parents[2] / ".official-venv" / "bin" / "python"
API_KEY = "compat-test-key-0123456789"
REGISTRY_PASSWORDS = ("hunter2-registry-secret", "hunter3-registry-secret")

SCRIPT = r"""
import json, os, sys, time

import runpod
from runpod.api.graphql import run_graphql_query

runpod.api_key = os.environ["RUNPOD_API_KEY"]
GPU = "NVIDIA GeForce RTX 4090"
results = {}


def record(name, function, *args, **kwargs):
    try:
        results[name] = {"ok": function(*args, **kwargs)}
    except Exception as exc:
        results[name] = {"error": type(exc).__name__, "message": str(exc)}
    return results[name].get("ok")


def create_volume():
    mutation = (
        'mutation { createNetworkVolume(input: {name: "compat", size: 10, '
        'dataCenterId: "EU-SE-1"}) { id dataCenterId } }'
    )
    return run_graphql_query(mutation)["data"]["createNetworkVolume"]


def wait_running(pod_id):
    for _ in range(500):
        pod = runpod.get_pod(pod_id)
        if pod["desiredStatus"] == "RUNNING" and pod["runtime"]:
            return pod
        time.sleep(0.02)
    raise RuntimeError("pod never reached RUNNING")


record("get_user", runpod.get_user)
record("update_user_settings", runpod.update_user_settings, "ssh-ed25519 AAAAC3Nza compat@test")
record("get_gpus", runpod.get_gpus)
record("get_gpu", runpod.get_gpu, GPU, 2)
record("get_gpu_unknown", runpod.get_gpu, "NVIDIA GeForce GTX 1")
volume = record("create_network_volume", create_volume)
pod = record(
    "create_pod",
    runpod.create_pod,
    "compat-pod",
    "runpod/base:0.6.2",
    GPU,
    ports="8888/http, 22/tcp",
    env={"GREETING": "hello"},
    network_volume_id=volume["id"],
)
record("get_pod_running", wait_running, pod["id"])
record("get_pods", runpod.get_pods)
record("stop_pod", runpod.stop_pod, pod["id"])
record("resume_pod", runpod.resume_pod, pod["id"], 1)
record("terminate_pod", runpod.terminate_pod, pod["id"])
record("get_pod_unknown", runpod.get_pod, "doesnotexist00")
record("create_pod_unavailable", runpod.create_pod, "x", "runpod/base:0.6.2", "NVIDIA H100 NVL")
record("create_cpu_pod", runpod.create_pod, "compat-cpu", "runpod/base:0.6.2")
templates = [
    record(
        f"create_template_{n}",
        runpod.create_template,
        f"compat-worker-{n}",
        "example/worker:1",
        docker_start_cmd='python -u "handler.py"',
        env={"MODE": "compat"},
        is_serverless=True,
    )
    for n in (1, 2)
]
endpoint = record(
    "create_endpoint",
    runpod.create_endpoint,
    "compat-endpoint",
    templates[0]["id"],
    gpu_ids="ADA_24",
    workers_max=2,
    flashboot=True,
)
record("get_endpoints", runpod.get_endpoints)
record("update_endpoint_template", runpod.update_endpoint_template, endpoint["id"], templates[1]["id"])
passwords = sys.argv[1:]
auth = record("create_registry_auth", runpod.create_container_registry_auth, "compat-registry", "me", passwords[0])
record("update_registry_auth", runpod.update_container_registry_auth, auth["id"], "me", passwords[1])
record("delete_registry_auth", runpod.delete_container_registry_auth, auth["id"])
record("get_user_after", runpod.get_user)
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def official(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Run the script once for the module against an emulator that requires API_KEY."""
    if not OFFICIAL_PYTHON.exists():
        pytest.fail(f"{OFFICIAL_PYTHON} is missing: run make setup")
    emulator = Emulator(api_key=API_KEY, rate_limits=False, pod_transition_seconds=0.05)
    with emulator.serve() as server:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(tmp_path_factory.mktemp("home")),  # no developer ~/.runpod/config.toml
            "NO_PROXY": "127.0.0.1",
            "RUNPOD_API_BASE_URL": server.url,
            "RUNPOD_API_KEY": API_KEY,
        }
        done = subprocess.run(
            [str(OFFICIAL_PYTHON), "-c", SCRIPT, *REGISTRY_PASSWORDS],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    for password in REGISTRY_PASSWORDS:
        assert password not in done.stdout
    yield json.loads(done.stdout)


def _ok(results: dict[str, Any], name: str) -> Any:
    assert "ok" in results[name], (name, results[name])
    return results[name]["ok"]


def test_user_and_catalogue(official: dict[str, Any]) -> None:
    user = _ok(official, "get_user")
    assert user["id"] and user["pubKey"] == ""
    assert _ok(official, "update_user_settings")["pubKey"] == "ssh-ed25519 AAAAC3Nza compat@test"
    assert _ok(official, "get_user_after")["pubKey"] == "ssh-ed25519 AAAAC3Nza compat@test"
    assert _ok(official, "get_user_after")["networkVolumes"] == [
        {**_ok(official, "create_network_volume"), "name": "compat", "size": 10}
    ]

    gpus = {gpu["id"]: gpu for gpu in _ok(official, "get_gpus")}
    assert gpus["NVIDIA GeForce RTX 4090"]["memoryInGb"] == 24
    gpu = _ok(official, "get_gpu")
    assert gpu["id"] == "NVIDIA GeForce RTX 4090" and gpu["maxGpuCount"] >= 2
    price = gpu["lowestPrice"]
    assert 0 < price["minimumBidPrice"] < price["uninterruptablePrice"]
    assert official["get_gpu_unknown"]["error"] == "ValueError"


def test_pod_lifecycle(official: dict[str, Any]) -> None:
    created = _ok(official, "create_pod")
    assert created["imageName"] == "runpod/base:0.6.2"
    assert created["env"] == ["GREETING=hello"]
    assert created["machine"]["podHostId"].startswith(created["id"])

    running = _ok(official, "get_pod_running")
    assert running["id"] == created["id"] and running["desiredStatus"] == "RUNNING"
    assert running["volumeMountPath"] == "/runpod-volume"
    ports = {(p["privatePort"], p["type"], p["isIpPublic"]) for p in running["runtime"]["ports"]}
    assert ports == {(8888, "http", False), (22, "tcp", True)}
    assert running["machine"]["gpuDisplayName"] == "RTX 4090"
    assert created["id"] in {pod["id"] for pod in _ok(official, "get_pods")}

    assert _ok(official, "stop_pod") == {"id": created["id"], "desiredStatus": "EXITED"}
    assert _ok(official, "resume_pod")["desiredStatus"] == "RUNNING"
    assert _ok(official, "terminate_pod") is None
    assert _ok(official, "create_cpu_pod")["imageName"] == "runpod/base:0.6.2"


def test_pod_errors_reach_the_official_client(official: dict[str, Any]) -> None:
    assert official["create_pod_unavailable"] == {"error": "QueryError", "message": NO_INSTANCES}
    unknown = official["get_pod_unknown"]
    assert unknown["error"] == "QueryError" and "doesnotexist00" in unknown["message"]


def test_templates_and_endpoints(official: dict[str, Any]) -> None:
    first, second = _ok(official, "create_template_1"), _ok(official, "create_template_2")
    assert first["dockerArgs"] == 'python -u "handler.py"'
    assert first["isServerless"] is True
    assert first["env"] == [{"key": "MODE", "value": "compat"}]
    assert first["id"] != second["id"]

    endpoint = _ok(official, "create_endpoint")
    assert endpoint["templateId"] == first["id"]
    assert endpoint["gpuIds"] == "ADA_24"
    assert (endpoint["workersMin"], endpoint["workersMax"]) == (0, 2)
    assert endpoint["flashBootType"] == "FLASHBOOT"
    assert endpoint["scalerType"] == "QUEUE_DELAY"
    assert endpoint["networkVolumeId"] is None

    (listed,) = _ok(official, "get_endpoints")
    assert listed["id"] == endpoint["id"]
    assert listed["env"] == [{"key": "MODE", "value": "compat"}]
    assert _ok(official, "update_endpoint_template") == {
        "id": endpoint["id"],
        "templateId": second["id"],
    }


def test_container_registry_auth(official: dict[str, Any]) -> None:
    created = _ok(official, "create_registry_auth")
    assert created["name"] == "compat-registry"
    assert _ok(official, "update_registry_auth") == created
    assert _ok(official, "delete_registry_auth") is None
