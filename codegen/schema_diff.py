"""Show what a new RunPod schema breaks before regenerating the clients.

    python -m codegen.schema_diff [--old FILE] [--new FILE | --url URL]

Compares the committed SDL (--old, default schema/runpod.graphql) with a new one,
read from --new or pulled into memory from --url (default RunPod's API, key from
RUNPOD_API_KEY). Prints graphql-core's breaking and dangerous changes and every
document in codegen/operations that no longer validates against the new schema.
Exit status: 0 when nothing breaks, 1 on breaking changes or broken operations,
2 when a schema cannot be read or pulled.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from graphql import (
    BreakingChange,
    DangerousChange,
    DefinitionNode,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    Source,
    build_schema,
    find_breaking_changes,
    find_dangerous_changes,
    parse,
    validate,
)

from codegen.pull_schema import DEFAULT_URL, SchemaSourceError, fail, introspect

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OLD = ROOT / "schema" / "runpod.graphql"
OPERATIONS = ROOT / "codegen" / "operations"


@dataclass
class Report:
    """Everything that changed between two schemas, as it matters to the SDK."""

    breaking: list[BreakingChange] = field(default_factory=list)
    dangerous: list[DangerousChange] = field(default_factory=list)
    #: operation file -> validation messages against the new schema
    broken_operations: dict[str, list[str]] = field(default_factory=dict)

    @property
    def breaks(self) -> bool:
        return bool(self.breaking or self.broken_operations)

    def lines(self) -> Iterable[str]:
        if not (self.breaking or self.dangerous or self.broken_operations):
            yield "No breaking or dangerous changes; every operation still validates."
            return
        for title, changes in (("Breaking", self.breaking), ("Dangerous", self.dangerous)):
            yield f"{title} changes ({len(changes)}):"
            yield from (f"  {change.type.name}: {change.description}" for change in changes)
        yield f"Operations that no longer validate ({len(self.broken_operations)} files):"
        for path, messages in self.broken_operations.items():
            yield f"  {path}:"
            yield from (f"    {message}" for message in messages)


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


def compare(old: GraphQLSchema, new: GraphQLSchema, operations: Path = OPERATIONS) -> Report:
    return Report(
        breaking=find_breaking_changes(old, new),
        dangerous=find_dangerous_changes(old, new),
        broken_operations=broken_operations(new, operations),
    )


def _load(path: Path) -> GraphQLSchema:
    try:
        return build_schema(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SchemaSourceError(f"cannot read {path}: {exc.strerror}") from None
    except (GraphQLError, TypeError) as exc:
        raise SchemaSourceError(f"{path} is not a valid GraphQL schema: {exc}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m codegen.schema_diff", description=__doc__)
    parser.add_argument("--old", type=Path, default=DEFAULT_OLD, help="the committed SDL")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--new", type=Path, help="the new SDL file")
    source.add_argument("--url", default=DEFAULT_URL, help="pull the new schema from this URL")
    parser.add_argument("--operations", type=Path, default=OPERATIONS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        old = _load(args.old)
        new = _load(args.new) if args.new is not None else introspect(args.url)
        report = compare(old, new, args.operations)
    except SchemaSourceError as exc:
        return fail("schema-diff", str(exc))
    print(f"Comparing {_shown(args.old)} with {_shown(args.new) if args.new else args.url}")
    print("\n".join(report.lines()))
    return 1 if report.breaks else 0


if __name__ == "__main__":
    sys.exit(main())
