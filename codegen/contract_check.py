"""Find drift between the SDK's GraphQL operations and a live server, with introspection off
and without executing anything.

    python -m codegen.contract_check [--url URL] [--operations DIR] [--schema FILE]
        [--print-probes]

Each named operation in codegen/operations/*.graphql (with the fragments it uses) is sent
to --url (default RunPod's API) as a *probe*: the operation as the SDK sends it, plus

- a guard: one more variable, `$contractCheckNeverExecutes: Boolean!`, declared and used
  nowhere, and no variable values at all;
- for every field whose arguments take an input object or an enum from a variable, aliased
  copies of the field (selecting only `__typename`) whose arguments spell that input out
  as a literal: every input field of the SDL, nested input objects as nested literals,
  enum values as literals (each value of a list-of-enum field at once; the values of a
  single enum field over a few copies), any other leaf as a variable typed as in the SDL.
  The server checks literals against its own input types, so it names input fields,
  enum values and input types it lacks, input fields it now requires, and leaves whose
  type or nullability it sees differently; none of that is visible when a variable
  carries the input.

Why a probe never executes. Validation runs first and reports *all* its errors (graphql-js,
which RunPod's Apollo server runs, and graphql-core alike: each rule visits the whole
document; both stop at 100 errors); a document with any validation error is not executed
(GraphQL spec, 6.1 "Executing Requests": only a valid document is executed). The guard
fails validation by "All Variables Used" (spec 5.8.4), on its own and beside whatever else
the server finds, so the answer lists every unknown field, argument, type, input field or
enum value and nothing runs. Should a server skip that rule, the guard still stops it one
step later: the guard is non-null, has no default and gets no value, so coercing the
variable values (spec 6.1.2, before any field is resolved) fails with a request error;
every required variable of the operation itself is missing too. Before anything is sent,
each probe is checked locally against the SDL: validation must find the guard unused and
nothing else, and executing it with validation skipped must fail on the missing variables
without resolving a field. An answer that has `data` would mean the server executed a
probe anyway (so would an error with a field's `path`): the check stops at once and says
so.

Reported per operation: every field, argument, type, input field, enum value or directive
the server does not know ("Cannot query field ...", "Unknown argument ...", "Unknown type
...", "Field ... is not defined by type ...", "Value ... does not exist in ... enum"),
arguments and input fields the server requires that the SDK does not send, types that
differ, and any other validation error. The guard's own errors and missing variable values
are expected and not reported.

The key (RUNPOD_API_KEY, else `api_key` under [default] or [$RUNPOD_PROFILE] in
~/.runpod/config.toml) is sent only to --url, in the Authorization header: redirects are
not followed, plain http is refused except to a loopback address, and it is never printed
(server text is printed with the key masked).

Exit status: 0 no drift, 1 drift found, 2 the check could not be made (or was incomplete
without finding drift).
"""

from __future__ import annotations

import argparse
import copy
import ipaddress
import os
import re
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, cast
from urllib.parse import urlsplit

import httpx
from graphql import (
    ArgumentNode,
    DocumentNode,
    EnumValueNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    InlineFragmentNode,
    ListValueNode,
    NameNode,
    ObjectFieldNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    Source,
    ValueNode,
    VariableDefinitionNode,
    VariableNode,
    build_schema,
    execute,
    get_named_type,
    is_input_type,
    parse,
    parse_type,
    print_ast,
    type_from_ast,
    validate,
)

from codegen import OPERATIONS, ROOT, SDL

if sys.version_info >= (3, 11):
    import tomllib
else:  # the same parser, a dependency on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

DEFAULT_URL = "https://api.runpod.io/graphql"
KEY_VARIABLE = "RUNPOD_API_KEY"
PROFILE_VARIABLE = "RUNPOD_PROFILE"
CONFIG_PATH = Path("~/.runpod/config.toml")
TIMEOUT_SECONDS = 30.0
ATTEMPTS = 3

