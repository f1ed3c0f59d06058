"""`make schema-diff` and `make pull-schema`, against files and a local GraphQL server.

The server is a few lines of http.server on 127.0.0.1 answering with graphql-core,
so the pull is tested end to end without the emulator or the internet.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
from graphql import (
    EnumTypeDefinitionNode,
    EnumValueDefinitionNode,
    NameNode,
    ObjectTypeDefinitionNode,
    TypeDefinitionNode,
    build_schema,
    graphql_sync,
    parse,
    print_ast,
)

from codegen import pull_schema, schema_diff

ROOT = Path(__file__).resolve().parents[2]
SDL = ROOT / "schema" / "runpod.graphql"
OPENAPI = ROOT / "schema" / "serverless.openapi.yaml"
KEY = "rp_test_key_0123456789"


# --- schema-diff ------------------------------------------------------------------------------


def _edited_sdl(
    remove_field: tuple[str, str] | None = None, add_enum_value: tuple[str, str] | None = None
) -> str:
    """The committed SDL with one field removed and/or one enum value added."""
    document = parse(SDL.read_text(encoding="utf-8"))
    types = {n.name.value: n for n in document.definitions if isinstance(n, TypeDefinitionNode)}
    if remove_field is not None:
        type_name, field_name = remove_field
        owner = types[type_name]
        assert isinstance(owner, ObjectTypeDefinitionNode)
        kept = tuple(f for f in owner.fields or () if f.name.value != field_name)
        assert len(kept) == len(owner.fields or ()) - 1, "the field to remove exists"
        owner.fields = kept
    if add_enum_value is not None:
        enum_name, value = add_enum_value
        enum_type = types[enum_name]
        assert isinstance(enum_type, EnumTypeDefinitionNode)
        added = EnumValueDefinitionNode(name=NameNode(value=value), directives=())
        enum_type.values = (*(enum_type.values or ()), added)
    return print_ast(document)


def test_the_pod_fragment_selects_the_field_the_diff_tests_remove() -> None:
    assert "costPerHr" in (ROOT / "codegen" / "operations" / "pods.graphql").read_text()


def test_schema_diff_reports_a_removed_field_and_the_operations_it_breaks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = tmp_path / "new.graphql"
    new.write_text(_edited_sdl(("Pod", "costPerHr"), ("PodStatus", "HIBERNATING")))

    assert schema_diff.main(["--old", str(SDL), "--new", str(new)]) == 1
    out = capsys.readouterr().out
    breaking, rest = out.split("Dangerous changes", 1)
    dangerous, operations = rest.split("Operations that no longer validate", 1)
    assert "Breaking changes (1):\n  FIELD_REMOVED: Pod.costPerHr was removed." in breaking
    assert "VALUE_ADDED_TO_ENUM: HIBERNATING was added to enum type PodStatus." in dangerous
    assert "  codegen/operations/pods.graphql:\n" in operations
    assert "Cannot query field 'costPerHr' on type 'Pod'." in operations


def test_schema_diff_passes_a_merely_dangerous_change(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = tmp_path / "new.graphql"
    new.write_text(_edited_sdl(add_enum_value=("PodStatus", "HIBERNATING")))

    assert schema_diff.main(["--old", str(SDL), "--new", str(new)]) == 0
    out = capsys.readouterr().out
    assert "Breaking changes (0):" in out
    assert "VALUE_ADDED_TO_ENUM" in out
    assert "Operations that no longer validate (0 files):" in out


def test_schema_diff_of_a_schema_with_itself_finds_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert schema_diff.main(["--old", str(SDL), "--new", str(SDL)]) == 0
    assert "No breaking or dangerous changes" in capsys.readouterr().out


def test_schema_diff_refuses_an_unreadable_schema(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.graphql"
    broken.write_text("type Query { field: NoSuchType }")
    assert schema_diff.main(["--old", str(SDL), "--new", str(broken)]) == 2
    assert "is not a valid GraphQL schema" in capsys.readouterr().err


# --- a local GraphQL server -------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    """POST /graphql runs the query on the committed schema; other routes misbehave on purpose."""

    schema = build_schema(SDL.read_text(encoding="utf-8"))
    seen: ClassVar[list[tuple[str, str | None]]] = []

    def _answer(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        self.seen.append((self.path, self.headers.get("Authorization")))
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path == "/graphql":
            result = graphql_sync(self.schema, request["query"])
            self._answer(200, json.dumps({"data": result.data}).encode())
        elif self.path == "/no-introspection":
            errors = [{"message": "GraphQL introspection is not allowed"}]
            self._answer(200, json.dumps({"errors": errors}).encode())
        elif self.path == "/html":
            self._answer(200, b"<html>hello</html>", "text/html")
        else:
            self._answer(401, b'{"error": "unauthorized"}')

    def do_GET(self) -> None:
        body = OPENAPI.read_bytes() if self.path == "/openapi.yaml" else b"openapi: [oops"
        self._answer(200, body, "application/yaml")

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output quiet."""


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """An existing snapshot, which a failed pull must leave as it is."""
    path = tmp_path / "runpod.graphql"
    path.write_text("# previous snapshot\n")
    return path


