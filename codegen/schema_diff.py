"""Show what a new RunPod schema breaks before regenerating the clients.

    python -m codegen.schema_diff [--old FILE] [--new FILE | --url URL | --no-graphql]
        [--v2-old FILE] [--v2-file FILE | --v2-url URL]

GraphQL: compares the committed SDL (--old, default schema/runpod.graphql) with a new
one, read from --new or pulled into memory from --url (default RunPod's API, key from
RUNPOD_API_KEY). Prints graphql-core's breaking and dangerous changes, every document in
codegen/operations that no longer validates against the new schema, and what became
available: new types, operations (root fields), fields, optional arguments and input
fields, enum values and directives. As for v2, an addition is judged by where it is used:
an enum value added to an enum that responses carry stays dangerous (graphql-core's
VALUE_ADDED_TO_ENUM), one added to an input-only enum is an addition; optional arguments
and input fields, which graphql-core calls dangerous, are additions (a request that leaves
them out means what it meant before).

REST v2 (when --v2-file or --v2-url is given): compares the committed snapshot
(--v2-old, default schema/runpod-rest-v2.openapi.json) with a new description, both
reduced as `make pull-schema` reduces them. Breaking: removed paths, operations,
parameters, fields, schemas, enum values and success responses; new required
parameters, request bodies or input fields; input types, enums or constraints that
accept less; response types that may carry more (wider, nullable, a field no longer
required, a new union variant). Dangerous: enum values added to responses, changed
defaults, removed error responses, a value typed by another component (the generated
class changes; the wire shapes are compared too). Additions are listed.

Exit status: 0 when nothing breaks, 1 on breaking changes or broken operations,
2 when a schema cannot be read or pulled.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from graphql import (
    BreakingChange,
    DangerousChange,
    DangerousChangeType,
    DefinitionNode,
    DocumentNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    Source,
    build_schema,
    find_breaking_changes,
    find_dangerous_changes,
    get_named_type,
    is_required_argument,
    is_required_input_field,
    is_specified_scalar_type,
    parse,
    validate,
)

from codegen import OPERATIONS, ROOT, SDL, V2_SPEC
from codegen.pull_schema import (
    DEFAULT_URL,
    DEFAULT_V2_URL,
    HTTP_METHODS,
    SchemaSourceError,
    fail,
    introspect,
    load_v2,
)


@dataclass(frozen=True)
class Change:
    kind: str
    description: str


@dataclass
class Report:
    """Everything that changed between two schemas, as it matters to the SDK."""

    breaking: list[BreakingChange] = field(default_factory=list)
    dangerous: list[DangerousChange] = field(default_factory=list)
    #: operation file -> validation messages against the new schema
    broken_operations: dict[str, list[str]] = field(default_factory=dict)
    additions: list[Change] = field(default_factory=list)

    @property
    def breaks(self) -> bool:
        return bool(self.breaking or self.broken_operations)

    def lines(self) -> Iterable[str]:
        if not (self.breaking or self.dangerous or self.broken_operations or self.additions):
            yield "No breaking or dangerous changes; nothing added; every operation still validates."
            return
        for title, changes in (("Breaking", self.breaking), ("Dangerous", self.dangerous)):
            yield f"{title} changes ({len(changes)}):"
            yield from (f"  {change.type.name}: {change.description}" for change in changes)
        yield f"Operations that no longer validate ({len(self.broken_operations)} files):"
        for path, messages in self.broken_operations.items():
            yield f"  {path}:"
            yield from (f"    {message}" for message in messages)
        yield f"Non-breaking additions ({len(self.additions)}):"
        yield from (f"  {change.kind}: {change.description}" for change in self.additions)


def _message(error: GraphQLError) -> str:
    where = ", ".join(f"line {loc.line}" for loc in error.locations or [])
    return f"{error.message} ({where})" if where else error.message


def _shown(path: Path) -> str:
    """`path` relative to the repository when it is inside it."""
    absolute = path.resolve()
    return absolute.relative_to(ROOT).as_posix() if absolute.is_relative_to(ROOT) else str(path)


def _operations_document(directory: Path) -> DocumentNode:
    """All operation files as one document (fragments may cross files), each node keeping
    its file as `loc.source.name`."""
    definitions: list[DefinitionNode] = []
    for path in sorted(directory.glob("*.graphql")):
        source = Source(path.read_text(encoding="utf-8"), _shown(path))
        definitions += parse(source).definitions
    return DocumentNode(definitions=tuple(definitions))


def broken_operations(schema: GraphQLSchema, directory: Path = OPERATIONS) -> dict[str, list[str]]:
    """Validation messages of the operations against `schema`, by file."""
    broken: dict[str, list[str]] = {}
    for error in validate(schema, _operations_document(directory)):
        loc = error.nodes[0].loc if error.nodes else None
        source = loc.source.name if loc is not None else "operations"
        broken.setdefault(source, []).append(_message(error))
    return dict(sorted(broken.items()))


def _response_types(schema: GraphQLSchema) -> set[str]:
    """Names of the types a response may carry: those of object and interface fields."""
    return {
        get_named_type(member.type).name
        for named in schema.type_map.values()
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType)
        for member in named.fields.values()
    }


def _kind(named: GraphQLNamedType) -> str:
    for kind, cls in (
        ("object type", GraphQLObjectType), ("interface", GraphQLInterfaceType),
        ("union", GraphQLUnionType), ("enum", GraphQLEnumType),
        ("input type", GraphQLInputObjectType), ("scalar", GraphQLScalarType),
    ):  # fmt: skip
        if isinstance(named, cls):
            return kind
    return "type"


def _signature(name: str, member: GraphQLField) -> str:
    arguments = ", ".join(f"{a}: {argument.type}" for a, argument in member.args.items())
    return f"{name}({arguments}): {member.type}" if arguments else f"{name}: {member.type}"


_ADDITION_ORDER: Final = (
    "OPERATION_ADDED", "TYPE_ADDED", "FIELD_ADDED", "ARGUMENT_ADDED", "ENUM_VALUE_ADDED",
    "DIRECTIVE_ADDED",
)  # fmt: skip


def graphql_additions(old: GraphQLSchema, new: GraphQLSchema) -> list[Change]:
    """What `new` offers that `old` did not, without anything a request must now send;
    operations first, then types, fields, arguments, enum values, directives."""
    additions: list[Change] = []
    roots = {
        root.name: kind
        for kind, root in (
            ("query", new.query_type),
            ("mutation", new.mutation_type),
            ("subscription", new.subscription_type),
        )
        if root is not None
    }
    responses = _response_types(new)
    for name, named in sorted(new.type_map.items()):
        before = old.type_map.get(name)
        if name.startswith("__") or is_specified_scalar_type(named):
            continue  # introspection types; String, ID, ... appear once something uses them
        if before is not None and type(before) is not type(named):
            continue  # a changed kind is graphql-core's breaking change
        if before is None and name not in roots:
            additions.append(Change("TYPE_ADDED", f"{name} was added ({_kind(named)})."))
            continue
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            old_fields = before.fields if isinstance(before, type(named)) else {}
            for field_name, member in named.fields.items():
                previous = old_fields.get(field_name)
                if previous is None and name in roots:
                    shown = _signature(field_name, member)
                    additions.append(Change("OPERATION_ADDED", f"{roots[name]} {shown} was added."))
                elif previous is None:
                    additions.append(
                        Change("FIELD_ADDED", f"{name}.{field_name} was added ({member.type}).")
                    )
                else:
                    for arg_name, argument in member.args.items():
                        if arg_name not in previous.args and not is_required_argument(argument):
                            additions.append(
                                Change(
                                    "ARGUMENT_ADDED",
                                    f"{name}.{field_name}: optional argument {arg_name} "
                                    f"({argument.type}) was added.",
                                )
                            )
        elif isinstance(named, GraphQLInputObjectType) and isinstance(
            before, GraphQLInputObjectType
        ):
            for field_name, input_field in named.fields.items():
                if field_name not in before.fields and not is_required_input_field(input_field):
                    additions.append(
                        Change(
                            "FIELD_ADDED",
                            f"{name}.{field_name} was added (optional, {input_field.type}).",
                        )
                    )
        elif isinstance(named, GraphQLEnumType) and isinstance(before, GraphQLEnumType):
            if name not in responses:  # else graphql-core's dangerous VALUE_ADDED_TO_ENUM
                additions += (
                    Change("ENUM_VALUE_ADDED", f"{value} was added to {name}.")
                    for value in named.values
                    if value not in before.values
                )
    old_directives = {directive.name for directive in old.directives}
    additions += (
        Change("DIRECTIVE_ADDED", f"@{directive.name} was added.")
        for directive in new.directives
        if directive.name not in old_directives
    )
    return sorted(additions, key=lambda change: _ADDITION_ORDER.index(change.kind))


def _still_dangerous(change: DangerousChange, additions: list[Change]) -> bool:
    """graphql-core's dangerous changes, less those listed as additions."""
    if change.type in (
        DangerousChangeType.OPTIONAL_ARG_ADDED,
        DangerousChangeType.OPTIONAL_INPUT_FIELD_ADDED,
    ):
        return False
    if change.type is DangerousChangeType.VALUE_ADDED_TO_ENUM:
        listed = {a.description for a in additions if a.kind == "ENUM_VALUE_ADDED"}
        value, _, enum = change.description.removesuffix(".").partition(" was added to enum type ")
        return f"{value} was added to {enum}." not in listed
    return True