#: The guard variable: declared, never used, never given a value.
GUARD: Final = "contractCheckNeverExecutes"
#: Prefix of the probe's own names (aliases of the field copies, leaf variables).
PREFIX: Final = "contractCheck"


class CheckError(RuntimeError):
    """Why the check could not be made, in one line meant for the user (never the key)."""


# --- probes ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    """One operation as it is sent: the probe document and what its names stand for."""

    name: str
    kind: str  # query, mutation, subscription
    source: str  # the operation's file, relative to the repository
    document: str
    #: probe leaf variable -> (the SDL's input coordinate, e.g. "EndpointInput.name", its type)
    leaves: dict[str, tuple[str, str]]
    #: type names the operation itself sends (variable types, type conditions)
    sent_types: frozenset[str]


def _shown(path: Path) -> str:
    absolute = path.resolve()
    return absolute.relative_to(ROOT).as_posix() if absolute.is_relative_to(ROOT) else str(path)


def load_operations(directory: Path) -> DocumentNode:
    """All operation files as one document (fragments may cross files); each node keeps its
    file as `loc.source.name`."""
    definitions: list[Any] = []
    for path in sorted(directory.glob("*.graphql")):
        definitions += parse(Source(path.read_text(encoding="utf-8"), _shown(path))).definitions
    return DocumentNode(definitions=tuple(definitions))


def _selections(node: Any) -> Iterator[Any]:
    """Every selection under `node` (an operation, fragment, field or inline fragment)."""
    selection_set = getattr(node, "selection_set", None)
    for selection in selection_set.selections if selection_set is not None else ():
        yield selection
        yield from _selections(selection)


def _fragments_used(
    node: Any, fragments: Mapping[str, FragmentDefinitionNode], seen: dict[str, None]
) -> dict[str, None]:
    for selection in _selections(node):
        if isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name not in seen and name in fragments:
                seen[name] = None
                _fragments_used(fragments[name], fragments, seen)
    return seen


def _type_names(nodes: Iterable[Any]) -> Iterator[str]:
    """Names of the types a document names: variable types and type conditions."""
    for node in nodes:
        if isinstance(node, OperationDefinitionNode):
            for definition in node.variable_definitions or ():
                type_node: Any = definition.type
                while not hasattr(type_node, "name") or type_node.name is None:
                    type_node = type_node.type
                yield type_node.name.value
        condition = getattr(node, "type_condition", None)
        if condition is not None:
            yield condition.name.value
        for selection in _selections(node):
            if isinstance(selection, InlineFragmentNode) and selection.type_condition:
                yield selection.type_condition.name.value