@pytest.fixture(autouse=True)
def fixed_date(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1780000000")  # 2026-05-28


def test_pull_writes_the_same_sdl_the_server_was_built_from(
    server: str, out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNPOD_API_KEY", KEY)
    _Handler.seen.clear()
    url = f"{server}/graphql"

    assert pull_schema.main(["--url", url, "--out", str(out)]) == 0
    pulled, committed = out.read_text(encoding="utf-8"), SDL.read_text(encoding="utf-8")
    header, body = pulled.split('"""\nschema {', 1)
    assert body == committed.split('"""\nschema {', 1)[1]  # everything below the header
    assert f"pulled by introspection from {url} on 2026-05-28." in header
    assert _Handler.seen == [("/graphql", f"Bearer {KEY}")]  # key in the header, not the URL


def test_pull_output_is_in_the_canonical_printed_form(
    server: str, out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RUNPOD_API_KEY", raising=False)  # a local server needs no key
    assert pull_schema.main(["--url", f"{server}/graphql", "--out", str(out)]) == 0
    sdl = out.read_text(encoding="utf-8")
    schema = build_schema(sdl)
    assert pull_schema.canonical_sdl(schema, schema.description or "") == sdl


def test_pull_also_refreshes_the_openapi_file(
    server: str, out: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RUNPOD_API_KEY", raising=False)
    openapi_out = tmp_path / "serverless.openapi.yaml"
    argv = ["--url", f"{server}/graphql", "--out", str(out)]
    argv += ["--openapi-url", f"{server}/openapi.yaml", "--openapi-out", str(openapi_out)]
    assert pull_schema.main(argv) == 0
    assert openapi_out.read_bytes() == OPENAPI.read_bytes()


def _assert_failed_cleanly(capsys: pytest.CaptureFixture[str], out: Path, reason: str) -> None:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("pull-schema: ")
    assert reason in err
    assert KEY not in err
    assert out.read_text() == "# previous snapshot\n"


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/unauthorized", "answered HTTP 401 Unauthorized"),
        ("/html", "did not answer with JSON"),
        ("/no-introspection", "refused introspection: GraphQL introspection is not allowed"),
    ],
)
def test_pull_fails_cleanly_on_a_bad_answer(
    server: str,
    out: Path,
    path: str,
    reason: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RUNPOD_API_KEY", KEY)
    assert pull_schema.main(["--url", f"{server}{path}", "--out", str(out)]) == 2
    _assert_failed_cleanly(capsys, out, reason)


def test_pull_fails_cleanly_on_an_invalid_openapi_document(
    server: str, out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--url", f"{server}/graphql", "--out", str(out), "--openapi-url", f"{server}/bad"]
    assert pull_schema.main(argv) == 2
    _assert_failed_cleanly(capsys, out, "is not a valid OpenAPI document")


def test_pull_fails_cleanly_when_nothing_listens(
    out: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNPOD_API_KEY", KEY)
    with socket.socket() as probe:  # a port that was free a moment ago: connection refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert pull_schema.main(["--url", f"http://127.0.0.1:{port}/graphql", "--out", str(out)]) == 2
    _assert_failed_cleanly(capsys, out, f"cannot reach http://127.0.0.1:{port}/graphql")


def test_pull_from_runpod_without_a_key_says_so_before_any_request(
    out: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RUNPOD_API_KEY", raising=False)

    def no_network(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("no request may be sent without a key")

    monkeypatch.setattr(httpx, "request", no_network)
    assert pull_schema.main(["--out", str(out)]) == 2
    _assert_failed_cleanly(capsys, out, "RUNPOD_API_KEY is not set")


def test_schema_diff_pulls_the_new_schema_from_a_url(
    server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert schema_diff.main(["--old", str(SDL), "--url", f"{server}/graphql"]) == 0
    assert "No breaking or dangerous changes" in capsys.readouterr().out