def compare(old: GraphQLSchema, new: GraphQLSchema, operations: Path = OPERATIONS) -> Report:
    additions = graphql_additions(old, new)
    return Report(
        breaking=find_breaking_changes(old, new),
        dangerous=[c for c in find_dangerous_changes(old, new) if _still_dangerous(c, additions)],
        broken_operations=broken_operations(new, operations),
        additions=additions,
    )


# --- REST v2: two OpenAPI snapshots ----------------------------------------------------------
#
# Changes are judged by where a schema is used. Inputs (parameters, request bodies) break a
# client when they accept less: a removed field or value, a new required field, a narrower
# type, a tighter constraint. Outputs (responses) break a typed client when they may carry
# more: a wider type, a field that may now be missing or null, a new union variant. A
# component used in both is judged both ways. A field a schema inherits through allOf from
# a component present in both snapshots is judged once, at that component.

INPUT: Final = "input"
OUTPUT: Final = "output"
_LOWER_BOUNDS: Final = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
_UPPER_BOUNDS: Final = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
_PREFIX: Final = "#/components/schemas/"
_ANNOTATIONS: Final = ("default", "readOnly", "writeOnly", "deprecated")
_WRAPPER_CONSTRAINTS: Final = ("unevaluatedProperties", "additionalProperties")