class _ProbeBuilder:
    """Adds the guard and the literal copies to one operation (and copies of its fragments)."""

    def __init__(self, schema: GraphQLSchema, operation: OperationDefinitionNode) -> None:
        self.schema = schema
        self.variable_types: dict[str, GraphQLInputType] = {}
        for definition in operation.variable_definitions or ():
            declared = type_from_ast(schema, definition.type)
            if not is_input_type(declared):
                raise CheckError(
                    f"operation {operation.name.value if operation.name else '?'}: variable "
                    f"${definition.variable.name.value} has a type the SDL does not define"
                )
            self.variable_types[definition.variable.name.value] = cast(GraphQLInputType, declared)
        self.taken = set(self.variable_types) | {GUARD}
        self.leaves: dict[str, tuple[str, str]] = {}
        self.declarations: dict[str, GraphQLInputType] = {}
        self._by_coordinate: dict[tuple[str, str], str] = {}
        self._aliases = 0
        self._stack: list[str] = []
        self._widest = 1

    def _leaf(self, coordinate: str, type_: GraphQLInputType) -> VariableNode:
        """A variable for the value at `coordinate`, declared with the SDL's type."""
        key = (coordinate, str(type_))
        name = self._by_coordinate.get(key)
        if name is None:
            base = f"{PREFIX}_" + re.sub(r"\W", "_", coordinate)
            name, n = base, 1
            while name in self.taken:
                n += 1
                name = f"{base}_{n}"
            self.taken.add(name)
            self._by_coordinate[key] = name
            self.leaves[name] = key
            self.declarations[name] = type_
        return VariableNode(name=NameNode(value=name))

    def _literal(self, type_: GraphQLInputType, coordinate: str, k: int) -> ValueNode:
        """The value at `coordinate` spelled out for the `k`-th copy."""
        nullable: Any = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
        named = get_named_type(nullable)
        if isinstance(nullable, GraphQLList):
            item: Any = nullable.of_type
            if isinstance(item, GraphQLNonNull):
                item = item.of_type
            if isinstance(item, GraphQLEnumType):  # a list of enum values: all of them at once
                return ListValueNode(values=tuple(EnumValueNode(value=v) for v in item.values))
            if isinstance(named, GraphQLInputObjectType | GraphQLEnumType):
                return ListValueNode(values=(self._literal(nullable.of_type, coordinate, k),))
            return self._leaf(coordinate, type_)
        if isinstance(nullable, GraphQLEnumType):
            values = list(nullable.values)
            self._widest = max(self._widest, len(values))
            return EnumValueNode(value=values[k % len(values)])
        if isinstance(nullable, GraphQLInputObjectType) and nullable.name not in self._stack:
            self._stack.append(nullable.name)
            fields = tuple(
                ObjectFieldNode(
                    name=NameNode(value=name),
                    value=self._literal(input_field.type, f"{nullable.name}.{name}", k),
                )
                for name, input_field in nullable.fields.items()
            )
            self._stack.pop()
            return ObjectValueNode(fields=fields)
        return self._leaf(coordinate, type_)  # scalars, and a recursive input object

    def _spelled_out(self, argument: ArgumentNode) -> GraphQLInputType | None:
        """The SDL type of the variable `argument` passes, if it is worth spelling out."""
        if not isinstance(argument.value, VariableNode):
            return None
        declared = self.variable_types.get(argument.value.name.value)
        named = get_named_type(declared) if declared is not None else None
        return declared if isinstance(named, GraphQLInputObjectType | GraphQLEnumType) else None

    def _copies(self, node: FieldNode) -> list[FieldNode]:
        spelled = {a.name.value: self._spelled_out(a) for a in node.arguments or ()}
        if not any(spelled.values()):
            return []
        copies: list[FieldNode] = []
        self._widest, k = 1, 0
        while k < self._widest:
            arguments = []
            for argument in node.arguments or ():
                declared = spelled[argument.name.value]
                value = argument.value
                if declared is not None:
                    assert isinstance(value, VariableNode)
                    value = self._literal(declared, f"${value.name.value}", k)
                arguments.append(ArgumentNode(name=argument.name, value=value))
            self._aliases += 1
            typename = FieldNode(name=NameNode(value="__typename"), arguments=(), directives=())
            copies.append(
                FieldNode(
                    alias=NameNode(value=f"{PREFIX}{self._aliases}"),
                    name=node.name,
                    arguments=tuple(arguments),
                    directives=(),
                    selection_set=SelectionSetNode(selections=(typename,))
                    if node.selection_set is not None
                    else None,
                )
            )
            k += 1
        return copies

    def add_copies(self, node: Any) -> None:
        """Insert the literal copies beside each field that passes an input by variable."""
        selection_set = getattr(node, "selection_set", None)
        if selection_set is None:
            return
        selections: list[Any] = []
        for selection in selection_set.selections:
            self.add_copies(selection)
            selections.append(selection)
            if isinstance(selection, FieldNode):
                selections += self._copies(selection)
        selection_set.selections = tuple(selections)

    def declare(self, operation: OperationDefinitionNode) -> None:
        """Declare the leaf variables and, last, the guard."""
        declared = [
            VariableDefinitionNode(
                variable=VariableNode(name=NameNode(value=name)),
                type=parse_type(str(type_)),
                directives=(),
            )
            for name, type_ in self.declarations.items()
        ]
        guard = VariableDefinitionNode(
            variable=VariableNode(name=NameNode(value=GUARD)),
            type=parse_type("Boolean!"),
            directives=(),
        )
        operation.variable_definitions = (*(operation.variable_definitions or ()), *declared, guard)


