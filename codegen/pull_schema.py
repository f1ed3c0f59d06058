"""Pull RunPod's schemas into deterministic snapshots under schema/.

    python -m codegen.pull_schema [--url URL --out schema/runpod.graphql | --no-graphql]
        [--v2-url URL | --v2-file FILE] [--v2-out schema/runpod-rest-v2.openapi.json]
        [--openapi-url U]

GraphQL: introspects --url into a sorted SDL file. The key comes from RUNPOD_API_KEY
and travels only in the Authorization header. The SDL is written in the repository's
canonical form (types sorted, printed by graphql-core, the header as the schema
description), so pulling an unchanged API gives an unchanged file apart from the
header's date. RunPod turns introspection off in production; that is said plainly.

REST v2: reads RunPod's OpenAPI description (--v2-url, public, no key sent; or a local
--v2-file) and writes it reduced to the contract (see reduce_openapi): paths,
operations, parameters, request and response schemas by status code, component
schemas with their types, formats, enums and constraints. RunPod's prose
(descriptions, summaries, examples, titles, x- extensions) is dropped, so none of it
reaches the repository or generated docstrings. Output is sorted JSON with no date:
the same description always gives the same bytes.

Sources are independent: each one that was read is written; each one that failed
leaves its file untouched and prints one line on stderr, and the exit status is 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import httpx
import yaml
from graphql import (
    GraphQLSchema,
    build_client_schema,
    get_introspection_query,
    lexicographic_sort_schema,
    print_schema,
)

DEFAULT_URL = "https://api.runpod.io/graphql"
DEFAULT_OUT = Path("schema/runpod.graphql")
DEFAULT_OPENAPI_OUT = Path("schema/serverless.openapi.yaml")
DEFAULT_V2_URL = "https://api.runpod.io/v2/openapi.json"
DEFAULT_V2_OUT = Path("schema/runpod-rest-v2.openapi.json")
KEY_VARIABLE = "RUNPOD_API_KEY"
TIMEOUT_SECONDS = 30.0

HEADER = """\
RunPod control-plane GraphQL API, pulled by introspection from {url} on {date}.

Written by `make pull-schema` (codegen/pull_schema.py); type, field and enum descriptions \
are the server's. Before regenerating, see what changed with `make schema-diff`."""


class SchemaSourceError(RuntimeError):
    """Why a schema could not be obtained, in one line meant for the user."""


class _HTTPStatusError(SchemaSourceError):
    """A non-200 answer; keeps the response so a caller can read a GraphQL error body."""

    def __init__(self, message: str, response: httpx.Response) -> None:
        super().__init__(message)
        self.response = response


@dataclass(frozen=True)
class Fetched:
    """What was pulled, ready to write."""

    sdl: str
    type_count: int


def needs_key(url: str) -> bool:
    """RunPod's own hosts refuse anonymous requests; other servers (the emulator) may not."""
    host = urlsplit(url).hostname or ""
    return host in ("runpod.io", "runpod.ai") or host.endswith((".runpod.io", ".runpod.ai"))


def pull_date() -> str:
    """Today (UTC), or the day of SOURCE_DATE_EPOCH when set, for reproducible pulls."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    return time.strftime("%Y-%m-%d", time.gmtime(int(epoch) if epoch else None))


def canonical_sdl(schema: GraphQLSchema, description: str) -> str:
    """The repository's SDL form: sorted, printed, with `description` as the header."""
    kwargs = schema.to_kwargs()
    kwargs["description"] = description
    return print_schema(lexicographic_sort_schema(GraphQLSchema(**kwargs))) + "\n"