@dataclass
class OpenAPIReport:
    """What changed between two REST v2 snapshots, as it matters to a generated client."""

    breaking: list[Change] = field(default_factory=list)
    dangerous: list[Change] = field(default_factory=list)
    additions: list[Change] = field(default_factory=list)

    @property
    def breaks(self) -> bool:
        return bool(self.breaking)

    def lines(self) -> Iterable[str]:
        if not (self.breaking or self.dangerous or self.additions):
            yield "No breaking or dangerous changes; nothing added."
            return
        sections = (
            ("Breaking changes", self.breaking),
            ("Dangerous changes", self.dangerous),
            ("Non-breaking additions", self.additions),
        )
        for title, changes in sections:
            yield f"{title} ({len(changes)}):"
            yield from (f"  {change.kind}: {change.description}" for change in changes)


def _resolve(document: dict[str, Any], node: Any) -> Any:
    """`node`, following local `$ref`s (a few levels, so a cycle cannot hang the diff)."""
    for _ in range(8):
        if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
            return node
        ref: str = node["$ref"]
        if not ref.startswith("#/"):
            return node
        target: Any = document
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, dict) or part not in target:
                return node
            target = target[part]
        node = target
    return node


def _ref_name(schema: Any) -> str | None:
    ref = schema.get("$ref") if isinstance(schema, dict) else None
    return ref[len(_PREFIX) :] if isinstance(ref, str) and ref.startswith(_PREFIX) else None


def _refs(node: Any) -> Iterator[str]:
    """Every component schema named by a `$ref` anywhere under `node`."""
    if isinstance(node, dict):
        name = _ref_name(node)
        if name is not None:
            yield name
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _shown_value(value: Any) -> str:
    return "(none)" if value is None else json.dumps(value, sort_keys=True)


def _normalize(schema: Any) -> tuple[Any, bool]:
    """(`schema` without its null alternative, whether it allows null). A lone allOf of one
    component (`allOf: [X]` plus annotations, RunPod's way to add a default) becomes `X`."""
    if not isinstance(schema, dict):
        return schema, schema is True
    nullable = bool(schema.get("nullable"))
    core = {k: v for k, v in schema.items() if k != "nullable"}
    types = core.get("type")
    if isinstance(types, list) and "null" in types:
        rest = [t for t in types if t != "null"]
        core["type"] = rest[0] if len(rest) == 1 else rest
        nullable = True
    if isinstance(core.get("enum"), list) and None in core["enum"]:
        core["enum"] = [v for v in core["enum"] if v is not None]
        nullable = True
    for union in ("anyOf", "oneOf"):
        members = core.get(union)
        if isinstance(members, list):
            rest = [m for m in members if not (isinstance(m, dict) and m.get("type") == "null")]
            if len(rest) < len(members):
                nullable = True
                if len(rest) == 1 and core.keys() <= {union, *_ANNOTATIONS}:
                    return _normalize(rest[0])[0], True  # anyOf [X, null] is X or null
                core[union] = rest
    members = core.get("allOf")
    if (
        isinstance(members, list)
        and len(members) == 1
        and _ref_name(members[0]) is not None
        and core.keys() <= {"allOf", *_ANNOTATIONS, *_WRAPPER_CONSTRAINTS}
    ):
        core = {k: v for k, v in core.items() if k != "allOf"} | {"$ref": members[0]["$ref"]}
    return core, nullable


def _serialization(parameter: dict[str, Any]) -> dict[str, Any]:
    """A parameter's style, explode and allowReserved, with OpenAPI's defaults filled in."""
    style = parameter.get("style") or (
        "form" if parameter.get("in") in ("query", "cookie") else "simple"
    )
    return {
        "style": style,
        "explode": parameter.get("explode", style == "form"),
        "allowReserved": parameter.get("allowReserved", False),
    }


