"""mypy --strict proves output_type and chunk_type flow through run_sync, output, stream, map."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

TYPING = Path(__file__).resolve().parents[1] / "typing"


def _mypy(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", str(path)],
        capture_output=True,
        text=True,
        cwd=TYPING.parents[1],
        check=False,
    )


def test_typed_usage_passes_mypy_strict() -> None:
    result = _mypy(TYPING / "typed_usage.py")
    assert result.returncode == 0, result.stdout + result.stderr


def test_wrong_usage_is_caught_by_mypy() -> None:
    result = _mypy(TYPING / "wrong_usage.py")
    assert result.returncode == 1
    assert 'Incompatible return value type (got "Image", expected "str")' in result.stdout
