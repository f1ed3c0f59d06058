"""Every GraphQL document the official `runpod` package sends validates against our SDL.

The official package lives in its own virtualenv (.official-venv, built by `make setup`);
tests/compat/_official_documents.py runs there and prints the documents its builders
produce, quirks included (values spliced into the text, null literals, the fields it
selects). Here they are validated with graphql-core against schema/runpod.graphql, so a
schema that would reject what RunPod's own client sends cannot be committed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from graphql import GraphQLError, GraphQLSchema, build_schema, parse, validate

ROOT = Path(__file__).resolve().parents[2]
OFFICIAL_PYTHON = ROOT / ".official-venv" / "bin" / "python"
SCRIPT = Path(__file__).with_name("_official_documents.py")
SDL_PATH = ROOT / "schema" / "runpod.graphql"

pytestmark = pytest.mark.compat


def _official_documents() -> list[dict[str, str]]:
    if not OFFICIAL_PYTHON.exists():
        pytest.fail(
            f"{OFFICIAL_PYTHON.relative_to(ROOT)} is missing: run `make setup` to build the "
            "virtualenv with the official runpod package"
        )
    result = subprocess.run(
        [str(OFFICIAL_PYTHON), str(SCRIPT)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    documents: list[dict[str, str]] = json.loads(result.stdout)
    return documents


def _problems(schema: GraphQLSchema, document: str) -> list[str]:
    try:
        errors = validate(schema, parse(document))
    except GraphQLError as error:
        return [f"syntax: {error.message}"]
    return [error.message for error in errors]


def test_official_documents_validate_against_sdl() -> None:
    documents = _official_documents()
    schema = build_schema(SDL_PATH.read_text(encoding="utf-8"))
    failures = {
        doc["name"]: problems
        for doc in documents
        if (problems := _problems(schema, doc["document"]))
    }
    print(
        f"{len(documents) - len(failures)} of {len(documents)} official documents validate",
        file=sys.stderr,
    )
    assert documents, "the script produced no documents"
    assert failures == {}
