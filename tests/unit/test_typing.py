"""mypy --strict proves the public surface is typed: what must pass passes, what must fail fails.

- typed_usage.py: output_type and chunk_type flow through run_sync, output, stream,
  map; client options and generated inputs type-check in their documented forms.
- wrong_usage.py: every line marked `# E:` is a mypy error, and no other line.
- snake_case_inputs.py: generated GraphQL inputs built with Python (snake_case)
  names type-check WITHOUT the pydantic mypy plugin (mypy-no-plugins.ini), as in a
  user's project that never enabled it.
- pyright (what most editors run) catches the same mistakes in wrong_usage.py; make
  typecheck runs it in strict mode on examples/ and the passing files
  (pyrightconfig.json) and scores the package with --verifytypes
  (tests/typing/verify_types.py).
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from codegen.postprocess import postprocess_source

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


def _marked_lines(path: Path) -> set[int]:
    return {
        number
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if re.search(r"\S  # E: ", line)
    }


def test_typed_usage_passes_mypy_strict() -> None:
    result = _mypy(TYPING / "typed_usage.py")
    assert result.returncode == 0, result.stdout + result.stderr


def test_wrong_usage_is_caught_by_mypy_line_by_line() -> None:
    path = TYPING / "wrong_usage.py"
    result = _mypy(path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert 'Incompatible return value type (got "Image", expected "str")' in result.stdout
    marked = _marked_lines(path)
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


def test_wrong_usage_is_caught_by_pyright_line_by_line() -> None:
    pyright = Path(sys.executable).parent / "pyright"
    if not pyright.exists():
        pytest.skip("pyright is not installed (dependency group dev)")
    path = TYPING / "wrong_usage.py"
    env = {**os.environ, "PATH": f"{pyright.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(
        [str(pyright), "--outputjson", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=False,
    )
    report = json.loads(result.stdout)
    errors = [d for d in report["generalDiagnostics"] if d["severity"] == "error"]
    lines = {d["range"]["start"]["line"] + 1 for d in errors}
    assert lines == _marked_lines(path), json.dumps(errors, indent=1)
    messages = [d["message"] for d in errors]
    assert 'No parameter named "bogus"' in messages  # rp.graphql.myself(bogus=1)
    assert 'No parameter named "tiemout"' in messages


def test_generated_models_declare_model_config_as_a_class_variable() -> None:
    source = (
        "from pydantic import BaseModel\n\n\n"
        "class Model(BaseModel):\n"
        "    model_config = ConfigDict(populate_by_name=True)\n"
        "    name: str\n"
    )
    result = postprocess_source(source)
    assert "    model_config: ClassVar[ConfigDict] = ConfigDict(populate_by_name=True)\n" in result
    assert "from typing import ClassVar\nfrom pydantic import ConfigDict\n" in result
    base = (ROOT / "generated" / "graphql" / "base_model.py").read_text()
    assert "model_config: ClassVar[ConfigDict] = ConfigDict(" in base


def test_no_generated_function_takes_catch_all_keywords() -> None:
    """`**kwargs` would accept any misspelt argument under both checkers."""
    found = [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"
        for path in sorted((ROOT / "generated").rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.args.kwarg is not None
    ]
    assert not found
