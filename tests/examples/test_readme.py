"""Every README.md code block fenced as ```python runnable runs against the emulator.

So the README cannot rot: a renamed method or a changed behaviour fails here.
The emulator serves endpoint `my-llm` with the `tokens` handler and every other
id with the `demo` handler, as the README's Quickstart says.
"""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from examples_support import KEY, ROOT

from runpod_typed.emulator import Emulator, RunningEmulator

README = ROOT / "README.md"
FENCE = re.compile(r"^```python runnable\n(.*?)^```$", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Block:
    line: int
    code: str


def runnable_blocks() -> list[Block]:
    text = README.read_text(encoding="utf-8")
    return [
        Block(text.count("\n", 0, match.start()) + 2, match.group(1))
        for match in FENCE.finditer(text)
    ]


@pytest.fixture(scope="module")
def readme_emulator() -> Iterator[RunningEmulator]:
    emulator = Emulator(
        handlers={"my-llm": "tokens"},
        default_handler="demo",
        pod_transition_seconds=0.05,
    )
    with emulator.serve() as server:
        yield server


def test_readme_has_runnable_blocks() -> None:
    """Guards the marker: a typo in it would silently leave blocks untested."""
    blocks = runnable_blocks()
    assert len(blocks) >= 15
    plain = README.read_text(encoding="utf-8").count("```python\n")
    assert plain <= 1, "every python block but the pytest sketch should be runnable"


@pytest.mark.parametrize("block", runnable_blocks(), ids=lambda b: f"README.md:{b.line}")
def test_readme_block(
    block: Block, readme_emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RUNPOD_PROFILE", raising=False)
    monkeypatch.setenv("RUNPOD_API_KEY", KEY)
    monkeypatch.setenv("RUNPOD_API_BASE_URL", readme_emulator.url)
    monkeypatch.setenv("RUNPOD_ENDPOINT_BASE_URL", readme_emulator.endpoint_base_url)
    code = compile(block.code, f"README.md:{block.line}", "exec")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(code, {"__name__": "readme_block"})
    if "print(" in block.code:
        assert printed.getvalue().strip(), "the block printed nothing"


def test_readme_blocks_are_lint_clean() -> None:
    """The README teaches by example: its code meets the project's ruff rules and format."""
    for block in runnable_blocks():
        name = f"README.md:{block.line}.py"
        for command in ("check", "format --diff"):
            result = subprocess.run(
                [sys.executable, "-m", "ruff", *command.split(), "--stdin-filename", name, "-"],
                input=block.code,
                capture_output=True,
                text=True,
                cwd=ROOT,
            )
            assert result.returncode == 0, f"{name}: ruff {command}\n{result.stdout}"