def build_probes(schema: GraphQLSchema, operations: DocumentNode) -> list[Probe]:
    """One probe per named operation, in file order."""
    fragments = {
        d.name.value: d for d in operations.definitions if isinstance(d, FragmentDefinitionNode)
    }
    probes: list[Probe] = []
    for definition in operations.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        if definition.name is None:
            raise CheckError("every operation in the operation files must have a name")
        used = _fragments_used(definition, fragments, {})
        operation = copy.deepcopy(definition)
        copies = [copy.deepcopy(fragments[name]) for name in used]
        sent_types = frozenset(_type_names([operation, *copies]))
        builder = _ProbeBuilder(schema, operation)
        for node in (operation, *copies):
            builder.add_copies(node)
        builder.declare(operation)
        loc = definition.loc
        probes.append(
            Probe(
                name=definition.name.value,
                kind=definition.operation.value,
                source=loc.source.name if loc is not None else "operations",
                document=print_ast(DocumentNode(definitions=(operation, *copies))),
                leaves=builder.leaves,
                sent_types=sent_types,
            )
        )
    return probes


def preflight(schema: GraphQLSchema, probe: Probe) -> None:
    """Raise CheckError unless `probe`, against the SDL, fails validation on the guard alone
    and, with validation skipped, fails before resolving any field."""
    document = parse(probe.document)
    messages = [error.message for error in validate(schema, document)]
    expected = f"Variable '${GUARD}' is never used in operation '{probe.name}'."
    if messages != [expected]:
        raise CheckError(
            f"{probe.source}: operation {probe.name} does not validate against the SDL as a "
            f"probe must ({'; '.join(messages) or 'no error at all'}); run make schema-diff"
        )
    resolved: list[str] = []

    def resolver(*_: Any, **__: Any) -> None:
        resolved.append("called")

    result = execute(schema, document, field_resolver=resolver, operation_name=probe.name)
    if not isinstance(result, ExecutionResult) or result.data is not None or resolved:
        raise CheckError(f"{probe.source}: the probe of {probe.name} would execute")


# --- answers -----------------------------------------------------------------------------------

_Q = r"[\"']"  # graphql-js quotes names with ", graphql-core with '
_NAME = r"[_A-Za-z][_0-9A-Za-z]*"
_TYPE = r"[^\"']+"

