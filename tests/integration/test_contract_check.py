"""`make contract-check` (codegen/contract_check.py) against the emulator over loopback.

The emulator's control plane is built from an SDL of the test's choosing: the committed one
(no drift), or one edited the way a server drifts (a field, argument, input field, enum
value or type gone; an input field the server requires or types differently). Every
resolver of its schema is wrapped to count calls, and its state is compared before and
after: the check must find the drift and never execute anything.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
from graphql import (
    EnumTypeDefinitionNode,
    ExecutionResult,
    GraphQLObjectType,
    GraphQLSchema,
    InputObjectTypeDefinitionNode,
    InputValueDefinitionNode,
    NamedTypeNode,
    NameNode,
    NonNullTypeNode,
    NoUnusedVariablesRule,
    ObjectTypeDefinitionNode,
    OperationDefinitionNode,
    TypeDefinitionNode,
    build_schema,
    default_field_resolver,
    execute,
    parse,
    print_ast,
    specified_rules,
    validate,
)

from codegen import contract_check
from runpod_typed.emulator import Emulator, RunningEmulator
from runpod_typed.emulator.control_plane import ControlPlane, load_sdl

KEY = "rp_contract_check_key_0123456789"
OPERATIONS = contract_check.OPERATIONS
#: the operations that select Pod.costPerHr (PodFields, and a cluster's pods)
POD_OPERATIONS = {
    "Pods", "Pod", "CreatePod", "CreateSpotPod", "CreateCpuPod", "EditPod", "ResumePod",
    "BidResumePod", "StopPod", "CreateCluster",
}  # fmt: skip


# --- an emulator on a chosen SDL, with every resolver counted ----------------------------------

Edit = Callable[[dict[str, Any]], None]


def edited_sdl(*edits: Edit) -> str:
    """The shipped SDL with `edits` applied to its type definitions (name -> node)."""
    document = parse(load_sdl())
    types: dict[str, Any] = {
        d.name.value: d for d in document.definitions if isinstance(d, TypeDefinitionNode)
    }
    for edit in edits:
        edit(types)
    return print_ast(document)


def drop_member(type_name: str, member: str) -> Edit:
    """Remove a field, input field or enum value."""

    def edit(types: dict[str, Any]) -> None:
        node = types[type_name]
        attribute = "values" if isinstance(node, EnumTypeDefinitionNode) else "fields"
        kept = tuple(m for m in getattr(node, attribute) if m.name.value != member)
        assert len(kept) == len(getattr(node, attribute)) - 1, f"{type_name}.{member} exists"
        setattr(node, attribute, kept)

    return edit


def drop_argument(type_name: str, field_name: str, argument: str) -> Edit:
    def edit(types: dict[str, Any]) -> None:
        node = types[type_name]
        assert isinstance(node, ObjectTypeDefinitionNode)
        (owner,) = (f for f in node.fields or () if f.name.value == field_name)
        kept = tuple(a for a in owner.arguments or () if a.name.value != argument)
        assert len(kept) == len(owner.arguments or ()) - 1
        owner.arguments = kept

    return edit


def require_input_field(type_name: str, field_name: str) -> Edit:
    """Make an input field non-null: the server requires what the SDL calls optional."""

    def edit(types: dict[str, Any]) -> None:
        node = types[type_name]
        assert isinstance(node, InputObjectTypeDefinitionNode)
        (member,) = (f for f in node.fields or () if f.name.value == field_name)
        member.type = NonNullTypeNode(type=member.type)

    return edit


def add_required_input_field(type_name: str, field_name: str) -> Edit:
    def edit(types: dict[str, Any]) -> None:
        node = types[type_name]
        assert isinstance(node, InputObjectTypeDefinitionNode)
        string = NonNullTypeNode(type=NamedTypeNode(name=NameNode(value="String")))
        added = InputValueDefinitionNode(
            name=NameNode(value=field_name), type=string, directives=()
        )
        node.fields = (*(node.fields or ()), added)

    return edit


def rename_input_type(old: str, new: str) -> Edit:
    """The server calls an input type by another name (and uses it where ours was)."""

    def edit(types: dict[str, Any]) -> None:
        types[old].name = NameNode(value=new)
        for node in types.values():
            for member in getattr(node, "fields", None) or ():
                for argument in getattr(member, "arguments", None) or ():
                    named = argument.type
                    while not isinstance(named, NamedTypeNode):
                        named = named.type
                    if named.name.value == old:
                        named.name = NameNode(value=new)

    return edit


def count_resolvers(schema: GraphQLSchema) -> list[str]:
    """Wrap every field resolver of `schema` (the default one too); the list fills with the
    coordinates of the fields resolved."""
    calls: list[str] = []
    for named in schema.type_map.values():
        if not isinstance(named, GraphQLObjectType) or named.name.startswith("__"):
            continue
        for name, definition in named.fields.items():

            def counting(
                parent: Any,
                info: Any,
                _inner: Any = definition.resolve or default_field_resolver,
                _at: str = f"{named.name}.{name}",
                **arguments: Any,
            ) -> Any:
                calls.append(_at)
                return _inner(parent, info, **arguments)

            definition.resolve = counting
    return calls


class Server:
    def __init__(self, running: RunningEmulator, plane: ControlPlane, calls: list[str]) -> None:
        self.running, self.plane, self.calls = running, plane, calls

    @property
    def url(self) -> str:
        return self.running.graphql_url

    def state(self) -> dict[str, str]:
        """Every record of the control plane, as text."""
        return {k: repr(v) for k, v in vars(self.plane.state).items() if k != "lock"}


@contextmanager
def serve(sdl: str, api_key: str | None = KEY) -> Iterator[Server]:
    emulator = Emulator(api_key=api_key)
    plane = ControlPlane(sdl=sdl)
    calls = count_resolvers(plane.schema)
    emulator.app.control_plane = plane  # the app builds its GraphQL app on this plane
    with emulator.serve() as running:
        yield Server(running, plane, calls)


@pytest.fixture(scope="module")
def matching() -> Iterator[Server]:
    with serve(load_sdl()) as server:
        yield server


def check(server: Server, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = contract_check.main(["--url", server.url, *argv], environ={"RUNPOD_API_KEY": KEY})
    out, err = capsys.readouterr()
    return status, out, err


def findings(out: str) -> dict[str, set[str]]:
    """Operation name -> its findings, read back from the report."""
    found: dict[str, set[str]] = {}
    operation = None
    for line in out.splitlines():
        if line.startswith("  ") and not line.startswith("    "):
            operation = line.split()[-1]
        elif line.startswith("    ") and operation is not None:  # suggestions left out
            found.setdefault(operation, set()).add(
                re.sub(r" \(Did you mean .*\)$", "", line.strip())
            )
        elif not line.startswith(" "):
            operation = None
    return found


def graphql_counters(server: Server) -> tuple[int, Counter[str]]:
    """The emulator's GraphQL requests, and its answers by status."""
    counters = server.running.counters()
    requests = counters["requests"].get("graphql", 0)
    return requests, Counter(counters["responses"].get("graphql", {}))


