"""mypy --strict proves the public surface is typed: what must pass passes, what must fail fails.

- typed_usage.py: output_type and chunk_type flow through run_sync, output, stream,
  map; client options and generated inputs type-check in their documented forms.
- wrong_usage.py: every line marked `# E:` is a mypy error, and no other line.
- snake_case_inputs.py: generated GraphQL inputs built with Python (snake_case)
  names type-check WITHOUT the pydantic mypy plugin (mypy-no-plugins.ini), as in a
  user's project that never enabled it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

TYPING = Path(__file__).resolve().parents[1] / "typing"
ROOT = TYPING.parents[1]


def _mypy(path: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", *options, str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )


def _error_lines(output: str, path: Path) -> set[int]:
    name = re.escape(path.relative_to(ROOT).as_posix())
    return {int(m.group(1)) for m in re.finditer(rf"^{name}:(\d+): error:", output, re.M)}


def test_typed_usage_passes_mypy_strict() -> None:
    result = _mypy(TYPING / "typed_usage.py")
    assert result.returncode == 0, result.stdout + result.stderr


def test_wrong_usage_is_caught_by_mypy_line_by_line() -> None:
    path = TYPING / "wrong_usage.py"
    result = _mypy(path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert 'Incompatible return value type (got "Image", expected "str")' in result.stdout
    marked = {
        number
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if re.search(r"\S  # E: ", line)
    }
    assert len(marked) >= 10
    assert _error_lines(result.stdout, path) == marked, result.stdout


def test_misspelt_client_option_is_named_by_mypy() -> None:
    result = _mypy(TYPING / "wrong_usage.py")
    assert 'Unexpected keyword argument "tiemout" for "Runpod"' in result.stdout
    assert 'Unexpected keyword argument "bogus" for "myself"' in result.stdout


def test_snake_case_inputs_type_check_without_the_pydantic_plugin() -> None:
    config = TYPING / "mypy-no-plugins.ini"
    assert "plugins" not in config.read_text()
    result = _mypy(TYPING / "snake_case_inputs.py", "--config-file", str(config))
    assert result.returncode == 0, result.stdout + result.stderr


def test_camel_case_inputs_do_not_type_check_without_the_plugin() -> None:
    """The counter-check: the no-plugin run does see pydantic's __init__ signatures."""
    config = TYPING / "mypy-no-plugins.ini"
    result = _mypy(TYPING / "camel_case_inputs.py", "--config-file", str(config))
    assert result.returncode == 1, result.stdout + result.stderr
    assert 'Unexpected keyword argument "podId" for "PodFilter"' in result.stdout
