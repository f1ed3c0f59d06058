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


def _span(node: ast.stmt | ast.expr) -> tuple[tuple[int, int], tuple[int, int]]:
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


REWRITES: tuple[Callable[[ast.Module], Iterator[_Edit]], ...] = (
    _rewrite_imports,
    _open_enums,
    _checked_parsing,
)


def postprocess_source(source: str) -> str:
    """Apply every rewrite to one generated module."""
    edits = [edit for rewrite in REWRITES for edit in rewrite(ast.parse(source))]
    return _apply(source, edits)