def _request(method: str, url: str, key: str | None, **kwargs: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        response = httpx.request(method, url, headers=headers, timeout=TIMEOUT_SECONDS, **kwargs)
    except httpx.HTTPError as exc:
        raise SchemaSourceError(f"cannot reach {url}: {type(exc).__name__}: {exc}") from None
    if response.status_code != 200:
        hint = f" (check {KEY_VARIABLE})" if response.status_code in (401, 403) else ""
        raise _HTTPStatusError(
            f"{url} answered HTTP {response.status_code} {response.reason_phrase}{hint}", response
        )
    return response


def _api_key(url: str) -> str | None:
    key = os.environ.get(KEY_VARIABLE, "").strip() or None
    if key is None and needs_key(url):
        raise SchemaSourceError(f"{KEY_VARIABLE} is not set: {url} needs an API key to answer")
    return key


INTROSPECTION_OFF_HINT = (
    "RunPod turns introspection off in production, so schema/runpod.graphql is kept by hand "
    "(see the README, 'Regenerating after an API change'); run with URL= to skip the GraphQL "
    "part, or point URL= at a server that allows introspection"
)


def _graphql_errors(response: httpx.Response) -> list[str]:
    """The messages of a GraphQL error answer (servers send them with 200 or 4xx), else []."""
    try:
        answer = response.json()
    except ValueError:
        return []
    errors = answer.get("errors") if isinstance(answer, dict) else None
    if not isinstance(errors, list):
        return []
    texts = (str(e.get("message") if isinstance(e, dict) else e) for e in errors)
    return [" ".join(text.split()) for text in texts]  # one line each


def _refuses_introspection(messages: list[str]) -> bool:
    text = " ".join(messages).lower()
    return "introspection" in text or "__schema" in text


def introspect(url: str) -> GraphQLSchema:
    """The schema `url` describes by introspection."""
    key = _api_key(url)
    body = {"query": get_introspection_query(), "operationName": "IntrospectionQuery"}
    try:
        response = _request("POST", url, key, json=body)
    except _HTTPStatusError as exc:
        messages = _graphql_errors(exc.response)
        if _refuses_introspection(messages):
            raise SchemaSourceError(
                f"{url} refused introspection: {messages[0]}. {INTROSPECTION_OFF_HINT}"
            ) from None
        raise
    try:
        answer = response.json()
    except ValueError:
        raise SchemaSourceError(
            f"{url} did not answer with JSON: is it a GraphQL endpoint?"
        ) from None
    if not isinstance(answer, dict):
        raise SchemaSourceError(f"{url} did not answer with a GraphQL response object")
    messages = _graphql_errors(response)
    if messages:
        hint = f". {INTROSPECTION_OFF_HINT}" if _refuses_introspection(messages) else ""
        raise SchemaSourceError(f"{url} refused introspection: {messages[0]}{hint}")
    data = answer.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("__schema"), dict):
        raise SchemaSourceError(f"{url} answered without an introspection result (data.__schema)")
    try:
        return build_client_schema(data)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise SchemaSourceError(
            f"{url} answered an introspection result that is not valid: {exc}"
        ) from None


def pull_sdl(url: str) -> Fetched:
    """Introspect `url` and print its schema in canonical form with a fresh header."""
    schema = introspect(url)
    sdl = canonical_sdl(schema, HEADER.format(url=url, date=pull_date()))
    type_count = sum(not name.startswith("__") for name in schema.type_map)
    return Fetched(sdl, type_count)


def pull_openapi(url: str) -> str:
    """The OpenAPI document at `url`, checked to be a valid description (no key is sent)."""
    from openapi_spec_validator import validate  # slow to import; only this path needs it

    text = _request("GET", url, None).text
    try:
        document = yaml.safe_load(text)
        validate(document)
    except Exception as exc:  # yaml and the validator raise many kinds; all mean "unusable"
        summary = str(exc).splitlines()[0] if str(exc) else ""
        raise SchemaSourceError(
            f"{url} is not a valid OpenAPI document: {type(exc).__name__}: {summary}"
        ) from None
    return text


# --- REST v2: RunPod's OpenAPI description, reduced to the contract ---------------------------
#
# The reduction walks the OpenAPI 3.x object model with a whitelist per kind of object, so a
# property *named* "description" or "title" (ErrorResponse has one) is kept while the
# keyword is dropped. Kept: what a client's behaviour depends on. Dropped quietly: prose and
# vendor extensions. Anything else is dropped and named in the pull's output, so that a new
# contract keyword in RunPod's description is noticed, not silently lost.
#
# Names: openapi-python-client names a model after its component key unless the schema has a
# `title` (which then wins), and enum members after the values unless `x-enum-varnames` gives
# names. Both are dropped, so names come from keys and values only: stable, and
# `WorkerStatus.RUNNING` rather than RunPod's Go-style `WorkerStatus.WORKER_STATUS_RUNNING`.

Convert = Callable[[Any, str], Any]

