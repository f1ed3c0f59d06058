"""Checked by mypy --strict WITHOUT the pydantic plugin: generated inputs take Python names.

The wire form stays camelCase (model_dump(by_alias=True)); tests/unit/test_typing.py
runs this with tests/typing/mypy-no-plugins.ini.
"""

from __future__ import annotations

from typing_extensions import assert_type

from runpod_typed import Runpod
from runpod_typed.graphql import (
    CloudTypeEnum,
    EnvironmentVariableInput,
    GpuLowestPriceInput,
    PodFields,
    PodFilter,
    PodFindAndDeployOnDemandInput,
    SaveTemplateInput,
)


def build_inputs() -> PodFindAndDeployOnDemandInput:
    assert_type(PodFilter(pod_id="p1").pod_id, str)
    GpuLowestPriceInput(gpu_count=2)
    SaveTemplateInput(
        name="t",
        image_name="img",
        container_disk_in_gb=10,
        volume_in_gb=0,
        docker_args="",
        env=[],
    )
    return PodFindAndDeployOnDemandInput(
        name="trainer",
        image_name="runpod/pytorch",
        gpu_type_id="NVIDIA RTX A4000",
        gpu_count=1,
        cloud_type=CloudTypeEnum.SECURE,
        container_disk_in_gb=20,
        env=[EnvironmentVariableInput(key="A", value="1")],
    )


def use(rp: Runpod) -> PodFields | None:
    answer = rp.graphql.pod(input=PodFilter(pod_id="p1"))
    return answer.pod