def _union_members(schema: dict[str, Any]) -> list[Any] | None:
    """The alternatives of a oneOf/anyOf schema (null already split off), None if not one."""
    members = [*(schema.get("oneOf") or ()), *(schema.get("anyOf") or ())]
    return members or None


def _types(schema: dict[str, Any]) -> set[str] | None:
    """The JSON types `schema` allows, from `type` or, without it, from its keywords."""
    declared = schema.get("type")
    if isinstance(declared, str):
        return {declared}
    if isinstance(declared, list):
        return set(declared)
    if any(k in schema for k in ("properties", "required", "additionalProperties")):
        return {"object"}
    if "items" in schema or "prefixItems" in schema:
        return {"array"}
    members = schema.get("allOf")
    if isinstance(members, list):  # all of them hold, so any member's type is the type
        for member in members:
            found = _types(member) if isinstance(member, dict) else None
            if found is not None:
                return found
    return None


def _covers(wide: set[str], narrow: set[str]) -> bool:
    return all(t in wide or (t == "integer" and "number" in wide) for t in narrow)


def _shown_type(schema: Any) -> str:
    name = _ref_name(schema)
    if name is not None:
        return name
    types = _types(schema) if isinstance(schema, dict) else None
    return "|".join(sorted(types)) if types else "(untyped)"


@dataclass
class _Flat:
    """An object schema with its allOf members merged, as openapi-python-client builds it.
    origin: the component a property comes from through allOf (None: the schema's own)."""

    properties: dict[str, tuple[Any, str | None]] = field(default_factory=dict)
    required: dict[str, set[str | None]] = field(default_factory=dict)
    bases: set[str] = field(default_factory=set)