PROSE: Final = frozenset(
    {"description", "summary", "title", "example", "examples", "externalDocs", "$comment"}
)
_SCHEMA_VALUES: Final = (
    "$ref", "type", "format", "enum", "const", "default", "nullable",
    "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
    "minLength", "maxLength", "pattern", "minItems", "maxItems", "uniqueItems",
    "minProperties", "maxProperties", "readOnly", "writeOnly", "deprecated",
    "contentMediaType", "contentEncoding", "dependentRequired", "discriminator",
)  # fmt: skip
_SCHEMA_ONE: Final = (
    "items", "not", "if", "then", "else", "contains", "propertyNames",
    "additionalProperties", "unevaluatedProperties", "unevaluatedItems",
)  # fmt: skip
_SCHEMA_LIST: Final = ("allOf", "oneOf", "anyOf", "prefixItems")
_SCHEMA_MAP: Final = ("properties", "patternProperties", "dependentSchemas", "$defs")
HTTP_METHODS: Final = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _object(node: Any, where: str) -> dict[str, Any]:
    if not isinstance(node, dict):
        raise SchemaSourceError(
            f"not a valid OpenAPI document: {where or 'the document'} is not an object"
        )
    return node


def _list(node: Any, where: str) -> list[Any]:
    if not isinstance(node, list):
        raise SchemaSourceError(
            f"not a valid OpenAPI document: {where or 'the document'} is not a list"
        )
    return node


@dataclass(frozen=True)
class Reduced:
    """A description reduced to the contract, and the keywords the reduction did not know
    (keyword -> where it was first seen)."""

    document: dict[str, Any]
    unknown: dict[str, str]


class _Reducer:
    def __init__(self) -> None:
        self.unknown: dict[str, str] = {}

    def pick(
        self, node: Any, where: str, keep: Mapping[str, Convert | None], quiet: Iterable[str] = ()
    ) -> dict[str, Any]:
        """`node`'s keys that `keep` names, each converted by its function (copied when None).
        Prose, x- extensions and `quiet` keys are dropped; other keys are dropped and noted."""
        out: dict[str, Any] = {}
        for key, value in _object(node, where).items():
            convert = keep.get(key, _MISSING)
            if convert is None:
                out[key] = value
            elif convert is not _MISSING:
                out[key] = convert(value, f"{where}/{key}")
            elif key not in PROSE and not key.startswith("x-") and key not in quiet:
                self.unknown.setdefault(key, where)
        return out

    def each(self, convert: Convert) -> Convert:
        """A map of names to objects of one kind."""
        return lambda node, where: {
            key: convert(value, f"{where}/{key}") for key, value in _object(node, where).items()
        }

    def every(self, convert: Convert) -> Convert:
        """A list of objects of one kind."""
        return lambda node, where: [
            convert(value, f"{where}/{i}") for i, value in enumerate(_list(node, where))
        ]

    def schema(self, node: Any, where: str) -> Any:
        if isinstance(node, bool):  # JSON Schema allows true and false as schemas
            return node
        keep: dict[str, Convert | None] = dict.fromkeys(_SCHEMA_VALUES)
        keep.update(dict.fromkeys(_SCHEMA_ONE, self.schema))
        keep.update(dict.fromkeys(_SCHEMA_LIST, self.every(self.schema)))
        keep.update(dict.fromkeys(_SCHEMA_MAP, self.each(self.schema)))
        # `required` is a set of names (or a bool in OpenAPI 2 style): sorted for stability
        keep["required"] = lambda v, w: v if isinstance(v, bool) else sorted(_list(v, w))
        return self.pick(node, where, keep)

    def content(self, node: Any, where: str) -> Any:
        encoding: dict[str, Convert | None] = {"headers": self.each(self.header)}
        encoding.update(dict.fromkeys(("contentType", "style", "explode", "allowReserved")))
        media: dict[str, Convert | None] = {
            "schema": self.schema,
            "encoding": self.each(self.fields(encoding)),
        }
        return self.each(self.fields(media))(node, where)

    def fields(self, keep: Mapping[str, Convert | None]) -> Convert:
        return lambda node, where: self.pick(node, where, keep)

    def header(self, node: Any, where: str) -> Any:
        keep = {
            "$ref": None, "required": None, "deprecated": None, "style": None, "explode": None,
            "schema": self.schema, "content": self.content,
        }  # fmt: skip
        return self.pick(node, where, keep)

    def parameter(self, node: Any, where: str) -> Any:
        keep = {
            "$ref": None, "name": None, "in": None, "required": None, "deprecated": None,
            "allowEmptyValue": None, "style": None, "explode": None, "allowReserved": None,
            "schema": self.schema, "content": self.content,
        }  # fmt: skip
        return self.pick(node, where, keep)

    def request_body(self, node: Any, where: str) -> Any:
        return self.pick(node, where, {"$ref": None, "required": None, "content": self.content})

    def response(self, node: Any, where: str) -> Any:
        keep = {"$ref": None, "headers": self.each(self.header), "content": self.content}
        reduced = self.pick(node, where, keep, quiet=("links",))
        if "$ref" not in reduced:
            reduced["description"] = ""  # required by OpenAPI; RunPod's text is not kept
        return reduced

    def operation(self, node: Any, where: str) -> Any:
        keep = {
            "operationId": None, "tags": None, "deprecated": None, "security": None,
            "parameters": self.every(self.parameter), "requestBody": self.request_body,
            "responses": self.each(self.response),
        }  # fmt: skip
        return self.pick(node, where, keep)

    def path_item(self, node: Any, where: str) -> Any:
        keep: dict[str, Convert | None] = {"$ref": None}
        keep["parameters"] = self.every(self.parameter)
        keep.update(dict.fromkeys(HTTP_METHODS, self.operation))
        return self.pick(node, where, keep)

    def security_scheme(self, node: Any, where: str) -> Any:
        scopes: Convert = lambda v, w: dict.fromkeys(sorted(_object(v, w)), "")  # noqa: E731
        flow = {"authorizationUrl": None, "tokenUrl": None, "refreshUrl": None, "scopes": scopes}
        keep = {
            "$ref": None, "type": None, "scheme": None, "in": None, "name": None,
            "openIdConnectUrl": None, "flows": self.each(self.fields(flow)),
        }  # fmt: skip
        # bearerFormat is, by the OpenAPI spec, a hint for documentation
        return self.pick(node, where, keep, quiet=("bearerFormat",))

    def document(self, node: Any) -> dict[str, Any]:
        components = {
            "schemas": self.each(self.schema),
            "responses": self.each(self.response),
            "parameters": self.each(self.parameter),
            "requestBodies": self.each(self.request_body),
            "headers": self.each(self.header),
            "securitySchemes": self.each(self.security_scheme),
            "pathItems": self.each(self.path_item),
        }
        server = {"url": None, "variables": self.each(self.fields({"enum": None, "default": None}))}
        info: Convert = lambda v, w: self.pick(  # noqa: E731
            v, w, {"title": None, "version": None}, quiet=("contact", "license", "termsOfService")
        )
        keep = {
            "openapi": None, "jsonSchemaDialect": None, "security": None, "info": info,
            "servers": self.every(self.fields(server)),
            "tags": self.every(self.fields({"name": None})),
            "paths": self.each(self.path_item),
            "webhooks": self.each(self.path_item),
            "components": lambda v, w: self.pick(v, w, components, quiet=("examples", "links")),
        }  # fmt: skip
        return self.pick(node, "", keep)


