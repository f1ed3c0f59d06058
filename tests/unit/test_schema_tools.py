"""`make schema-diff` and `make pull-schema`, against files and a local server.

The server is a few lines of http.server on 127.0.0.1 answering GraphQL with graphql-core
and serving a small hand-written REST v2 (OpenAPI) description, so both pulls are tested
end to end without the emulator or the internet.
"""

from __future__ import annotations

import copy
import json
import socket
import threading
from collections.abc import Callable, Iterator
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
V2_SNAPSHOT = ROOT / "schema" / "runpod-rest-v2.openapi.json"
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
    assert capsys.readouterr().out.splitlines()[1] == (
        "No breaking or dangerous changes; nothing added; every operation still validates."
    )


_GRAPHQL_ADDITIONS = """
extend type Query {
  podLogs(podId: String!, tail: Int): [String]
}
extend type Mutation {
  podReset(input: PodStopInput!): Pod
}
extend type Pod {
  lastBilledAt: DateTime
}
extend input EndpointInput {
  idleTimeoutMs: Int
}
extend enum CloudTypeEnum {
  SPOT
}
extend enum PodStatus {
  HIBERNATING
}
type PodLog {
  line: String
}
directive @cached(ttl: Int) on FIELD
"""


def _with_argument(sdl: str, type_name: str, field_name: str, argument: str) -> str:
    """`sdl` with `argument` (SDL text, like "limit: Int") added to a field."""
    document = parse(sdl)
    (owner,) = (
        n for n in document.definitions
        if isinstance(n, ObjectTypeDefinitionNode) and n.name.value == type_name
    )  # fmt: skip
    (member,) = (f for f in owner.fields or () if f.name.value == field_name)
    added = parse(f"type T {{ f({argument}): Int }}").definitions[0]
    assert isinstance(added, ObjectTypeDefinitionNode) and added.fields
    member.arguments = (*(member.arguments or ()), *added.fields[0].arguments)
    return print_ast(document)


