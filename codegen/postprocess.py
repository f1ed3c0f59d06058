"""Source rewrites applied to everything the generators emit, before formatting.

- Open enums: every generated enum gets a `_missing_` hook, so a value the server
  adds after generation parses into a pseudo-member named UNKNOWN that keeps the
  raw value, instead of raising. `X(value)` (openapi-python-client's parsing) and
  pydantic's enum validation (ariadne-codegen's models) both go through it.
- Python 3.10: openapi-python-client 0.29 targets 3.11 (`enum.StrEnum`,
  `typing.Self`); those become `(str, Enum)` and `typing_extensions.Self`.
- Checked parsing: client methods validate answers through the base client's
  `parse`, so a shape the schema did not promise becomes the facade's error.
- Template imports: the hand-written base clients import ariadne-codegen's own
  `base_model` template so they type-check in codegen/; in the generated package
  that import must point at the copied module.
- Python names in Python, wire names on the wire: pydantic `Field(alias="podId")`
  becomes `Field(validation_alias="podId", serialization_alias="podId")`. Type
  checkers read `alias=` (PEP 681) as the `__init__` parameter name, so without
  the pydantic mypy plugin only `PodFilter(podId=...)` type-checked; now
  `PodFilter(pod_id=...)` does, under mypy and pyright alike, while answers still
  parse from camelCase (the base model populates by name too) and
  `model_dump(by_alias=True)` still sends camelCase.
- Exact signatures: ariadne-codegen gives every operation method a catch-all
  `**kwargs: Any` passed on to `execute`; it is dropped, so a misspelt argument
  is a type error (and a TypeError), not a silently ignored option.
- Declared class variables: `model_config = ConfigDict(...)` in a class body becomes
  `model_config: ClassVar[ConfigDict] = ...`, as pydantic declares it. Unannotated,
  pyright (`--verifytypes`) calls it an ambiguous override, and every model (so
  every client method taking or returning one) counts as partially unknown.

`flow_client_source` derives a third client flavour from the sync client: the
same methods as generators that `yield from` a `send` flow (see
codegen/graphql_flow_base_client.py), for code that composes operations into
larger flows.

Each rewrite locates nodes with `ast` and edits the text at their positions, so
everything else (comments, layout) is left for ruff to format.
"""

from __future__ import annotations

import ast
import io
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass

#: Absolute imports of generator templates -> the module the generated package holds.
TEMPLATE_IMPORTS = {"ariadne_codegen.client_generators.dependencies.base_model": ".base_model"}

#: Enum bases the generators use, and the builtin type of their values.
_ENUM_BASES = {"StrEnum": "str", "IntEnum": "int"}
_VALUE_TYPES = {"str", "int"}

_MISSING_HOOK = '''
@classmethod
def _missing_(cls, value: object) -> "{cls} | None":
    """Keep a value added after generation as a pseudo-member named UNKNOWN."""
    if not isinstance(value, {value_type}):
        return None
    member = {value_type}.__new__(cls, value)
    member._name_ = "UNKNOWN"
    member._value_ = value
    return member
'''


class UnsupportedEnumError(ValueError):
    """A generated enum has a flavour the open-enum rewrite does not know."""


@dataclass(frozen=True)
class _Edit:
    """Replace the text between two (line, column) positions (lines 1-based)."""

    start: tuple[int, int]
    end: tuple[int, int]
    text: str


def _apply(source: str, edits: list[_Edit]) -> str:
    # Split where ast counts lines (\n, \r\n, \r), unlike str.splitlines (also \f, \u2028...).
    lines = io.StringIO(source, newline="").readlines()
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))

    def offset(position: tuple[int, int]) -> int:
        line, column = position
        # ast columns count UTF-8 bytes; convert to a character index within the line.
        text = lines[line - 1] if line <= len(lines) else ""
        return offsets[line - 1] + len(text.encode()[:column].decode())

    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        source = source[: offset(edit.start)] + edit.text + source[offset(edit.end) :]
    return source


def _span(
    node: ast.stmt | ast.expr | ast.arg | ast.keyword,
) -> tuple[tuple[int, int], tuple[int, int]]:
    assert node.end_lineno is not None and node.end_col_offset is not None
    return (node.lineno, node.col_offset), (node.end_lineno, node.end_col_offset)


def _import_text(module: str, names: list[ast.alias]) -> str:
    listed = ", ".join(a.name if a.asname is None else f"{a.name} as {a.asname}" for a in names)
    return f"from {module} import {listed}"