_MISSING: Final[Any] = object()


def reduce_openapi(document: Any) -> Reduced:
    """`document` (an OpenAPI 3.x description) reduced to the contract. Idempotent."""
    reducer = _Reducer()
    reduced = reducer.document(document)
    for required in ("openapi", "info", "paths"):
        if required not in reduced:
            raise SchemaSourceError(f"not a valid OpenAPI document: it has no '{required}'")
    return Reduced(reduced, dict(sorted(reducer.unknown.items())))


def dump_openapi(document: dict[str, Any]) -> str:
    """The repository's form of a reduced description: JSON, keys sorted, two-space indent."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def parse_openapi(text: str, source: str) -> Any:
    """JSON (what RunPod publishes), else YAML."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        summary = str(exc).splitlines()[0] if str(exc) else ""
        raise SchemaSourceError(f"{source} is neither JSON nor YAML: {summary}") from None


def check_openapi(document: dict[str, Any], source: str) -> None:
    """Raise SchemaSourceError unless `document` is a valid OpenAPI description."""
    from openapi_spec_validator import validate  # slow to import; only the OpenAPI paths need it

    try:
        validate(document)
    except Exception as exc:  # the validator raises many kinds; all mean "unusable"
        summary = str(exc).splitlines()[0] if str(exc) else ""
        raise SchemaSourceError(
            f"{source} is not a valid OpenAPI document: {type(exc).__name__}: {summary}"
        ) from None


def read_openapi_text(*, url: str | None = None, path: Path | None = None) -> tuple[str, str]:
    """(text, where it came from) of a description at `url` (no key is sent) or in `path`."""
    if path is not None:
        try:
            return path.read_text(encoding="utf-8"), str(path)
        except OSError as exc:
            raise SchemaSourceError(f"cannot read {path}: {exc.strerror}") from None
    assert url is not None
    return _request("GET", url, None).text, url


