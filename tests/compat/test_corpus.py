"""The GraphQL documents that RunPod's docs, newer SDK and big API users send, against our SDL.

tests/compat/corpus/<source>.graphql restates, in our own words, every operation shape one
source sends (our operation names, every value a variable, the source's fields, arguments,
input fields and declared variable types); <source>.inputs.json gives example variable
values with the source's input field names and value types. Each operation is validated
against schema/runpod.graphql with graphql-core, and each example value is coerced to its
declared variable type (graphql.utilities.coerce_input_value), so input fields are checked
as well as the document.

Two lists name the operations that fail, each with its reason:

* KNOWN_GAPS: the schema lacks something the source shows; docs/schema-evidence.md says
  what to change. Fixing the schema makes the entry fail this test until it is removed.
  Empty since the evidence record's changes were applied to the SDL.
* NOT_ADOPTED: the schema is meant to keep rejecting these (superseded by newer first-party
  evidence, or a synthetic fixture); the evidence file says why.

Both lists are strict both ways: an operation that fails without being listed, and a listed
one that validates, fail the test. test_evidence_record_matches_the_schema checks that the
SDL blocks of docs/schema-evidence.md (the changes it records as applied) are what
schema/runpod.graphql says: every type, field, argument, enum value and type reference,
and for a full definition no field more, so the record and the schema cannot drift apart.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, cast

from graphql import (
    DocumentNode,
    EnumTypeDefinitionNode,
    EnumTypeExtensionNode,
    GraphQLError,
    GraphQLInputType,
    GraphQLSchema,
    NonNullTypeNode,
    OperationDefinitionNode,
    TypeDefinitionNode,
    ValueNode,
    VariableNode,
    Visitor,
    build_ast_schema,
    is_input_type,
    parse,
    parse_value,
    print_ast,
    validate,
    visit,
)
from graphql.utilities import coerce_input_value, type_from_ast

ROOT = Path(__file__).resolve().parents[2]
CORPUS_DIR = Path(__file__).with_name("corpus")
SDL_PATH = ROOT / "schema" / "runpod.graphql"
EVIDENCE_PATH = ROOT / "docs" / "schema-evidence.md"

SOURCES = ("docs", "flash", "plugins", "runpod_python", "dstack", "skypilot", "gpuhunt")

# A sidecar case may give a variable as a GraphQL literal instead of a JSON value, where the
# source spliced a literal whose spelling matters (a quoted string where an enum is expected).
LITERAL_KEY = "@literal"

# Every gap the corpus showed is closed in schema/runpod.graphql (docs/schema-evidence.md,
# sections E, P, C, A, K, F: applied 2026-11-29). A document added to the corpus that the
# schema lacks something for goes here, with the change it needs, until the SDL has it.
KNOWN_GAPS: dict[str, str] = {}

NOT_ADOPTED: dict[str, str] = {
    "docs:EndpointCreateFlashBootString": (
        "flashBootType as a quoted string: superseded; it is an enum (N1)"
    ),
    "docs:TemplateCreatePrivateImage": (
        "omits env (and dockerArgs), which RunPod's server requires on saveTemplate (N2)"
    ),
    "docs:TemplateUpdateReadme": (
        "omits env (and dockerArgs), which RunPod's server requires on saveTemplate (N2)"
    ),
    "plugins:EndpointScaleWithoutName": (
        "synthetic migration fixture without name; name stays required (N3)"
    ),
}


@dataclass(frozen=True)
class Operation:
    """One operation of the corpus with its example variable values."""

    source: str
    name: str
    document: DocumentNode
    cases: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    @property
    def key(self) -> str:
        return f"{self.source}:{self.name}"

    @property
    def definition(self) -> OperationDefinitionNode:
        node = self.document.definitions[0]
        assert isinstance(node, OperationDefinitionNode)
        return node


@dataclass
class _Corpus:
    operations: list[Operation]
    hygiene: list[str]


def _cases(raw: Any) -> tuple[dict[str, Any], ...]:
    if raw is None:
        return ({},)
    if isinstance(raw, list):
        return tuple(raw)
    return (raw,)


@cache
def _corpus() -> _Corpus:
    operations: list[Operation] = []
    hygiene: list[str] = []
    for source in SOURCES:
        path = CORPUS_DIR / f"{source}.graphql"
        text = path.read_text(encoding="utf-8")
        sidecar_path = CORPUS_DIR / f"{source}.inputs.json"
        sidecar: dict[str, Any] = json.loads(sidecar_path.read_text(encoding="utf-8"))
        document = parse(text)
        names: set[str] = set()
        previous_end = 0
        for node in document.definitions:
            if not isinstance(node, OperationDefinitionNode) or node.name is None:
                hygiene.append(f"{path.name}: every definition must be a named operation")
                continue
            name = node.name.value
            if name in names:
                hygiene.append(f"{path.name}: operation {name} is defined twice")
            names.add(name)
            assert node.loc is not None
            preamble = text[previous_end : node.loc.start]
            previous_end = node.loc.end
            if not re.search(r"^# seen: \S", preamble, re.MULTILINE):
                hygiene.append(f"{path.name}: {name} has no '# seen:' pointer comment before it")
            operation = Operation(
                source=source,
                name=name,
                document=DocumentNode(definitions=(node,)),
                cases=_cases(sidecar.get(name)),
            )
            hygiene.extend(_sidecar_problems(operation, name in sidecar))
            operations.append(operation)
        for name in sorted(set(sidecar) - names):
            hygiene.append(f"{sidecar_path.name}: {name} names no operation of {path.name}")
    return _Corpus(operations, hygiene)


def _sidecar_problems(operation: Operation, has_entry: bool) -> list[str]:
    variables = {var.variable.name.value: var for var in operation.definition.variable_definitions}
    if variables and not has_entry:
        return [f"{operation.key}: declares variables but has no example values in the sidecar"]
    problems = []
    for index, case in enumerate(operation.cases):
        literals = case.get(LITERAL_KEY, {})
        given = (set(case) - {LITERAL_KEY}) | set(literals)
        for unknown in sorted(given - set(variables)):
            problems.append(f"{operation.key} case {index}: ${unknown} is not declared")
        for name, var in variables.items():
            required = isinstance(var.type, NonNullTypeNode) and var.default_value is None
            if required and name not in given:
                problems.append(f"{operation.key} case {index}: required ${name} has no value")
    return problems


class _Substitute(Visitor):
    """Puts literal values in place of variables and drops their definitions."""

    def __init__(self, values: dict[str, ValueNode]) -> None:
        super().__init__()
        self.values = values

    def enter_variable(self, node: VariableNode, *_args: Any) -> Any:
        return self.values.get(node.name.value)

    def enter_variable_definition(self, node: Any, *_args: Any) -> Any:
        if node.variable.name.value in self.values:
            return Visitor.REMOVE
        return Visitor.SKIP


def _coercion_problems(value: Any, var_type: GraphQLInputType, label: str) -> list[str]:
    """Every error of coercing one example value to its declared variable type."""
    errors: list[str] = []

    def on_error(path: list[str | int], _value: Any, error: GraphQLError) -> None:
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
        errors.append(f"{label}{where}: {error.message}")

    coerce_input_value(value, var_type, on_error)
    return errors


def _problems(schema: GraphQLSchema, operation: Operation) -> list[str]:
    """Validation errors of the document and coercion errors of every example value."""
    problems = [error.message for error in validate(schema, operation.document)]
    for index, case in enumerate(operation.cases):
        prefix = f"case {index}: " if len(operation.cases) > 1 else ""
        literals = {name: parse_value(text) for name, text in case.get(LITERAL_KEY, {}).items()}
        if literals:
            substituted = visit(operation.document, _Substitute(literals))
            problems.extend(prefix + e.message for e in validate(schema, substituted))
        for var in operation.definition.variable_definitions:
            name = var.variable.name.value
            if name not in case or name in literals:
                continue
            var_type = type_from_ast(schema, var.type)
            label = f"{prefix}${name}"
            if var_type is None or not is_input_type(var_type):
                problems.append(f"{label}: no input type {print_ast(var.type)} to check it against")
                continue
            problems.extend(_coercion_problems(case[name], cast(GraphQLInputType, var_type), label))
    return problems


@cache
def _schema() -> GraphQLSchema:
    return build_ast_schema(parse(SDL_PATH.read_text(encoding="utf-8")))


def _failures(schema: GraphQLSchema) -> dict[str, list[str]]:
    return {op.key: problems for op in _corpus().operations if (problems := _problems(schema, op))}


def test_corpus_is_well_formed() -> None:
    corpus = _corpus()
    assert corpus.hygiene == []
    counts = {source: 0 for source in SOURCES}
    for op in corpus.operations:
        counts[op.source] += 1
    assert all(counts.values()), f"a source has no operations: {counts}"


def test_gap_lists_name_corpus_operations() -> None:
    keys = {op.key for op in _corpus().operations}
    assert sorted(set(KNOWN_GAPS) - keys) == []
    assert sorted(set(NOT_ADOPTED) - keys) == []
    assert sorted(set(KNOWN_GAPS) & set(NOT_ADOPTED)) == []


def test_corpus_against_schema() -> None:
    failures = _failures(_schema())
    listed = set(KNOWN_GAPS) | set(NOT_ADOPTED)
    for source in SOURCES:
        ops = [op for op in _corpus().operations if op.source == source]
        failing = [op for op in ops if op.key in failures]
        print(f"{source}: {len(ops)} operations, {len(failing)} fail today", file=sys.stderr)
    unexpected = {key: failures[key] for key in sorted(set(failures) - listed)}
    fixed = sorted(listed - set(failures))
    assert unexpected == {}, "operations fail without being listed in KNOWN_GAPS/NOT_ADOPTED"
    assert fixed == [], "listed operations validate now: remove them from the lists"


def _applied_blocks() -> list[str]:
    """The SDL blocks of docs/schema-evidence.md (fenced graphql blocks opening '# applied')."""
    text = EVIDENCE_PATH.read_text(encoding="utf-8")
    blocks = re.findall(r"```graphql\n(.*?)```", text, re.DOTALL)
    return [block for block in blocks if block.startswith("# applied")]


def _shape(node: Any) -> dict[str, str]:
    """A definition's members by name: each field's arguments and type, or each enum value."""
    if isinstance(node, EnumTypeDefinitionNode | EnumTypeExtensionNode):
        return {value.name.value: "" for value in node.values}
    shape = {}
    for member in node.fields:
        arguments = ", ".join(
            f"{arg.name.value}: {print_ast(arg.type)}" for arg in getattr(member, "arguments", ())
        )
        shape[member.name.value] = f"({arguments}) {print_ast(member.type)}"
    return shape


def test_evidence_record_matches_the_schema() -> None:
    """What docs/schema-evidence.md records as applied is what schema/runpod.graphql says."""
    blocks = _applied_blocks()
    assert blocks, f"{EVIDENCE_PATH.relative_to(ROOT)} has no '# applied' blocks"
    in_sdl = {
        node.name.value: node
        for node in parse(SDL_PATH.read_text(encoding="utf-8")).definitions
        if isinstance(node, TypeDefinitionNode)
    }
    differences = []
    for block in blocks:
        for node in parse(block).definitions:
            name = node.name.value
            current = in_sdl.get(name)
            if current is None:
                differences.append(f"{name}: not in the schema")
                continue
            recorded, actual = _shape(node), _shape(current)
            for member, signature in recorded.items():
                if actual.get(member) != signature:
                    differences.append(f"{name}.{member}: {signature!r} vs {actual.get(member)!r}")
            if isinstance(node, TypeDefinitionNode):
                extra = sorted(set(actual) - set(recorded))
                differences.extend(f"{name}.{member}: not in the record" for member in extra)
    assert differences == []
