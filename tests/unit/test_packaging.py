"""The wheel ships the generated clients and the SDL under runpod_typed, and nothing generic."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_wheel_contains_generated_code_under_runpod_typed(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("runpod_typed-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "runpod_typed/_generated/runpod.graphql" in names
    assert "runpod_typed/_generated/graphql/client.py" in names
    assert "runpod_typed/_generated/serverless/models/job_status_response.py" in names
    assert "runpod_typed/py.typed" in names
    top_level = {name.split("/")[0] for name in names}
    assert {t for t in top_level if not t.endswith(".dist-info")} == {"runpod_typed"}