def test_graphql_schema_diff_lists_additions_as_non_breaking(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A regeneration shows what became available: operations, types, fields, optional
    arguments and input fields, enum values, directives."""
    new = tmp_path / "new.graphql"
    sdl = SDL.read_text(encoding="utf-8") + _GRAPHQL_ADDITIONS
    new.write_text(_with_argument(sdl, "Query", "gpuTypes", "limit: Int"))

    status = schema_diff.main(["--old", str(SDL), "--new", str(new)])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "Breaking changes (0):\n" in out
    dangerous, additions = out.split("Dangerous changes", 1)[1].split("Non-breaking additions", 1)
    # PodStatus reaches responses, where a new value is news to old clients
    assert "  VALUE_ADDED_TO_ENUM: HIBERNATING was added to enum type PodStatus.\n" in dangerous
    assert "SPOT" not in dangerous and "OPTIONAL_" not in dangerous  # listed as additions
    assert "Operations that no longer validate (0 files):" in dangerous
    expected = [
        "OPERATION_ADDED: mutation podReset(input: PodStopInput!): Pod was added.",
        "OPERATION_ADDED: query podLogs(podId: String!, tail: Int): [String] was added.",
        "TYPE_ADDED: PodLog was added (object type).",
        "FIELD_ADDED: EndpointInput.idleTimeoutMs was added (optional, Int).",
        "FIELD_ADDED: Pod.lastBilledAt was added (DateTime).",
        "ARGUMENT_ADDED: Query.gpuTypes: optional argument limit (Int) was added.",
        "ENUM_VALUE_ADDED: SPOT was added to CloudTypeEnum.",
        "DIRECTIVE_ADDED: @cached was added.",
    ]
    assert additions.splitlines() == [f" ({len(expected)}):", *(f"  {e}" for e in expected)]


def test_graphql_schema_diff_keeps_what_a_request_must_now_send_breaking(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = tmp_path / "new.graphql"
    sdl = SDL.read_text(encoding="utf-8") + "extend input EndpointInput { region: String! }\n"
    new.write_text(_with_argument(sdl, "Query", "gpuTypes", "region: String!"))

    assert schema_diff.main(["--old", str(SDL), "--new", str(new)]) == 1
    out = capsys.readouterr().out
    breaking, additions = out.split("Non-breaking additions", 1)
    assert (
        "REQUIRED_INPUT_FIELD_ADDED: A required field region on input type EndpointInput"
        in breaking
    )
    assert "REQUIRED_ARG_ADDED: A required arg region on Query.gpuTypes was added." in breaking
    assert additions.splitlines() == [" (0):"]


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
        elif self.path == "/apollo":  # how Apollo Server refuses introspection in production
            message = "GraphQL introspection is not allowed by Apollo Server, but the query contained __schema or __type."
            body = {
                "errors": [
                    {"message": message, "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}}
                ]
            }
            self._answer(400, json.dumps(body).encode())
        elif self.path == "/html":
            self._answer(200, b"<html>hello</html>", "text/html")
        else:
            self._answer(401, b'{"error": "unauthorized"}')

    def do_GET(self) -> None:
        self.seen.append((self.path, self.headers.get("Authorization")))
        if self.path == "/v2/openapi.json":
            self._answer(200, json.dumps(_v2_document()).encode())
            return
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
    server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    openapi_out = tmp_path / "serverless.openapi.yaml"
    openapi_out.write_text("# previous snapshot\n")
    argv = ["--no-graphql", "--openapi-url", f"{server}/bad", "--openapi-out", str(openapi_out)]
    assert pull_schema.main(argv) == 2
    _assert_failed_cleanly(capsys, openapi_out, "is not a valid OpenAPI document")


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


def test_pull_says_plainly_when_the_server_has_introspection_off(
    server: str,
    out: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """RunPod's production server refuses introspection (Apollo answers HTTP 400 with a
    GraphQL error): the message says so and what to do instead, not just 'HTTP 400'."""
    monkeypatch.setenv("RUNPOD_API_KEY", KEY)
    assert pull_schema.main(["--url", f"{server}/apollo", "--out", str(out)]) == 2
    _assert_failed_cleanly(capsys, out, "refused introspection: GraphQL introspection is not")
    capsys.readouterr()
    assert pull_schema.main(["--url", f"{server}/apollo", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "RunPod turns introspection off in production" in err
    assert "kept by hand" in err and "URL=" in err


# --- REST v2: a small description in RunPod's style, prose everywhere -------------------------

_SCHEMAS = "#/components/schemas/"


def _v2_document() -> dict[str, Any]:
    """A REST v2 description with RunPod's kinds of prose next to every contract fact."""
    pod_status = {"$ref": f"{_SCHEMAS}PodStatus"}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Test API", "version": "2.0.0", "description": "About the API."},
        "servers": [{"url": "https://api.example.test", "description": "Production."}],
        "security": [{"bearerAuth": []}],
        "tags": [{"name": "Pods", "description": "Pod lifecycle."}],
        "externalDocs": {"url": "https://docs.example.test"},
        "paths": {
            "/v2/pods": {
                "get": {
                    "operationId": "listPods",
                    "tags": ["Pods"],
                    "summary": "List pods",
                    "description": "Lists the pods.",
                    "x-codeSamples": [{"lang": "bash", "source": "curl https://..."}],
                    "parameters": [
                        {
                            "name": "status",
                            "in": "query",
                            "required": False,
                            "description": "Only pods in this state.",
                            "example": "RUNNING",
                            "schema": pod_status,
                        },
                        {
                            "name": "gpuTypeId",
                            "in": "query",
                            "style": "form",
                            "explode": False,
                            "schema": {"type": "array", "items": {"type": "string"}},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "The pods.",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "array",
                                        "items": {"$ref": f"{_SCHEMAS}Pod"},
                                    },
                                    "examples": {"none": {"summary": "No pods", "value": []}},
                                }
                            },
                        },
                        "401": {"$ref": "#/components/responses/Unauthorized"},
                    },
                },
                "post": {
                    "operationId": "createPod",
                    "tags": ["Pods"],
                    "summary": "Create a pod",
                    "requestBody": {
                        "required": True,
                        "description": "What to create.",
                        "content": {
                            "application/json": {"schema": {"$ref": f"{_SCHEMAS}CreatePodRequest"}}
                        },
                    },
                    "responses": {
                        "201": {
                            "description": "Created.",
                            "content": {"application/json": {"schema": {"$ref": f"{_SCHEMAS}Pod"}}},
                        }
                    },
                },
            },
            "/v2/pods/{id}": {
                "parameters": [
                    {
                        "name": "id",
                        "in": "path",
                        "required": True,
                        "description": "Pod id.",
                        "example": "pod_abc123",
                        "schema": {"type": "string"},
                    }
                ],
                "delete": {
                    "operationId": "deletePod",
                    "tags": ["Pods"],
                    "responses": {"204": {"description": "Deleted."}},
                },
            },
        },
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "Test API key",
                    "description": "Send the key as a bearer token.",
                }
            },
            "responses": {
                "Unauthorized": {
                    "description": "No key, or a bad one.",
                    "content": {
                        "application/problem+json": {
                            "schema": {"$ref": f"{_SCHEMAS}Problem"},
                            "example": {"title": "Unauthorized", "status": 401},
                        }
                    },
                }
            },
            "schemas": {
                "PodStatus": {
                    "type": "string",
                    "enum": ["RUNNING", "EXITED"],
                    "description": "Where the pod is in its life.",
                    "x-enum-varnames": ["PodStatusRunning", "PodStatusExited"],
                },
                "Resource": {
                    "type": "object",
                    "required": ["id"],
                    "properties": {"id": {"type": "string", "description": "Identifier."}},
                },
                "Pod": {
                    "title": "A pod",
                    "allOf": [
                        {"$ref": f"{_SCHEMAS}Resource"},
                        {
                            "type": "object",
                            "required": ["status", "name", "costPerHr"],
                            "properties": {
                                "name": {"type": "string", "examples": ["my-pod"]},
                                "status": pod_status,
                                "costPerHr": {"type": "number", "description": "USD per hour."},
                                "description": {
                                    "type": "string",
                                    "description": "A property named 'description' is a field.",
                                },
                            },
                        },
                    ],
                },
                "CreatePodRequest": {
                    "type": "object",
                    "required": ["name", "gpuCount"],
                    "additionalProperties": False,
                    "properties": {
                        "name": {"type": "string", "maxLength": 64},
                        "gpuCount": {"type": "number", "minimum": 1},
                        "cloud": {
                            "type": "string",
                            "enum": ["SECURE", "COMMUNITY"],
                            "default": "SECURE",
                        },
                        "title": {"type": "string", "title": "Title", "description": "A field."},
                    },
                },
                "Problem": {
                    "type": "object",
                    "required": ["title", "status"],
                    "properties": {
                        "title": {"type": "string", "description": "Short summary."},
                        "status": {"type": "integer"},
                    },
                    "externalDocs": {"url": "https://example.test/problems"},
                },
            },
        },
    }