def load_v2(*, url: str | None = None, path: Path | None = None, check: bool = True) -> Reduced:
    """The REST v2 description at `url` or in `path`, reduced and (unless `check` is false:
    the validator takes seconds on RunPod's description) checked to be valid."""
    text, source = read_openapi_text(url=url, path=path)
    document = parse_openapi(text, source)
    try:
        reduced = reduce_openapi(document)
    except SchemaSourceError as exc:
        raise SchemaSourceError(f"{source}: {exc}") from None
    if check:
        check_openapi(reduced.document, f"{source} (reduced)")
    return reduced


def operation_counts(document: dict[str, Any]) -> dict[str, int]:
    """Operations (paths x methods) per first tag ('untagged' when none), sorted by tag."""
    counts: dict[str, int] = {}
    for item in document.get("paths", {}).values():
        for method in HTTP_METHODS:
            if method in item:
                tags = item[method].get("tags") or ["untagged"]
                counts[tags[0]] = counts.get(tags[0], 0) + 1
    return dict(sorted(counts.items()))


def fail(tool: str, message: str) -> int:
    """Print one line on stderr (the key masked, should any text ever echo it); exit status 2."""
    key = os.environ.get(KEY_VARIABLE, "").strip()
    print(f"{tool}: {message.replace(key, '***') if key else message}", file=sys.stderr)
    return 2


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` in one step, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask  # what open() would have given a new file
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.", delete=False
    ) as handle:
        handle.write(text)
    os.chmod(handle.name, mode)  # a temporary file is created 0600
    os.replace(handle.name, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m codegen.pull_schema",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    graphql = parser.add_mutually_exclusive_group()
    graphql.add_argument("--url", default=DEFAULT_URL, help=f"GraphQL URL (default {DEFAULT_URL})")
    graphql.add_argument("--no-graphql", action="store_true", help="do not pull the GraphQL schema")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="SDL file to write")
    v2 = parser.add_mutually_exclusive_group()
    v2.add_argument("--v2-url", help=f"pull REST v2's description from this URL ({DEFAULT_V2_URL})")
    v2.add_argument("--v2-file", type=Path, help="read REST v2's description from this file")
    parser.add_argument("--v2-out", type=Path, default=DEFAULT_V2_OUT, help="reduced v2 snapshot")
    parser.add_argument(
        "--openapi-url", help="also refresh the serverless OpenAPI file from this URL"
    )
    parser.add_argument("--openapi-out", type=Path, default=DEFAULT_OPENAPI_OUT)
    args = parser.parse_args(argv)
    if args.no_graphql and all(a is None for a in (args.v2_url, args.v2_file, args.openapi_url)):
        parser.error("nothing to pull: --no-graphql without --v2-url, --v2-file or --openapi-url")

    failures = 0
    if not args.no_graphql:
        try:
            fetched = pull_sdl(args.url)
        except SchemaSourceError as exc:
            failures += fail("pull-schema", f"{exc}; {args.out} left unchanged")
        else:
            write_atomically(args.out, fetched.sdl)
            print(f"wrote {args.out}: {fetched.type_count} types from {args.url}")
    if args.openapi_url is not None:
        try:
            openapi = pull_openapi(args.openapi_url)
        except SchemaSourceError as exc:
            failures += fail("pull-schema", f"{exc}; {args.openapi_out} left unchanged")
        else:
            write_atomically(args.openapi_out, openapi)
            print(f"wrote {args.openapi_out} from {args.openapi_url}")
    if args.v2_url is not None or args.v2_file is not None:
        try:
            reduced = load_v2(url=args.v2_url, path=args.v2_file)
        except SchemaSourceError as exc:
            failures += fail("pull-schema", f"{exc}; {args.v2_out} left unchanged")
        else:
            write_atomically(args.v2_out, dump_openapi(reduced.document))
            counts = operation_counts(reduced.document)
            source = args.v2_url or args.v2_file
            print(f"wrote {args.v2_out}: {sum(counts.values())} operations from {source}")
            if reduced.unknown:
                found = ", ".join(
                    f"{key} (at {where or '/'})" for key, where in reduced.unknown.items()
                )
                print(f"  dropped keywords the reduction does not know (check them): {found}")
    return 2 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