def _rewrite_imports(tree: ast.Module) -> Iterator[_Edit]:
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom) or node.level or node.module is None:
            continue
        if node.module in TEMPLATE_IMPORTS:
            yield _Edit(*_span(node), _import_text(TEMPLATE_IMPORTS[node.module], node.names))
        elif node.module == "enum" and any(a.name in _ENUM_BASES for a in node.names):
            kept = [a for a in node.names if a.name not in _ENUM_BASES]
            names = sorted({a.name for a in kept} | {"Enum"})
            yield _Edit(*_span(node), f"from enum import {', '.join(names)}")
        elif node.module == "typing" and any(a.name == "Self" for a in node.names):
            kept = [a for a in node.names if a.name != "Self"]
            replacement = "from typing_extensions import Self"
            if kept:
                replacement = f"{_import_text('typing', kept)}\n{replacement}"
            yield _Edit(*_span(node), replacement)


def _enum_value_type(node: ast.ClassDef) -> str | None:
    """The value type of an enum class (`str` for `(str, Enum)` or `StrEnum`), None if no enum."""
    names = [base.id for base in node.bases if isinstance(base, ast.Name)]
    if not any(name == "Enum" or name in _ENUM_BASES for name in names):
        return None
    value_types = {_ENUM_BASES.get(name, name) for name in names} & _VALUE_TYPES
    if len(value_types) != 1:
        raise UnsupportedEnumError(
            f"enum {node.name} has bases {names}: only str- or int-valued enums can be opened"
        )
    return value_types.pop()


def _open_enums(tree: ast.Module) -> Iterator[_Edit]:
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef):
            continue
        value_type = _enum_value_type(node)
        if value_type is None:
            continue
        if any(isinstance(s, ast.FunctionDef) and s.name == "_missing_" for s in node.body):
            raise UnsupportedEnumError(f"enum {node.name} already defines _missing_")
        if any(isinstance(b, ast.Name) and b.id in _ENUM_BASES for b in node.bases):
            # StrEnum/IntEnum are Python 3.11+: spell out the mixin instead.
            yield _Edit(_span(node.bases[0])[0], _span(node.bases[-1])[1], f"{value_type}, Enum")
        hook = _MISSING_HOOK.format(cls=node.name, value_type=value_type)
        end = _span(node.body[-1])[1]
        yield _Edit(end, end, "\n" + textwrap.indent(hook, " " * node.body[0].col_offset))


def _checked_parsing(tree: ast.Module) -> Iterator[_Edit]:
    """`return X.model_validate(data)` in client methods -> `return self.parse(X, data)`.

    So an answer that does not fit the models raises the facade's error (through
    the base client's `invalid` hook), not a bare pydantic ValidationError.
    """
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if not node.args.args or node.args.args[0].arg != "self":
            continue
        for statement in ast.walk(node):
            call = statement.value if isinstance(statement, ast.Return) else None
            if (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute)
                and call.func.attr == "model_validate"
                and isinstance(call.func.value, ast.Name)
                and len(call.args) == 1
                and isinstance(call.args[0], ast.Name)
            ):
                model, data = call.func.value.id, call.args[0].id
                yield _Edit(*_span(call), f"self.parse({model}, {data})")


def _imports(tree: ast.Module, module: str, name: str) -> bool:
    return any(
        isinstance(node, ast.ImportFrom)
        and node.module == module
        and any(a.name == name and a.asname is None for a in node.names)
        for node in tree.body
    )


def _wire_aliases(tree: ast.Module) -> Iterator[_Edit]:
    """pydantic `Field(alias=X)` -> `Field(validation_alias=X, serialization_alias=X)`."""
    if not _imports(tree, "pydantic", "Field"):
        return
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "Field"
        ):
            continue
        for keyword in node.keywords:
            if keyword.arg != "alias":
                continue
            value = keyword.value
            if not (isinstance(value, ast.Constant) and isinstance(value.value, str)):
                raise ValueError(f"Field(alias=...) is not a string: {ast.unparse(node)}")
            wire = ast.unparse(value)
            yield _Edit(*_span(keyword), f"validation_alias={wire}, serialization_alias={wire}")


def _end(nodes: list[ast.expr | ast.arg | ast.keyword], before: tuple[int, int]) -> tuple[int, int]:
    """Where the last of `nodes` that ends before `before` ends."""
    ends = [_span(node)[1] for node in nodes if _span(node)[1] <= before]
    if not ends:
        raise ValueError("a catch-all **kwargs with nothing before it")
    return max(ends)


def _no_extra_kwargs(tree: ast.Module) -> Iterator[_Edit]:
    """Drop `**kwargs: Any` from operation methods, and `**kwargs` from their `execute` call."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        kwarg = node.args.kwarg
        if kwarg is None:
            continue
        name = kwarg.arg
        passes_on = [
            (call, keyword)
            for call in ast.walk(node)
            if isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr == "execute"
            and isinstance(call.func.value, ast.Name)
            and call.func.value.id == "self"
            for keyword in call.keywords
            if keyword.arg is None
            and isinstance(keyword.value, ast.Name)
            and keyword.value.id == name
        ]
        if not passes_on:
            continue
        args = node.args
        before: list[ast.expr | ast.arg | ast.keyword] = [
            *args.posonlyargs,
            *args.args,
            *args.kwonlyargs,
            *args.defaults,
            *(default for default in args.kw_defaults if default is not None),
        ]
        if args.vararg is not None:
            before.append(args.vararg)
        kwarg_start, kwarg_end = _span(kwarg)
        yield _Edit(_end(before, kwarg_start), kwarg_end, "")
        for call, keyword in passes_on:
            start, end = _span(keyword)
            yield _Edit(_end([*call.args, *call.keywords], start), end, "")


def _leading_imports_end(tree: ast.Module) -> tuple[int, int]:
    """Where the module's first block of imports ends (a new import goes there)."""
    last: ast.stmt | None = None
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            last = node
        elif last is not None:
            break
    if last is None:
        raise ValueError("a module without imports: nowhere to add one")
    return _span(last)[1]