class _OpenAPIDiff:
    def __init__(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        self.old, self.new = old, new
        self.report = OpenAPIReport()
        self._seen: set[Change] = set()
        self._active: set[tuple[str | None, str | None]] = set()
        # A component is judged where both snapshots use it (a schema that moved from
        # requests to responses is reported where the references changed); else where either
        # does; else (unused) both ways.
        old_usage, new_usage = self._usage(old), self._usage(new)
        self.usage: dict[str, set[str]] = {}
        for name in old_usage.keys() | new_usage.keys():
            before, after = old_usage.get(name, set()), new_usage.get(name, set())
            self.usage[name] = (before & after) or (before | after)

    # -- bookkeeping --

    def _add(self, bucket: list[Change], kind: str, description: str) -> None:
        change = Change(kind, description)
        if change not in self._seen:
            self._seen.add(change)
            bucket.append(change)

    def breaking(self, kind: str, description: str) -> None:
        self._add(self.report.breaking, kind, description)

    def dangerous(self, kind: str, description: str) -> None:
        self._add(self.report.dangerous, kind, description)

    def added(self, kind: str, description: str) -> None:
        self._add(self.report.additions, kind, description)

    def _usage(self, document: dict[str, Any]) -> dict[str, set[str]]:
        """Component schema -> the directions (input, output) it is reachable from."""
        schemas = document.get("components", {}).get("schemas", {})
        roots: dict[str, set[str]] = {INPUT: set(), OUTPUT: set()}
        for _, _, operation, parameters in self._operations(document):
            resolved_parameters = [_resolve(document, p) for p in parameters.values()]
            roots[INPUT].update(_refs(resolved_parameters))
            roots[INPUT].update(_refs(_resolve(document, operation.get("requestBody"))))
            for response in operation.get("responses", {}).values():
                roots[OUTPUT].update(_refs(_resolve(document, response)))
        usage: dict[str, set[str]] = {}
        for direction, names in roots.items():
            pending = list(names)
            while pending:
                name = pending.pop()
                if direction in usage.setdefault(name, set()):
                    continue
                usage[name].add(direction)
                pending.extend(_refs(schemas.get(name)))
        return usage

    @staticmethod
    def _operations(
        document: dict[str, Any],
    ) -> Iterator[tuple[str, str, dict[str, Any], dict[tuple[str, str], Any]]]:
        """(path, method, operation, parameters by (in, name)) for every operation."""
        for path, item in sorted(document.get("paths", {}).items()):
            for method in HTTP_METHODS:
                if method in item:
                    parameters: dict[tuple[str, str], Any] = {}
                    for parameter in [
                        *item.get("parameters", []),
                        *item[method].get("parameters", []),
                    ]:
                        resolved = _resolve(document, parameter)
                        parameters[(resolved.get("in", "?"), resolved.get("name", "?"))] = resolved
                    yield path, method, item[method], parameters

    # -- paths and operations --

    def run(self) -> OpenAPIReport:
        old_ops = {(p, m): (o, ps) for p, m, o, ps in self._operations(self.old)}
        new_ops = {(p, m): (o, ps) for p, m, o, ps in self._operations(self.new)}
        old_paths, new_paths = self.old.get("paths", {}), self.new.get("paths", {})
        for path in sorted(old_paths.keys() - new_paths.keys()):
            methods = ", ".join(m.upper() for m in HTTP_METHODS if m in old_paths[path])
            self.breaking("PATH_REMOVED", f"{path} was removed ({methods}).")
        for path in sorted(new_paths.keys() - old_paths.keys()):
            methods = ", ".join(m.upper() for m in HTTP_METHODS if m in new_paths[path])
            self.added("PATH_ADDED", f"{path} was added ({methods}).")
        for key in sorted(old_ops.keys() | new_ops.keys()):
            path, method = key
            label = f"{method.upper()} {path}"
            if key not in new_ops:
                if path in new_paths:
                    name = old_ops[key][0].get("operationId", "?")
                    self.breaking("OPERATION_REMOVED", f"{label} ({name}) was removed.")
            elif key not in old_ops:
                if path in old_paths:
                    name = new_ops[key][0].get("operationId", "?")
                    self.added("OPERATION_ADDED", f"{label} ({name}) was added.")
            else:
                self._operation(label, *old_ops[key], *new_ops[key])
        self._components()
        return self.report

    def _operation(
        self,
        label: str,
        old: dict[str, Any],
        old_parameters: dict[tuple[str, str], Any],
        new: dict[str, Any],
        new_parameters: dict[tuple[str, str], Any],
    ) -> None:
        if old.get("operationId") != new.get("operationId"):
            self.breaking(
                "OPERATION_ID_CHANGED",
                f"{label}: operationId {old.get('operationId')} changed to "
                f"{new.get('operationId')} (generated function names follow it).",
            )
        self._parameters(label, old_parameters, new_parameters)
        self._request_body(label, old.get("requestBody"), new.get("requestBody"))
        self._responses(label, old.get("responses", {}), new.get("responses", {}))

    def _parameters(
        self, label: str, old: dict[tuple[str, str], Any], new: dict[tuple[str, str], Any]
    ) -> None:
        for key in sorted(old.keys() | new.keys()):
            what = f"{key[0]} parameter {key[1]}"
            if key not in new:
                self.breaking("PARAMETER_REMOVED", f"{label}: {what} was removed.")
            elif key not in old:
                if new[key].get("required"):
                    self.breaking(
                        "REQUIRED_PARAMETER_ADDED", f"{label}: required {what} was added."
                    )
                else:
                    self.added("PARAMETER_ADDED", f"{label}: optional {what} was added.")
            else:
                o, n = old[key], new[key]
                if n.get("required") and not o.get("required"):
                    self.breaking("PARAMETER_BECAME_REQUIRED", f"{label}: {what} became required.")
                before, after = _serialization(o), _serialization(n)
                for keyword in before:
                    if before[keyword] != after[keyword]:
                        self.breaking(
                            "PARAMETER_CHANGED",
                            f"{label}: {what} is serialized differently ({keyword} "
                            f"{_shown_value(before[keyword])} -> {_shown_value(after[keyword])}).",
                        )
                self._schema(f"{label} {what}", o.get("schema"), n.get("schema"), {INPUT})
                self._content(f"{label} {what}", o.get("content"), n.get("content"), {INPUT})

    def _request_body(self, label: str, old: Any, new: Any) -> None:
        old, new = _resolve(self.old, old), _resolve(self.new, new)
        where = f"{label} request body"
        if old is None and new is None:
            return
        if new is None:
            self.breaking("REQUEST_BODY_REMOVED", f"{where} was removed.")
        elif old is None:
            if new.get("required"):
                self.breaking("REQUIRED_REQUEST_BODY_ADDED", f"{where} was added, required.")
            else:
                self.added("REQUEST_BODY_ADDED", f"{where} was added (optional).")
        else:
            if new.get("required") and not old.get("required"):
                self.breaking("REQUEST_BODY_BECAME_REQUIRED", f"{where} became required.")
            self._content(where, old.get("content"), new.get("content"), {INPUT})

    def _responses(self, label: str, old: dict[str, Any], new: dict[str, Any]) -> None:
        for status in sorted(old.keys() | new.keys()):
            where = f"{label} response {status}"
            if status not in new:
                if status[:1] in ("2", "3"):
                    self.breaking("RESPONSE_REMOVED", f"{where} was removed.")
                else:
                    self.dangerous("RESPONSE_REMOVED", f"{where} was removed.")
            elif status not in old:
                self.added("RESPONSE_ADDED", f"{where} was added.")
            else:
                o, n = _resolve(self.old, old[status]), _resolve(self.new, new[status])
                self._content(where, o.get("content"), n.get("content"), {OUTPUT})

    def _content(self, where: str, old: Any, new: Any, directions: set[str]) -> None:
        old, new = old or {}, new or {}
        for media in sorted(old.keys() | new.keys()):
            if media not in new:
                self.breaking("MEDIA_TYPE_REMOVED", f"{where}: {media} was removed.")
            elif media not in old:
                self.added("MEDIA_TYPE_ADDED", f"{where}: {media} was added.")
            else:
                old_schema, new_schema = old[media].get("schema"), new[media].get("schema")
                self._schema(f"{where} ({media})", old_schema, new_schema, directions)

    # -- schemas --

    def _components(self) -> None:
        old = self.old.get("components", {}).get("schemas", {})
        new = self.new.get("components", {}).get("schemas", {})
        for name in sorted(old.keys() | new.keys()):
            if name not in new:
                self.breaking("SCHEMA_REMOVED", f"{name} was removed.")
            elif name not in old:
                self.added("SCHEMA_ADDED", f"{name} was added.")
            else:
                directions = self.usage.get(name) or {INPUT, OUTPUT}
                self._schema(name, old[name], new[name], directions)

    def _schema(self, where: str, old: Any, new: Any, directions: set[str]) -> None:
        if old is None or new is None:
            return
        old_core, old_null = _normalize(old)
        new_core, new_null = _normalize(new)
        if not (isinstance(old_core, dict) and isinstance(new_core, dict)):
            self._nullability(where, old_null, new_null, directions)
            return
        self._default(where, old_core, new_core)
        old_ref, new_ref = _ref_name(old_core), _ref_name(new_core)
        if old_ref is not None and old_ref == new_ref:
            self._nullability(where, old_null, new_null, directions)
            return  # the same component: compared once, under its own name
        if old_ref is None and new_ref is None:
            self._nullability(where, old_null, new_null, directions)
            self._structure(where, old_core, new_core, directions)
            return
        # Another component, or a component instead of an inline schema (or back): the
        # generated class changes; what goes over the wire is compared structurally.
        self.dangerous(
            "TYPE_RENAMED",
            f"{where} is now {_shown_type(new_core)}, was {_shown_type(old_core)} "
            "(the generated class changes; wire changes are listed on their own).",
        )
        pair = (old_ref, new_ref)
        if pair in self._active:
            return  # a recursive schema: this pair is being compared further up
        had_default = "default" in old_core or "default" in new_core
        old_core, null = _normalize(_resolve(self.old, old_core))
        old_null = old_null or null
        new_core, null = _normalize(_resolve(self.new, new_core))
        new_null = new_null or null
        self._nullability(where, old_null, new_null, directions)
        if not (isinstance(old_core, dict) and isinstance(new_core, dict)):
            return
        if not had_default:
            self._default(where, old_core, new_core)
        self._active.add(pair)
        try:
            self._structure(where, old_core, new_core, directions)
        finally:
            self._active.discard(pair)

    def _structure(
        self, where: str, old: dict[str, Any], new: dict[str, Any], directions: set[str]
    ) -> None:
        """Compare two schemas that are neither references nor nullable."""
        if not self._type(where, old, new, directions):
            return  # unrelated types: what they contain is not comparable
        old_union, new_union = _union_members(old), _union_members(new)
        if (old_union is None) != (new_union is None):
            shown = [", ".join(map(_shown_type, m)) if m else "" for m in (old_union, new_union)]
            self.breaking(
                "TYPE_CHANGED",
                f"{where} changed from {'one of ' + shown[0] if shown[0] else _shown_type(old)} "
                f"to {'one of ' + shown[1] if shown[1] else _shown_type(new)}.",
            )
            return
        self._enum(where, old, new, directions)
        if INPUT in directions:
            self._constraints(where, old, new)
        self._union(where, old, new, directions)
        self._object(where, old, new, directions)
        self._schema(f"{where}[]", old.get("items"), new.get("items"), directions)
        old_extra, new_extra = old.get("additionalProperties"), new.get("additionalProperties")
        if isinstance(old_extra, dict) and isinstance(new_extra, dict):
            self._schema(f"{where}{{*}}", old_extra, new_extra, directions)

    def _nullability(self, where: str, old: bool, new: bool, directions: set[str]) -> None:
        if old and not new and INPUT in directions:
            self.breaking("TYPE_NARROWED", f"{where} no longer accepts null.")
        if new and not old and OUTPUT in directions:
            self.breaking("TYPE_WIDENED", f"{where} may now be null.")

    def _default(self, where: str, old: dict[str, Any], new: dict[str, Any]) -> None:
        if old.get("default") != new.get("default"):
            self.dangerous(
                "DEFAULT_CHANGED",
                f"{where}: default {_shown_value(old.get('default'))} -> "
                f"{_shown_value(new.get('default'))}.",
            )

    def _type(
        self, where: str, old: dict[str, Any], new: dict[str, Any], directions: set[str]
    ) -> bool:
        old_types, new_types = _types(old), _types(new)
        if old_types is not None and new_types is not None and old_types != new_types:
            narrowed = not _covers(new_types, old_types)
            widened = not _covers(old_types, new_types)
            change = f"{where} changed type from {_shown_type(old)} to {_shown_type(new)}."
            if not (old_types & new_types or _covers(old_types, new_types)):
                self.breaking("TYPE_CHANGED", change)
                return False
            if narrowed and widened:
                self.breaking("TYPE_CHANGED", change)
            elif narrowed and INPUT in directions:
                self.breaking("TYPE_NARROWED", change)
            elif widened and OUTPUT in directions:
                self.breaking("TYPE_WIDENED", change)
        if old.get("format") != new.get("format"):
            self.breaking(
                "FORMAT_CHANGED",
                f"{where} changed format from {old.get('format') or '(none)'} to "
                f"{new.get('format') or '(none)'}.",
            )
        return True

    def _enum(
        self, where: str, old: dict[str, Any], new: dict[str, Any], directions: set[str]
    ) -> None:
        def values(schema: dict[str, Any]) -> list[Any] | None:
            if "const" in schema:
                return [schema["const"]]
            enum = schema.get("enum")
            return enum if isinstance(enum, list) else None

        old_values, new_values = values(old), values(new)
        if old_values is None and new_values is None:
            return
        if new_values is None:
            self.breaking("ENUM_REMOVED", f"{where} is no longer an enum (any value allowed).")
            return
        if old_values is None:
            if INPUT in directions:
                shown = ", ".join(map(str, new_values))
                self.breaking("TYPE_NARROWED", f"{where} is now restricted to {shown}.")
            return
        for value in old_values:
            if value not in new_values:
                self.breaking("ENUM_VALUE_REMOVED", f"{value} was removed from {where}.")
        for value in new_values:
            if value not in old_values:
                if OUTPUT in directions:
                    self.dangerous(
                        "ENUM_VALUE_ADDED",
                        f"{value} was added to {where} (responses may carry it; the SDK's "
                        "enums accept unknown values).",
                    )
                else:
                    self.added("ENUM_VALUE_ADDED", f"{value} was added to {where}.")

    def _constraints(self, where: str, old: dict[str, Any], new: dict[str, Any]) -> None:
        for keyword in (*_LOWER_BOUNDS, *_UPPER_BOUNDS, "pattern", "multipleOf", "uniqueItems"):
            before, after = old.get(keyword), new.get(keyword)
            if before == after or after is None or after is False:
                continue
            if before is None or keyword in ("pattern", "multipleOf", "uniqueItems"):
                tighter = True
            elif keyword in _LOWER_BOUNDS:
                tighter = after > before
            else:
                tighter = after < before
            if tighter:
                self.breaking(
                    "CONSTRAINT_NARROWED",
                    f"{where}: {keyword} {_shown_value(before)} -> {_shown_value(after)}.",
                )

    def _union(
        self, where: str, old: dict[str, Any], new: dict[str, Any], directions: set[str]
    ) -> None:
        for union in ("oneOf", "anyOf"):
            old_members, new_members = old.get(union) or [], new.get(union) or []
            old_names = {_ref_name(m) for m in old_members} - {None}
            new_names = {_ref_name(m) for m in new_members} - {None}
            for name in sorted(old_names - new_names, key=str):
                if INPUT in directions:
                    self.breaking("TYPE_NARROWED", f"{where} no longer accepts {name} ({union}).")
                else:
                    self.dangerous(
                        "VARIANT_REMOVED", f"{where} no longer includes {name} ({union})."
                    )
            for name in sorted(new_names - old_names, key=str):
                if OUTPUT in directions:
                    self.breaking("TYPE_WIDENED", f"{where} may now be {name} ({union}).")
                else:
                    self.added("VARIANT_ADDED", f"{where} now also accepts {name} ({union}).")
            old_inline = [m for m in old_members if _ref_name(m) is None]
            new_inline = [m for m in new_members if _ref_name(m) is None]
            if len(old_inline) == len(new_inline):
                for i, (o, n) in enumerate(zip(old_inline, new_inline, strict=True)):
                    self._schema(f"{where}.{union}[{i}]", o, n, directions)
            else:
                self.breaking("TYPE_CHANGED", f"{where}: the inline {union} variants changed.")

    def _flatten(self, document: dict[str, Any], schema: dict[str, Any]) -> _Flat:
        flat = _Flat()

        def merge(node: Any, origin: str | None, depth: int) -> None:
            if not isinstance(node, dict) or depth > 16:
                return
            for name, prop in (node.get("properties") or {}).items():
                flat.properties.setdefault(name, (prop, origin))
            required = node.get("required")
            for name in required if isinstance(required, list) else ():
                flat.required.setdefault(name, set()).add(origin)
            for member in node.get("allOf") or ():
                base = _ref_name(member)
                if base is not None and origin is None:
                    flat.bases.add(base)
                merge(
                    _resolve(document, member),
                    origin if base is None else (origin or base),
                    depth + 1,
                )

        merge(schema, None, 0)
        return flat

    def _object(
        self, where: str, old: dict[str, Any], new: dict[str, Any], directions: set[str]
    ) -> None:
        o, n = self._flatten(self.old, old), self._flatten(self.new, new)
        common = o.bases & n.bases
        for name in sorted(o.properties.keys() | n.properties.keys()):
            at = f"{where}.{name}"
            old_prop, new_prop = o.properties.get(name), n.properties.get(name)
            old_origin = old_prop[1] if old_prop else None
            new_origin = new_prop[1] if new_prop else None
            old_required, new_required = name in o.required, name in n.required
            if new_prop is None:
                if old_origin not in common:
                    self.breaking("FIELD_REMOVED", f"{at} was removed.")
                continue
            if old_prop is None:
                if new_origin not in common:
                    if new_required and INPUT in directions:
                        self.breaking(
                            "REQUIRED_INPUT_FIELD_ADDED", f"{at} was added as a required field."
                        )
                    else:
                        self.added(
                            "FIELD_ADDED",
                            f"{at} was added ({'required' if new_required else 'optional'}).",
                        )
                continue
            inherited = old_origin is not None and old_origin == new_origin and old_origin in common
            # required-ness declared outside the common bases (by the schema itself, or a base
            # that changed) is judged here; what only a common base declares, at that base
            own = (o.required.get(name, set()) | n.required.get(name, set())) - common
            if not (inherited and not own):
                if new_required and not old_required and INPUT in directions:
                    self.breaking("INPUT_FIELD_BECAME_REQUIRED", f"{at} became required.")
                if old_required and not new_required and OUTPUT in directions:
                    self.breaking(
                        "OUTPUT_FIELD_BECAME_OPTIONAL", f"{at} is no longer required in responses."
                    )
            if not inherited:
                self._schema(at, old_prop[0], new_prop[0], directions)


def compare_openapi(old: dict[str, Any], new: dict[str, Any]) -> OpenAPIReport:
    """Breaking and dangerous changes, and additions, from reduced description `old` to `new`."""
    return _OpenAPIDiff(old, new).run()


def _load(path: Path) -> GraphQLSchema:
    try:
        return build_schema(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SchemaSourceError(f"cannot read {path}: {exc.strerror}") from None
    except (GraphQLError, TypeError) as exc:
        raise SchemaSourceError(f"{path} is not a valid GraphQL schema: {exc}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m codegen.schema_diff",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--old", type=Path, default=SDL, help="the committed SDL")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--new", type=Path, help="the new SDL file")
    source.add_argument("--url", default=DEFAULT_URL, help="pull the new schema from this URL")
    source.add_argument("--no-graphql", action="store_true", help="skip the GraphQL comparison")
    parser.add_argument("--operations", type=Path, default=OPERATIONS, help=argparse.SUPPRESS)
    parser.add_argument("--v2-old", type=Path, default=V2_SPEC, help="the v2 snapshot")
    v2 = parser.add_mutually_exclusive_group()
    v2.add_argument("--v2-file", type=Path, help="the new REST v2 description (file)")
    v2.add_argument("--v2-url", help=f"pull the new REST v2 description ({DEFAULT_V2_URL})")
    args = parser.parse_args(argv)
    compare_v2 = args.v2_file is not None or args.v2_url is not None
    if args.no_graphql and not compare_v2:
        parser.error("nothing to compare: --no-graphql without --v2-file or --v2-url")

    status = 0
    if not args.no_graphql:
        try:
            old = _load(args.old)
            new = _load(args.new) if args.new is not None else introspect(args.url)
            report = compare(old, new, args.operations)
        except SchemaSourceError as exc:
            status = fail("schema-diff", str(exc))
        else:
            print(f"Comparing {_shown(args.old)} with {_shown(args.new) if args.new else args.url}")
            print("\n".join(report.lines()))
            status = 1 if report.breaks else 0
    if compare_v2:
        try:
            old_v2 = load_v2(path=args.v2_old, check=False).document
            new_v2 = load_v2(url=args.v2_url, path=args.v2_file, check=False).document
        except SchemaSourceError as exc:
            return fail("schema-diff", str(exc))
        v2_report = compare_openapi(old_v2, new_v2)
        shown_new = _shown(args.v2_file) if args.v2_file is not None else args.v2_url
        print(f"Comparing {_shown(args.v2_old)} with {shown_new}")
        print("\n".join(v2_report.lines()))
        status = max(status, 1 if v2_report.breaks else 0)
    return status


if __name__ == "__main__":
    sys.exit(main())