#: (kind, pattern, how the thing is named from the match's groups)
_PATTERNS: Final[tuple[tuple[str, re.Pattern[str], str], ...]] = tuple(
    (kind, re.compile(pattern.replace("Q", _Q).replace("N", _NAME).replace("T", _TYPE)), shown)
    for kind, pattern, shown in (
        ("unknown field", r"^Cannot query field Q(N)Q on type Q(N)Q", "{1}.{0}"),
        ("unknown argument", r"^Unknown argument Q(N)Q on field Q(N)\.(N)Q", "{1}.{2}({0}:)"),
        ("unknown argument", r"^Unknown argument Q(N)Q on field Q(N)Q of type Q(N)Q", "{2}.{1}({0}:)"),
        ("unknown argument", r"^Unknown argument Q(N)Q on directive Q@(N)Q", "@{1}({0}:)"),
        ("unknown type", r"^Unknown type Q(N)Q", "{0}"),
        ("unknown directive", r"^Unknown directive Q@(N)Q", "@{0}"),
        ("unknown input field", r"^Field Q(N)Q is not defined by type Q(N)Q", "{1}.{0}"),
        ("unknown enum value", r"^Value Q(N)Q does not exist in Q(N)Q enum", "{1}.{0}"),
        (
            "required argument not sent",
            r"^Field Q(N)Q argument Q(N)Q of type Q(T)Q is required",
            "{0}({1}: {2})",
        ),
        (
            "required input field not sent",
            r"^Field Q(N)\.(N)Q of required type Q(T)Q was not provided",
            "{0}.{1}: {2}",
        ),
        (
            "type differs",
            r"^Variable Q\$(N)Q of type Q(T)Q used in position expecting type Q(T)Q",
            "{0}",
        ),
    )
)  # fmt: skip
_MISSING_VALUE = re.compile(rf"^Variable {_Q}\$({_NAME}){_Q} of (non-null|required) type")
_SUGGESTION = re.compile(r"\s*(Did you mean .*\?)\s*$")
_TOO_MANY = "Too many validation errors"
_VALIDATION_CODES = frozenset({"GRAPHQL_VALIDATION_FAILED"})


@dataclass(frozen=True, order=True)
class Finding:
    kind: str
    subject: str
    hint: str = ""

    def __str__(self) -> str:
        return f"{self.kind}: {self.subject}" + (f" ({self.hint})" if self.hint else "")


@dataclass
class Outcome:
    """What the server said about one probe."""

    probe: Probe
    findings: list[Finding] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    executed: bool = False


def classify(probe: Probe, errors: Iterable[Any]) -> Outcome:
    """Sort the server's errors for `probe` into findings (each once), expected ones (the
    guard, missing variable values: dropped) and unexpected ones."""
    outcome = Outcome(probe)
    seen: set[Finding] = set()
    for error in errors:
        message = " ".join(str(error.get("message") if isinstance(error, dict) else error).split())
        extensions = error.get("extensions") if isinstance(error, dict) else None
        code = extensions.get("code") if isinstance(extensions, dict) else None
        finding = _finding(probe, message, code)
        if finding is None:
            continue
        if finding.kind == "unexpected":
            outcome.unexpected.append(finding.subject)
        elif finding not in seen:
            seen.add(finding)
            outcome.findings.append(finding)
    return outcome


def _finding(probe: Probe, message: str, code: object) -> Finding | None:
    if f"${GUARD}" in message:
        return None  # the guard: unused, or (validation skipped) without a value
    missing = _MISSING_VALUE.match(message)
    if missing is not None and "not provided" in message:
        return None  # no variable ever gets a value
    suggestion = _SUGGESTION.search(message)
    hint = suggestion.group(1) if suggestion else ""
    for kind, pattern, shown in _PATTERNS:
        match = pattern.match(message)
        if match is None:
            continue
        groups = match.groups()
        if kind == "type differs":
            name, ours, theirs = groups
            where, _ = probe.leaves.get(name, (f"${name}", ours))
            return Finding(kind, f"{where}: the SDL has {ours}, the server expects {theirs}")
        subject = shown.format(*groups)
        if kind == "unknown type" and groups[0] not in probe.sent_types:
            hint = "only the check names it; the SDK's documents do not" + (
                f"; {hint}" if hint else ""
            )
        return Finding(kind, subject, hint)
    if message.startswith(_TOO_MANY):
        return Finding("incomplete", "the server stopped validating at its error limit")
    if code in _VALIDATION_CODES:
        return Finding("other validation error", message)
    return Finding("unexpected", message)


# --- the key and the request -------------------------------------------------------------------


