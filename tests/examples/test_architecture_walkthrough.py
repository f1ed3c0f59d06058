"""docs/ARCHITECTURE.md "Adding an operation", replayed in a temporary copy of the repository.

The operation, the usage and the test are the blocks the document shows (fenced
as graphql walkthrough, python walkthrough, python walkthrough-test), so the
walk-through cannot drift from what works.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from examples_support import ROOT

DOC = ROOT / "docs" / "ARCHITECTURE.md"
COPIED = ("schema", "codegen", "generated", "runpod_typed")


def doc_block(info: str) -> str:
    """The one block of docs/ARCHITECTURE.md fenced as ```<info>."""
    blocks = re.findall(rf"^```{re.escape(info)}\n(.*?)^```$", DOC.read_text(), re.M | re.S)
    assert len(blocks) == 1, f"expected one ```{info} block in {DOC.name}, found {len(blocks)}"
    return str(blocks[0])


def run(args: list[str], cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """Run python in the copy, importing the copy's packages (not the checkout's)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNPOD_")}
    env["PYTHONPATH"] = str(cwd)
    result = subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, input=stdin, capture_output=True, text=True
    )
    assert result.returncode == 0, (
        f"{args}: exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    )
    return result


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the repository with the walk-through's operation added and generated."""
    root = tmp_path_factory.mktemp("walkthrough")
    for part in COPIED:
        shutil.copytree(
            ROOT / part, root / part, symlinks=True, ignore=shutil.ignore_patterns("__pycache__")
        )
    operation = doc_block("graphql walkthrough")
    match = re.search(r"^(?:query|mutation) (\w+)", operation, re.M)
    assert match is not None
    name = match.group(1)
    operations = root / "codegen" / "operations"
    existing = "".join(p.read_text() for p in operations.glob("*.graphql"))
    assert f" {name}(" not in existing, (
        f"{name} is in codegen/operations now: pick another operation for the "
        "walk-through in docs/ARCHITECTURE.md"
    )
    with (operations / "templates.graphql").open("a") as file:
        file.write("\n" + operation)
    run(["-m", "codegen.generate", "--out", "generated"], root)
    return root


def test_generate_adds_the_method_to_both_clients(repo: Path) -> None:
    graphql = repo / "generated" / "graphql"
    assert (graphql / "template_by_id.py").is_file()
    for client in ("client.py", "async_client.py"):
        assert re.search(r"def template_by_id\(\s*self, id: str", (graphql / client).read_text())
    checked = run(["-m", "codegen.generate", "--check", "generated"], repo)
    assert "up to date" in checked.stdout


def test_the_new_method_is_typed(repo: Path) -> None:
    script = textwrap.dedent(
        """
        import sys
        import typing
        import runpod_typed
        from runpod_typed._generated.graphql.client import RunpodGraphQLClient
        from runpod_typed._generated.graphql.template_by_id import TemplateById

        assert runpod_typed.__file__.startswith(sys.argv[1]), runpod_typed.__file__
        hints = typing.get_type_hints(RunpodGraphQLClient.template_by_id)
        assert hints["return"] is TemplateById, hints
        print("typed")
        """
    )
    assert run(["-c", script, str(repo)], repo).stdout.strip() == "typed"


def test_usage_runs_on_rp_graphql_against_the_emulator(repo: Path) -> None:
    usage = doc_block("python walkthrough")
    harness = textwrap.dedent(
        """
        import os, sys
        from runpod_typed.emulator import Emulator

        with Emulator().serve() as server:
            os.environ.update(
                RUNPOD_API_KEY="walkthrough-key",
                RUNPOD_API_BASE_URL=server.url,
                RUNPOD_ENDPOINT_BASE_URL=server.endpoint_base_url,
            )
            exec(compile(sys.stdin.read(), "ARCHITECTURE.md", "exec"), {})
        """
    )
    result = run(["-c", harness], repo, stdin=usage)
    assert result.stdout.split() == ["trainer", "runpod/pytorch:2.4.0"]


def test_the_documented_test_passes(repo: Path) -> None:
    tests = repo / "tests"
    tests.mkdir()
    (tests / "test_template_by_id.py").write_text(doc_block("python walkthrough-test"))
    result = run(["-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], repo)
    assert "1 passed" in result.stdout