def _class_var_model_config(tree: ast.Module) -> Iterator[_Edit]:
    """`model_config = ...` in a class body -> `model_config: ClassVar[ConfigDict] = ...`."""
    targets = [
        statement.targets[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
        for statement in node.body
        if isinstance(statement, ast.Assign)
        and len(statement.targets) == 1
        and isinstance(statement.targets[0], ast.Name)
        and statement.targets[0].id == "model_config"
    ]
    if not targets:
        return
    for target in targets:
        yield _Edit(*_span(target), "model_config: ClassVar[ConfigDict]")
    missing = [
        f"from {module} import {name}"
        for module, name in (("typing", "ClassVar"), ("pydantic", "ConfigDict"))
        if not _imports(tree, module, name)
    ]
    if missing:
        end = _leading_imports_end(tree)
        yield _Edit(end, end, "".join(f"\n{line}" for line in missing))


REWRITES: tuple[Callable[[ast.Module], Iterator[_Edit]], ...] = (
    _rewrite_imports,
    _open_enums,
    _checked_parsing,
    _wire_aliases,
    _no_extra_kwargs,
    _class_var_model_config,
)


def postprocess_source(source: str) -> str:
    """Apply every rewrite to one generated module."""
    edits = [edit for rewrite in REWRITES for edit in rewrite(ast.parse(source))]
    return _apply(source, edits)


#: The flow flavour: its base module and class, and the type variable of its effects.
FLOW_BASE_MODULE = "graphql_flow_base_client"
FLOW_BASE_CLASS = "GraphQLFlowBaseClient"
FLOW_EFFECT = "Effect"


def flow_client_source(sync_client: str, *, sync_base: str, flow_client: str) -> str:
    """The flow client derived from ariadne-codegen's sync client module.

    The class (on `sync_base`) becomes `flow_client` on the flow base client,
    each method's return type `R` becomes `Generator[Effect, Any, R]`, and
    `response = self.execute(...)` becomes `response = yield from self.execute(...)`.
    Everything else -- queries, variables, parsing -- is the sync client's text.
    """
    tree = ast.parse(sync_client)
    edits: list[_Edit] = []
    classes = [
        node
        for node in tree.body
        if isinstance(node, ast.ClassDef)
        and [ast.unparse(base) for base in node.bases] == [sync_base]
    ]
    if len(classes) != 1:
        raise ValueError(f"expected one class on {sync_base}, found {len(classes)}")
    (client,) = classes
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and any(a.name == sync_base for a in node.names):
            if [a.name for a in node.names] != [sync_base]:
                raise ValueError(f"unexpected import next to {sync_base}: {ast.unparse(node)}")
            yield_import = (
                "from collections.abc import Generator\n"
                "from typing import Any\n"
                f"from .{FLOW_BASE_MODULE} import {FLOW_BASE_CLASS}, {FLOW_EFFECT}"
            )
            edits.append(_Edit(*_span(node), yield_import))
    name_at = (client.lineno, client.col_offset + len("class "))
    edits.append(_Edit(name_at, (name_at[0], name_at[1] + len(client.name)), flow_client))
    edits.append(_Edit(*_span(client.bases[0]), f"{FLOW_BASE_CLASS}[{FLOW_EFFECT}]"))
    for method in client.body:
        if isinstance(method, ast.AsyncFunctionDef):
            raise ValueError(f"the sync client has an async method: {method.name}")
        if not isinstance(method, ast.FunctionDef):
            continue
        if method.returns is None:
            raise ValueError(f"{method.name} has no return type")
        returns = ast.get_source_segment(sync_client, method.returns)
        edits.append(_Edit(*_span(method.returns), f"Generator[{FLOW_EFFECT}, Any, {returns}]"))
        executes = [
            statement.value
            for statement in ast.walk(method)
            if isinstance(statement, ast.Assign)
            and isinstance(statement.value, ast.Call)
            and ast.unparse(statement.value.func) == "self.execute"
        ]
        if len(executes) != 1:
            raise ValueError(f"{method.name}: expected one `x = self.execute(...)`")
        start = _span(executes[0])[0]
        edits.append(_Edit(start, start, "yield from "))
    return _apply(sync_client, edits)