def load_key(environ: Mapping[str, str], config_path: Path = CONFIG_PATH) -> str:
    """RUNPOD_API_KEY, else `api_key` of the profile in ~/.runpod/config.toml."""
    key = environ.get(KEY_VARIABLE, "").strip()
    where = f"the {KEY_VARIABLE} environment variable"
    if not key:
        profile = environ.get(PROFILE_VARIABLE, "").strip() or "default"
        path = config_path.expanduser()
        where = f"[{profile}] api_key in {path}"
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            data = {}
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise CheckError(f"cannot read {path}: {type(exc).__name__}") from None
        table = data.get(profile)
        value = table.get("api_key") if isinstance(table, dict) else None
        key = value.strip() if isinstance(value, str) else ""
        if not key:
            raise CheckError(
                f"no API key: set {KEY_VARIABLE}, or api_key under [{profile}] in "
                f"{CONFIG_PATH} (`runpod config` writes it); the check needs a live server"
            )
    if not re.fullmatch(r"[\x21-\x7e]+", key):
        raise CheckError(f"the key from {where} contains spaces or non-printable characters")
    return key


def check_url(url: str) -> str:
    """`url` if a key may be sent to it: https, or http to a loopback address; no user
    name, password, query or fragment (a key must not travel in a URL)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CheckError(f"--url must be an absolute http(s) URL, got {url!r}")
    if "@" in parts.netloc or parts.query or parts.fragment:
        raise CheckError("--url must not contain a user name, password, query or fragment")
    if parts.scheme == "http":
        try:
            loopback = ipaddress.ip_address(parts.hostname).is_loopback
        except ValueError:
            loopback = parts.hostname == "localhost"
        if not loopback:
            raise CheckError(
                f"--url is plain http:// to {parts.hostname}, which would send the key "
                "unencrypted; use https:// (http is allowed to loopback addresses only)"
            )
    return url


class _Sender:
    def __init__(self, url: str, key: str) -> None:
        self.url = url
        self.client = httpx.Client(
            timeout=TIMEOUT_SECONDS,
            follow_redirects=False,
            headers={"Authorization": f"Bearer {key}", "User-Agent": "runpod-typed-contract-check"},
        )

    def close(self) -> None:
        self.client.close()

    def send(self, probe: Probe) -> dict[str, Any]:
        """The server's answer to `probe` (a JSON object), resent on 429/502/503/504 and
        connection errors: a probe never executes, so sending it again is harmless."""
        body = {"query": probe.document, "operationName": probe.name, "variables": {}}
        for attempt in range(1, ATTEMPTS + 1):
            last = attempt == ATTEMPTS
            try:
                response = self.client.post(self.url, json=body)
            except httpx.HTTPError as exc:
                if last:
                    raise CheckError(f"cannot reach {self.url}: {type(exc).__name__}") from None
                time.sleep(attempt)
                continue
            status = response.status_code
            if status in (429, 502, 503, 504) and not last:
                retry_after = response.headers.get("Retry-After", "")
                time.sleep(min(float(retry_after), 30.0) if retry_after.isdigit() else attempt)
                continue
            if 300 <= status < 400:
                raise CheckError(
                    f"{self.url} answered HTTP {status} (a redirect): not followed, so the key "
                    "goes nowhere else; give the final address as --url"
                )
            if status in (401, 403):
                raise CheckError(f"{self.url} answered HTTP {status}: check {KEY_VARIABLE}")
            try:
                answer = response.json()
            except ValueError:
                answer = None
            if not isinstance(answer, dict) or not (
                answer.get("data") is not None or isinstance(answer.get("errors"), list)
            ):
                raise CheckError(
                    f"{self.url} answered HTTP {status} without a GraphQL response: is it a "
                    "GraphQL endpoint?"
                )
            return answer
        raise AssertionError("unreachable")


def run(url: str, key: str, probes: list[Probe]) -> Iterator[Outcome]:
    """Send each probe in turn; stop at the first answer that shows an execution."""
    sender = _Sender(check_url(url), key)
    try:
        for probe in probes:
            answer = sender.send(probe)
            errors = answer.get("errors") or []
            outcome = classify(probe, errors)
            # data, or an error at a field's path, only come from execution; a request
            # error (validation, variable values) has neither (graphql-core sends data: null)
            outcome.executed = answer.get("data") is not None or any(
                isinstance(error, dict) and error.get("path") for error in errors
            )
            yield outcome
            if outcome.executed:
                return
    finally:
        sender.close()


# --- the report ------------------------------------------------------------------------------


def report(outcomes: list[Outcome], url: str, total: int) -> tuple[list[str], int]:
    """The lines to print and the exit status."""
    lines: list[str] = []
    current = None
    for outcome in outcomes:
        probe = outcome.probe
        if not (outcome.findings or outcome.unexpected or outcome.executed):
            continue
        if probe.source != current:
            current = probe.source
            lines.append(probe.source)
        lines.append(f"  {probe.kind} {probe.name}")
        lines += (f"    {finding}" for finding in outcome.findings)
        lines += (f"    unexpected answer: {message}" for message in outcome.unexpected)
        if outcome.executed:
            lines.append(
                "    THE SERVER EXECUTED THIS PROBE (its answer has data): stopped; nothing "
                "further was sent. Check what the operation may have done."
            )
            return lines, 2
    drifted = [o for o in outcomes if o.findings]
    distinct: dict[Finding, int] = {}
    for outcome in drifted:
        for finding in outcome.findings:
            distinct[finding] = distinct.get(finding, 0) + 1
    if drifted:
        lines.append(
            f"Drift: {len(drifted)} of {total} operations use what {url} does not accept "
            f"({len(distinct)} distinct finding{'s' if len(distinct) > 1 else ''}):"
        )
        lines += (
            f"  {finding} [in {n} operation{'s' if n > 1 else ''}]"
            for finding, n in sorted(distinct.items())
        )
        return lines, 1
    if any(o.unexpected for o in outcomes):
        lines.append(
            "No drift found, but some answers were not validation results (see above): "
            "the check is incomplete."
        )
        return lines, 2
    lines.append(
        f"No drift: {url} knows every field, argument, type, input field and enum value "
        f"the {total} operations use."
    )
    return lines, 0


def _masked(text: str, key: str) -> str:
    return text.replace(key, "***") if key else text


def main(argv: list[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m codegen.contract_check",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--url", default=DEFAULT_URL, help=f"GraphQL URL (default {DEFAULT_URL})")
    parser.add_argument("--operations", type=Path, default=OPERATIONS, help="operation files")
    parser.add_argument("--schema", type=Path, default=SDL, help="the SDL snapshot")
    parser.add_argument(
        "--print-probes", action="store_true", help="print the probe documents; send nothing"
    )
    args = parser.parse_args(argv)
    environ = os.environ if environ is None else environ
    key = ""
    try:
        schema = build_schema(args.schema.read_text(encoding="utf-8"))
        probes = build_probes(schema, load_operations(args.operations))
        for probe in probes:
            preflight(schema, probe)
        if args.print_probes:
            for probe in probes:
                print(f"# {probe.source}: {probe.kind} {probe.name}\n{probe.document}\n")
            return 0
        key = load_key(environ)
        url = check_url(args.url)
        print(
            f"contract-check: {len(probes)} operations from {_shown(args.operations)} against "
            f"{url}; each probe fails validation by design, so the server checks and never "
            "executes it"
        )
        outcomes: list[Outcome] = []
        for outcome in run(url, key, probes):
            outcomes.append(outcome)
    except (CheckError, OSError, GraphQLError, TypeError) as exc:
        message = str(exc) if isinstance(exc, CheckError) else f"{type(exc).__name__}: {exc}"
        print(f"contract-check: {_masked(message, key)}", file=sys.stderr)
        return 2
    lines, status = report(outcomes, url, len(probes))
    print(_masked("\n".join(lines), key))
    return status


if __name__ == "__main__":
    sys.exit(main())