@functools.cache
def probe_count() -> int:
    schema = build_schema(load_sdl())
    return len(contract_check.build_probes(schema, contract_check.load_operations(OPERATIONS)))


# --- the matching schema: nothing to report, nothing executed ----------------------------------


def test_against_the_matching_schema_it_reports_nothing_and_executes_nothing(
    matching: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    before, counted = matching.state(), graphql_counters(matching)
    status, out, err = check(matching, capsys)

    assert (status, err) == (0, "")
    total = probe_count()
    assert f"No drift: {matching.url} knows every field" in out
    assert f"the {total} operations use." in out
    assert matching.calls == []  # no resolver ran, not even the default one
    assert matching.state() == before
    requests, responses = graphql_counters(matching)
    assert requests - counted[0] == total
    # the emulator answers 200 whenever an operation executed, 400 when it was refused
    assert responses - counted[1] == Counter({"400": total})
    assert KEY not in out


def test_the_resolver_count_would_see_an_execution(matching: Server) -> None:
    """The instrument works: an ordinary query runs resolvers and shows up in the count."""
    answer = httpx.post(
        matching.url, json={"query": "{ myself { id } }"}, headers={"Authorization": KEY}
    )
    assert answer.status_code == 200 and answer.json()["data"]["myself"]["id"]
    assert "Query.myself" in matching.calls and "User.id" in matching.calls
    matching.calls.clear()


def test_every_operation_is_probed_and_every_probe_names_the_guard() -> None:
    schema = build_schema(load_sdl())
    operations = contract_check.load_operations(OPERATIONS)
    probes = contract_check.build_probes(schema, operations)
    named = [
        d.name.value
        for d in operations.definitions
        if isinstance(d, OperationDefinitionNode) and d.name is not None
    ]
    assert [p.name for p in probes] == named and len(named) > 30
    for probe in probes:
        assert f"${contract_check.GUARD}: Boolean!" in probe.document
        contract_check.preflight(schema, probe)  # raises unless the guard alone fails it


# --- a drifted server --------------------------------------------------------------------------


def test_it_names_a_field_the_server_lacks_and_nothing_else(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with serve(edited_sdl(drop_member("Pod", "costPerHr"))) as server:
        before = server.state()
        status, out, err = check(server, capsys)
        assert server.calls == [] and server.state() == before
        responses = graphql_counters(server)[1]

    assert (status, err) == (1, ""), out
    found = findings(out)
    assert found == {name: {"unknown field: Pod.costPerHr"} for name in POD_OPERATIONS}, out
    assert (
        "codegen/operations/pods.graphql\n  query Pods\n    unknown field: Pod.costPerHr\n" in out
    )
    assert f"Drift: {len(POD_OPERATIONS)} of {probe_count()} operations" in out
    assert f"  unknown field: Pod.costPerHr [in {len(POD_OPERATIONS)} operations]" in out
    assert responses == Counter({"400": probe_count()})


def test_it_names_input_fields_enum_values_arguments_and_types_the_server_sees_otherwise(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """What a variable carries is invisible to validation; the literal copies show it."""
    sdl = edited_sdl(
        drop_member("EndpointInput", "scalerValue"),
        drop_member("EndpointNetworkVolumeInput", "dataCenterId"),
        require_input_field("EndpointInput", "templateId"),
        drop_member("CloudTypeEnum", "COMMUNITY"),
        drop_argument("GpuType", "lowestPrice", "input"),
        add_required_input_field("SaveTemplateInput", "region"),
        rename_input_type("SecretCreateInput", "SecretInput"),
    )
    with serve(sdl) as server:
        before = server.state()
        status, out, err = check(server, capsys)
        assert server.calls == [] and server.state() == before

    assert (status, err) == (1, ""), out
    community = "unknown enum value: CloudTypeEnum.COMMUNITY"
    assert findings(out) == {
        "SaveEndpoint": {
            "unknown input field: EndpointInput.scalerValue",
            "unknown input field: EndpointNetworkVolumeInput.dataCenterId",
            "type differs: EndpointInput.templateId: the SDL has String, the server expects"
            " String!",
        },
        "CreatePod": {community},
        "CreateSpotPod": {community},
        "CreateCpuPod": {community},
        "GpuTypes": {"unknown argument: GpuType.lowestPrice(input:)"},
        "SaveTemplate": {"required input field not sent: SaveTemplateInput.region: String!"},
        "CreateSecret": {"unknown type: SecretCreateInput"},
    }, out
    assert "unknown type: SecretCreateInput (Did you mean 'SecretInput'" in out


def test_a_drifted_copy_validates_locally_the_same_way() -> None:
    """The oracle: graphql-core on the drifted SDL rejects the same operations the check
    named (the check's answer came from the server, over HTTP)."""
    schema = build_schema(edited_sdl(drop_member("Pod", "costPerHr")))
    operations = contract_check.load_operations(OPERATIONS)
    probes = contract_check.build_probes(build_schema(load_sdl()), operations)
    broken = {
        p.name
        for p in probes
        if any("costPerHr" in e.message for e in validate(schema, parse(p.document)))
    }
    assert broken == POD_OPERATIONS


# --- why nothing can execute -------------------------------------------------------------------


def test_validation_reports_the_guard_beside_every_other_error() -> None:
    """graphql-core (like graphql-js) runs every rule over the whole document: the guard's
    error does not hide the drift, nor the drift the guard."""
    schema = build_schema(edited_sdl(drop_member("Pod", "costPerHr")))
    probes = contract_check.build_probes(
        build_schema(load_sdl()), contract_check.load_operations(OPERATIONS)
    )
    (pods,) = (p for p in probes if p.name == "Pods")
    messages = [e.message for e in validate(schema, parse(pods.document))]
    assert len(messages) == 2, messages
    assert f"Variable '${contract_check.GUARD}' is never used in operation 'Pods'." in messages
    assert any(m.startswith("Cannot query field 'costPerHr' on type 'Pod'.") for m in messages)


def test_a_server_that_skips_the_unused_variable_rule_still_executes_nothing() -> None:
    """Without "All Variables Used", variable coercion stops every probe: the guard (and
    each required variable) has no value. No field is resolved."""
    schema = build_schema(load_sdl())
    calls = count_resolvers(schema)
    rules = [rule for rule in specified_rules if rule is not NoUnusedVariablesRule]
    probes = contract_check.build_probes(schema, contract_check.load_operations(OPERATIONS))
    for probe in probes:
        document = parse(probe.document)
        assert validate(schema, document, rules) == []
        result = execute(schema, document, operation_name=probe.name, root_value={})
        assert isinstance(result, ExecutionResult)
        assert result.data is None
        messages = [e.message for e in result.errors or ()]
        assert (
            f"Variable '${contract_check.GUARD}' of required type 'Boolean!' was not provided."
            in messages
        )
    assert calls == []


# --- reading the answers of graphql-js (RunPod's Apollo server) --------------------------------


def test_graphql_js_messages_are_read_as_well() -> None:
    """graphql-js quotes names with double quotes and words some messages differently
    (v15 and v16); Apollo marks validation errors with GRAPHQL_VALIDATION_FAILED."""
    probe = contract_check.Probe(
        name="SaveEndpoint",
        kind="mutation",
        source="codegen/operations/endpoints.graphql",
        document="",
        leaves={"contractCheck_EndpointInput_name": ("EndpointInput.name", "String")},
        sent_types=frozenset({"EndpointInput"}),
    )
    validation = {"code": "GRAPHQL_VALIDATION_FAILED"}
    errors = [
        {"message": 'Variable "$contractCheckNeverExecutes" is never used in operation "SaveEndpoint".'},
        {"message": 'Variable "$input" of required type "EndpointInput!" was not provided.'},
        {"message": 'Cannot query field "costPerHr" on type "Pod". Did you mean "costPerHour"?'},
        {"message": 'Cannot query field "costPerHr" on type "Pod". Did you mean "costPerHour"?'},
        {"message": 'Unknown argument "input" on field "GpuType.lowestPrice".'},
        {"message": 'Unknown argument "input" on field "specifics" of type "CpuFlavor".'},
        {"message": 'Unknown type "Port".'},
        {"message": 'Field "workersStandby" is not defined by type "EndpointInput".'},
        {"message": 'Value "COMMUNITY" does not exist in "CloudTypeEnum" enum.'},
        {"message": 'Field "EndpointInput.region" of required type "String!" was not provided.'},
        {"message": 'Field "pod" argument "input" of type "PodFilter!" is required, but it was not provided.'},
        {"message": 'Variable "$contractCheck_EndpointInput_name" of type "String" used in position expecting type "String!".'},
        {"message": 'Fragment "PodFields" cannot be spread here.', "extensions": validation},
        {"message": "Too many requests", "extensions": {"code": "RATE_LIMITED"}},
    ]  # fmt: skip
    outcome = contract_check.classify(probe, errors)
    assert [str(f) for f in outcome.findings] == [
        'unknown field: Pod.costPerHr (Did you mean "costPerHour"?)',
        "unknown argument: GpuType.lowestPrice(input:)",
        "unknown argument: CpuFlavor.specifics(input:)",
        "unknown type: Port (only the check names it; the SDK's documents do not)",
        "unknown input field: EndpointInput.workersStandby",
        "unknown enum value: CloudTypeEnum.COMMUNITY",
        "required input field not sent: EndpointInput.region: String!",
        "required argument not sent: pod(input: PodFilter!)",
        "type differs: EndpointInput.name: the SDL has String, the server expects String!",
        'other validation error: Fragment "PodFields" cannot be spread here.',
    ]
    assert outcome.unexpected == ["Too many requests"]


# --- the key: only to the URL, never printed ---------------------------------------------------


def test_a_wrong_key_is_refused_and_never_printed(
    matching: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = "rp_wrong_key_abcdefghijklmnop"
    status = contract_check.main(["--url", matching.url], environ={"RUNPOD_API_KEY": wrong})
    out, err = capsys.readouterr()
    assert status == 2
    assert "answered HTTP 401: check RUNPOD_API_KEY" in err
    assert wrong not in out + err


def test_without_a_key_nothing_is_sent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_network(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("nothing may be sent without a key")

    monkeypatch.setattr(httpx.Client, "send", no_network)
    monkeypatch.setattr(contract_check, "CONFIG_PATH", tmp_path / "missing.toml")
    assert contract_check.main([], environ={}) == 2
    assert "no API key: set RUNPOD_API_KEY" in capsys.readouterr().err


def test_the_key_comes_from_the_environment_or_the_config_profile(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[default]\napi_key = "from-default"\n[work]\napi_key = "from-work"\n')
    assert contract_check.load_key({"RUNPOD_API_KEY": " from-env "}, config) == "from-env"
    assert contract_check.load_key({}, config) == "from-default"
    assert contract_check.load_key({"RUNPOD_PROFILE": "work"}, config) == "from-work"
    with pytest.raises(contract_check.CheckError, match=r"api_key under \[other\]"):
        contract_check.load_key({"RUNPOD_PROFILE": "other"}, config)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://api.example.test/graphql", "plain http:// to api.example.test"),
        ("https://api.example.test/graphql?api_key=x", "must not contain a user name"),
        ("https://user:pw@api.example.test/graphql", "must not contain a user name"),
        ("ftp://api.example.test/graphql", "absolute http(s) URL"),
    ],
)
def test_urls_that_would_expose_the_key_are_refused(
    url: str, reason: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_network(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("nothing may be sent")

    monkeypatch.setattr(httpx.Client, "send", no_network)
    assert contract_check.main(["--url", url], environ={"RUNPOD_API_KEY": KEY}) == 2
    err = capsys.readouterr().err
    assert reason in err and KEY not in err


class _Recorder(BaseHTTPRequestHandler):
    """/redirect sends the client elsewhere; /executes answers as if it ran the operation;
    /lenient is graphql-core without the "All Variables Used" rule, answering as graphql-core
    formats a result (data: null beside request errors). Every request's path and
    Authorization header are recorded."""

    seen: ClassVar[list[tuple[str, str | None]]] = []
    schema = build_schema(load_sdl())
    calls = count_resolvers(schema)

    def do_POST(self) -> None:
        self.seen.append((self.path, self.headers.get("Authorization")))
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path == "/redirect":
            self.send_response(307)
            self.send_header("Location", "/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        answer: dict[str, Any] = {"data": {"podTerminate": None}}
        if self.path == "/lenient":
            document = parse(request["query"])
            rules = [rule for rule in specified_rules if rule is not NoUnusedVariablesRule]
            errors = validate(self.schema, document, rules)
            if errors:
                answer = {"errors": [error.formatted for error in errors]}
            else:
                result = execute(
                    self.schema,
                    document,
                    variable_values=request["variables"],
                    operation_name=request["operationName"],
                )
                assert isinstance(result, ExecutionResult)
                answer = dict(result.formatted)
        body = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def recorder() -> Iterator[str]:
    _Recorder.seen.clear()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_a_redirect_is_not_followed(recorder: str, capsys: pytest.CaptureFixture[str]) -> None:
    status = contract_check.main(["--url", f"{recorder}/redirect"], environ={"RUNPOD_API_KEY": KEY})
    assert status == 2
    assert "(a redirect): not followed" in capsys.readouterr().err
    assert _Recorder.seen == [("/redirect", f"Bearer {KEY}")]


def test_an_answer_with_data_stops_the_check_at_once(
    recorder: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A server that executed a probe (none should) is named, and nothing more is sent."""
    status = contract_check.main(["--url", f"{recorder}/executes"], environ={"RUNPOD_API_KEY": KEY})
    out = capsys.readouterr().out
    assert status == 2
    assert "THE SERVER EXECUTED THIS PROBE" in out
    assert len(_Recorder.seen) == 1


def test_a_server_without_the_unused_variable_rule_executes_nothing_either(
    recorder: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Over HTTP: the missing variable values stop every probe, and an answer with
    data: null and request errors only is not taken for an execution."""
    _Recorder.calls.clear()
    status = contract_check.main(["--url", f"{recorder}/lenient"], environ={"RUNPOD_API_KEY": KEY})
    out = capsys.readouterr().out
    assert status == 0, out
    assert "No drift" in out
    assert _Recorder.calls == []
    assert len(_Recorder.seen) == probe_count()