PROSE_TEXTS = (
    "About the API",
    "Production.",
    "Pod lifecycle",
    "List pods",
    "Lists the pods",
    "curl",
    "Only pods in this state",
    "pod_abc123",
    "Created.",
    "No key",
    "bearer token",
    "Test API key",
    "Where the pod is",
    "PodStatusRunning",
    "A pod",
    "my-pod",
    "USD per hour",
    "is a field",
    "Short summary",
    "docs.example.test",
    "example.test/problems",
)


def _write_json(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def _pull_v2(source: Path, out: Path) -> int:
    return pull_schema.main(["--no-graphql", "--v2-file", str(source), "--v2-out", str(out)])


def test_pull_v2_keeps_the_contract_and_drops_the_prose(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "v2.json"
    assert _pull_v2(_write_json(tmp_path / "raw.json", _v2_document()), out) == 0
    assert "wrote" in capsys.readouterr().out
    text = out.read_text(encoding="utf-8")
    for prose in PROSE_TEXTS:
        assert prose not in text, prose
    snapshot = json.loads(text)

    from openapi_spec_validator import validate

    validate(snapshot)  # still a valid description
    assert snapshot["info"] == {"title": "Test API", "version": "2.0.0"}
    assert snapshot["tags"] == [{"name": "Pods"}]
    assert snapshot["servers"] == [{"url": "https://api.example.test"}]
    assert snapshot["components"]["securitySchemes"] == {
        "bearerAuth": {"scheme": "bearer", "type": "http"}
    }
    listing = snapshot["paths"]["/v2/pods"]["get"]
    assert listing["operationId"] == "listPods" and listing["tags"] == ["Pods"]
    assert listing["parameters"] == [
        {
            "in": "query",
            "name": "status",
            "required": False,
            "schema": {"$ref": f"{_SCHEMAS}PodStatus"},
        },
        {
            "explode": False,
            "in": "query",
            "name": "gpuTypeId",
            "schema": {"items": {"type": "string"}, "type": "array"},
            "style": "form",
        },
    ]
    assert listing["responses"]["200"] == {
        "content": {
            "application/json": {"schema": {"items": {"$ref": f"{_SCHEMAS}Pod"}, "type": "array"}}
        },
        "description": "",  # OpenAPI requires one; RunPod's is not kept
    }
    assert listing["responses"]["401"] == {"$ref": "#/components/responses/Unauthorized"}
    creation = snapshot["paths"]["/v2/pods"]["post"]["requestBody"]
    assert creation["required"] is True
    assert snapshot["paths"]["/v2/pods/{id}"]["parameters"][0]["required"] is True
    schemas = snapshot["components"]["schemas"]
    assert schemas["PodStatus"] == {"enum": ["RUNNING", "EXITED"], "type": "string"}
    pod = schemas["Pod"]
    assert "title" not in pod  # a title would rename the generated model
    own = pod["allOf"][1]
    assert own["required"] == ["costPerHr", "name", "status"]  # a set: sorted
    assert own["properties"]["description"] == {"type": "string"}  # a field, not prose
    request = schemas["CreatePodRequest"]
    assert request["additionalProperties"] is False
    assert request["properties"]["cloud"] == {
        "default": "SECURE",
        "enum": ["SECURE", "COMMUNITY"],
        "type": "string",
    }
    assert request["properties"]["name"] == {"maxLength": 64, "type": "string"}
    assert request["properties"]["title"] == {"type": "string"}
    assert schemas["Problem"]["properties"]["title"] == {"type": "string"}


def test_pull_v2_is_deterministic(tmp_path: Path) -> None:
    """Same description, same bytes: twice, from a differently ordered copy, and from the
    snapshot itself (the reduction is idempotent); keys sorted, two-space JSON."""
    document = _v2_document()
    first, second, shuffled, again = (tmp_path / f"{n}.json" for n in ("a", "b", "c", "d"))
    raw = _write_json(tmp_path / "raw.json", document)
    assert _pull_v2(raw, first) == 0
    assert _pull_v2(raw, second) == 0
    reordered = dict(reversed(list(document.items())))
    reordered["paths"] = dict(reversed(list(document["paths"].items())))
    pod = reordered["components"]["schemas"]["Pod"]["allOf"][1]
    pod["required"] = list(reversed(pod["required"]))
    assert _pull_v2(_write_json(tmp_path / "reordered.json", reordered), shuffled) == 0
    assert _pull_v2(first, again) == 0
    text = first.read_bytes()
    assert text == second.read_bytes() == shuffled.read_bytes() == again.read_bytes()
    assert text.decode() == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"


def test_pull_v2_from_a_url_sends_no_key(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNPOD_API_KEY", KEY)
    _Handler.seen.clear()
    from_url, from_file = tmp_path / "url.json", tmp_path / "file.json"
    argv = ["--no-graphql", "--v2-url", f"{server}/v2/openapi.json", "--v2-out", str(from_url)]
    assert pull_schema.main(argv) == 0
    assert _Handler.seen == [("/v2/openapi.json", None)]  # the description is public
    assert _pull_v2(_write_json(tmp_path / "raw.json", _v2_document()), from_file) == 0
    assert from_url.read_bytes() == from_file.read_bytes()


def test_pull_v2_names_keywords_it_does_not_know(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = _v2_document()
    document["components"]["schemas"]["Pod"]["x-internal"] = True  # vendor: dropped quietly
    document["components"]["schemas"]["Resource"]["frobnicate"] = 3  # unknown: dropped, named
    out = tmp_path / "v2.json"
    assert _pull_v2(_write_json(tmp_path / "raw.json", document), out) == 0
    printed = capsys.readouterr().out
    assert "frobnicate (at /components/schemas/Resource)" in printed
    assert "x-internal" not in printed
    assert "frobnicate" not in out.read_text()


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{not json: [", "is neither JSON nor YAML"),
        ('{"openapi": "3.1.0", "info": {"title": "t", "version": "1"}}', "it has no 'paths'"),
        (
            '{"openapi": "3.1.0", "info": {"title": "t"}, "paths": {}}',
            "(reduced) is not a valid OpenAPI document",
        ),
        ('{"openapi": "3.1.0", "info": [], "paths": {}}', "/info is not an object"),
    ],
)
def test_pull_v2_fails_cleanly_on_a_bad_description(
    tmp_path: Path, text: str, reason: str, capsys: pytest.CaptureFixture[str]
) -> None:
    raw, out = tmp_path / "raw.json", tmp_path / "v2.json"
    raw.write_text(text)
    out.write_text("# previous snapshot\n")
    assert _pull_v2(raw, out) == 2
    _assert_failed_cleanly(capsys, out, reason)


def test_pull_writes_v2_even_when_graphql_introspection_is_off(
    server: str,
    out: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The sources are independent: production refuses introspection, v2 still updates."""
    monkeypatch.setenv("RUNPOD_API_KEY", KEY)
    v2_out = tmp_path / "v2.json"
    argv = ["--url", f"{server}/apollo", "--out", str(out)]
    argv += ["--v2-url", f"{server}/v2/openapi.json", "--v2-out", str(v2_out)]
    assert pull_schema.main(argv) == 2
    captured = capsys.readouterr()
    assert f"wrote {v2_out}: 3 operations" in captured.out
    assert captured.err.count("\n") == 1 and "RunPod turns introspection off" in captured.err
    assert out.read_text() == "# previous snapshot\n"
    assert json.loads(v2_out.read_text())["paths"].keys() == {"/v2/pods", "/v2/pods/{id}"}


def test_the_committed_v2_snapshot_is_reduced_valid_and_canonical() -> None:
    """schema/runpod-rest-v2.openapi.json is what the pull writes: pulling it again changes
    no byte (so it was not edited by hand), and it is a valid description."""
    text = V2_SNAPSHOT.read_text(encoding="utf-8")
    reduced = pull_schema.reduce_openapi(json.loads(text))
    assert reduced.unknown == {}
    assert pull_schema.dump_openapi(reduced.document) == text
    pull_schema.check_openapi(reduced.document, str(V2_SNAPSHOT))
    assert sum(pull_schema.operation_counts(reduced.document).values()) >= 50


# --- REST v2: schema-diff ----------------------------------------------------------------------

Edit = Callable[[dict[str, Any]], None]


def _schema(document: dict[str, Any], name: str) -> dict[str, Any]:
    schema: dict[str, Any] = document["components"]["schemas"][name]
    return schema


def _pod_own(document: dict[str, Any]) -> dict[str, Any]:
    own: dict[str, Any] = _schema(document, "Pod")["allOf"][1]
    return own


def _v2_diff(tmp_path: Path, capsys: pytest.CaptureFixture[str], *edits: Edit) -> tuple[int, str]:
    """schema-diff (v2 only) from the fixture to the fixture with `edits` applied."""
    new = copy.deepcopy(_v2_document())
    for edit in edits:
        edit(new)
    old_path = _write_json(tmp_path / "old.json", _v2_document())
    new_path = _write_json(tmp_path / "new.json", new)
    argv = ["--no-graphql", "--v2-old", str(old_path), "--v2-file", str(new_path)]
    status = schema_diff.main(argv)
    return status, capsys.readouterr().out


def _delete_cost(document: dict[str, Any]) -> None:
    own = _pod_own(document)
    del own["properties"]["costPerHr"]
    own["required"].remove("costPerHr")


def _add_required_parameter(document: dict[str, Any]) -> None:
    region = {"name": "region", "in": "query", "required": True, "schema": {"type": "string"}}
    document["paths"]["/v2/pods"]["get"]["parameters"].append(region)


def _add_required_input_field(document: dict[str, Any]) -> None:
    request = _schema(document, "CreatePodRequest")
    request["properties"]["imageName"] = {"type": "string"}
    request["required"].append("imageName")


BREAKING: list[tuple[str, Edit, str]] = [
    (
        "path removed",
        lambda d: d["paths"].pop("/v2/pods/{id}"),
        "PATH_REMOVED: /v2/pods/{id} was removed (DELETE).",
    ),
    (
        "operation removed",
        lambda d: d["paths"]["/v2/pods"].pop("post"),
        "OPERATION_REMOVED: POST /v2/pods (createPod) was removed.",
    ),
    ("response field removed", _delete_cost, "FIELD_REMOVED: Pod.costPerHr was removed."),
    (
        "enum value removed",
        lambda d: _schema(d, "PodStatus").update(enum=["RUNNING"]),
        "ENUM_VALUE_REMOVED: EXITED was removed from PodStatus.",
    ),
    (
        "input enum value removed",
        lambda d: _schema(d, "CreatePodRequest")["properties"]["cloud"].update(enum=["SECURE"]),
        "ENUM_VALUE_REMOVED: COMMUNITY was removed from CreatePodRequest.cloud.",
    ),
    (
        "new required parameter",
        _add_required_parameter,
        "REQUIRED_PARAMETER_ADDED: GET /v2/pods: required query parameter region was added.",
    ),
    (
        "optional parameter became required",
        lambda d: d["paths"]["/v2/pods"]["get"]["parameters"][0].update(required=True),
        "PARAMETER_BECAME_REQUIRED: GET /v2/pods: query parameter status became required.",
    ),
    (
        "new required request-body field",
        _add_required_input_field,
        "REQUIRED_INPUT_FIELD_ADDED: CreatePodRequest.imageName was added as a required field.",
    ),
    (
        "optional request-body field became required",
        lambda d: _schema(d, "CreatePodRequest")["required"].append("cloud"),
        "INPUT_FIELD_BECAME_REQUIRED: CreatePodRequest.cloud became required.",
    ),
    (
        "input type narrowed",
        lambda d: _schema(d, "CreatePodRequest")["properties"]["gpuCount"].update(type="integer"),
        "TYPE_NARROWED: CreatePodRequest.gpuCount changed type from number to integer.",
    ),
    (
        "input constraint narrowed",
        lambda d: _schema(d, "CreatePodRequest")["properties"]["name"].update(maxLength=32),
        "CONSTRAINT_NARROWED: CreatePodRequest.name: maxLength 64 -> 32.",
    ),
    (
        "parameter serialized differently",
        lambda d: d["paths"]["/v2/pods"]["get"]["parameters"][1].pop("explode"),
        "PARAMETER_CHANGED: GET /v2/pods: query parameter gpuTypeId is serialized differently"
        " (explode false -> true).",
    ),
    (
        "response type widened to null",
        lambda d: _pod_own(d)["properties"]["name"].update(type=["string", "null"]),
        "TYPE_WIDENED: Pod.name may now be null.",
    ),
    (
        "response field no longer required",
        lambda d: _pod_own(d)["required"].remove("name"),
        "OUTPUT_FIELD_BECAME_OPTIONAL: Pod.name is no longer required in responses.",
    ),
    (
        "type changed",
        lambda d: _pod_own(d)["properties"]["costPerHr"].update(type="string"),
        "TYPE_CHANGED: Pod.costPerHr changed type from number to string.",
    ),
    (
        "success response removed",
        lambda d: d["paths"]["/v2/pods/{id}"]["delete"]["responses"].update(
            {"200": d["paths"]["/v2/pods/{id}"]["delete"]["responses"].pop("204")}
        ),
        "RESPONSE_REMOVED: DELETE /v2/pods/{id} response 204 was removed.",
    ),
]


@pytest.mark.parametrize(
    ("edit", "expected"), [(edit, line) for _, edit, line in BREAKING], ids=[c[0] for c in BREAKING]
)
def test_v2_schema_diff_detects_each_breaking_kind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], edit: Edit, expected: str
) -> None:
    status, out = _v2_diff(tmp_path, capsys, edit)
    assert status == 1
    breaking = out.split("Dangerous changes", 1)[0]
    assert f"Breaking changes (1):\n  {expected}\n" in breaking, out


def test_v2_schema_diff_lists_additions_as_non_breaking(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def add_path(document: dict[str, Any]) -> None:
        listing = copy.deepcopy(document["paths"]["/v2/pods"]["get"])
        document["paths"]["/v2/templates"] = {"get": listing | {"operationId": "listTemplates"}}

    def add_operation(document: dict[str, Any]) -> None:
        deletion = document["paths"]["/v2/pods/{id}"]["delete"]
        document["paths"]["/v2/pods/{id}"]["get"] = deletion | {"operationId": "getPod"}

    def add_optional_parameter(document: dict[str, Any]) -> None:
        limit = {"name": "limit", "in": "query", "schema": {"type": "integer"}}
        document["paths"]["/v2/pods"]["get"]["parameters"].append(limit)

    status, out = _v2_diff(
        tmp_path,
        capsys,
        add_path,
        add_operation,
        add_optional_parameter,
        lambda d: _schema(d, "CreatePodRequest")["properties"].update(ports={"type": "string"}),
        lambda d: _pod_own(d)["properties"].update(uptime={"type": "integer"}),
        lambda d: _schema(d, "CreatePodRequest")["properties"]["cloud"]["enum"].append("SPOT"),
        lambda d: _schema(d, "PodStatus")["enum"].append("HIBERNATING"),
        lambda d: d["components"]["schemas"].update(Template={"type": "object"}),
    )
    assert status == 0, out
    assert "Breaking changes (0):\n" in out
    dangerous, additions = out.split("Dangerous changes", 1)[1].split("Non-breaking additions", 1)
    # PodStatus reaches responses, where a new value is news to old clients
    assert "ENUM_VALUE_ADDED: HIBERNATING was added to PodStatus (responses may" in dangerous
    for line in (
        "PATH_ADDED: /v2/templates was added (GET).",
        "OPERATION_ADDED: GET /v2/pods/{id} (getPod) was added.",
        "PARAMETER_ADDED: GET /v2/pods: optional query parameter limit was added.",
        "FIELD_ADDED: CreatePodRequest.ports was added (optional).",
        "FIELD_ADDED: Pod.uptime was added (optional).",
        "ENUM_VALUE_ADDED: SPOT was added to CreatePodRequest.cloud.",
        "SCHEMA_ADDED: Template was added.",
    ):
        assert f"\n  {line}\n" in additions, line


def test_v2_schema_diff_judges_changes_by_direction(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A response that may carry less, or a request that may carry more, breaks nobody."""
    status, out = _v2_diff(
        tmp_path,
        capsys,
        lambda d: _pod_own(d)["properties"]["costPerHr"].update(type="integer"),  # output narrower
        lambda d: _schema(d, "CreatePodRequest")["properties"]["name"].pop("maxLength"),  # looser
        lambda d: _schema(d, "CreatePodRequest")["required"].remove("gpuCount"),  # input optional
    )
    assert (status, out.splitlines()[1]) == (0, "No breaking or dangerous changes; nothing added.")


def test_v2_schema_diff_reports_an_inherited_field_once_at_its_component(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def drop_id(document: dict[str, Any]) -> None:
        resource = _schema(document, "Resource")
        del resource["properties"]["id"]
        resource["required"] = []

    status, out = _v2_diff(tmp_path, capsys, drop_id)
    assert status == 1
    assert "Breaking changes (1):\n  FIELD_REMOVED: Resource.id was removed.\n" in out
    assert "Pod.id" not in out


def test_v2_schema_diff_ignores_prose_and_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def reword(document: dict[str, Any]) -> None:
        document["info"]["description"] = "New words."
        document["paths"]["/v2/pods"]["get"]["summary"] = "Lists every pod"
        _schema(document, "PodStatus")["x-enum-varnames"] = ["Running", "Exited"]
        _pod_own(document)["required"].reverse()

    status, out = _v2_diff(tmp_path, capsys, reword)
    assert status == 0
    assert out.splitlines()[1] == "No breaking or dangerous changes; nothing added."


def test_v2_schema_diff_of_the_committed_snapshot_with_itself_finds_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["--no-graphql", "--v2-file", str(V2_SNAPSHOT)]  # --v2-old defaults to the snapshot
    assert schema_diff.main(argv) == 0
    out = capsys.readouterr().out
    assert out == (
        "Comparing schema/runpod-rest-v2.openapi.json with schema/runpod-rest-v2.openapi.json\n"
        "No breaking or dangerous changes; nothing added.\n"
    )


def test_schema_diff_compares_graphql_and_v2_in_one_run(
    server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = _write_json(tmp_path / "old.json", _v2_document())
    argv = ["--old", str(SDL), "--new", str(SDL), "--v2-old", str(old)]
    assert schema_diff.main([*argv, "--v2-url", f"{server}/v2/openapi.json"]) == 0
    out = capsys.readouterr().out
    assert out.count("Comparing ") == 2
    assert out.count("No breaking or dangerous changes") == 2


def test_v2_schema_diff_refuses_an_unreadable_description(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--no-graphql", "--v2-file", str(tmp_path / "missing.json")]
    assert schema_diff.main(argv) == 2
    assert "cannot read" in capsys.readouterr().err
