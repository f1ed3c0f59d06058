"""Pull a GraphQL schema by introspection into a sorted, deterministic SDL file.

    python -m codegen.pull_schema --url URL --out schema/runpod.graphql [--openapi-url U]

The key comes from RUNPOD_API_KEY and travels only in the Authorization header.
The SDL is written in the repository's canonical form (types sorted, printed by
graphql-core, the header as the schema description), so pulling an unchanged
API gives an unchanged file apart from the header's date. Any failure leaves
the files untouched and exits 2 with one line on stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
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
KEY_VARIABLE = "RUNPOD_API_KEY"
TIMEOUT_SECONDS = 30.0

HEADER = """\
RunPod control-plane GraphQL API, pulled by introspection from {url} on {date}.

Written by `make pull-schema` (codegen/pull_schema.py); type, field and enum descriptions \
are the server's. Before regenerating, see what changed with `make schema-diff`."""


class SchemaSourceError(RuntimeError):
    """Why a schema could not be obtained, in one line meant for the user."""


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
        raise SchemaSourceError(
            f"{url} answered HTTP {response.status_code} {response.reason_phrase}{hint}"
        )
    return response


def _api_key(url: str) -> str | None:
    key = os.environ.get(KEY_VARIABLE, "").strip() or None
    if key is None and needs_key(url):
        raise SchemaSourceError(f"{KEY_VARIABLE} is not set: {url} needs an API key to answer")
    return key


def introspect(url: str) -> GraphQLSchema:
    """The schema `url` describes by introspection."""
    key = _api_key(url)
    response = _request(
        "POST",
        url,
        key,
        json={"query": get_introspection_query(), "operationName": "IntrospectionQuery"},
    )
    try:
        answer = response.json()
    except ValueError:
        raise SchemaSourceError(
            f"{url} did not answer with JSON: is it a GraphQL endpoint?"
        ) from None
    if not isinstance(answer, dict):
        raise SchemaSourceError(f"{url} did not answer with a GraphQL response object")
    errors = answer.get("errors")
    if errors:
        first = errors[0].get("message") if isinstance(errors[0], dict) else errors[0]
        raise SchemaSourceError(f"{url} refused introspection: {first}")
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


def fail(tool: str, message: str) -> int:
    """Print one line on stderr (the key masked, should any text ever echo it); exit status 2."""
    key = os.environ.get(KEY_VARIABLE, "").strip()
    print(f"{tool}: {message.replace(key, '***') if key else message}", file=sys.stderr)
    return 2


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` in one step, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.", delete=False
    ) as handle:
        handle.write(text)
    os.replace(handle.name, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m codegen.pull_schema", description=__doc__)
    parser.add_argument("--url", default=DEFAULT_URL, help=f"GraphQL URL (default {DEFAULT_URL})")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="SDL file to write")
    parser.add_argument("--openapi-url", help="also refresh the OpenAPI file from this URL")
    parser.add_argument("--openapi-out", type=Path, default=DEFAULT_OPENAPI_OUT)
    args = parser.parse_args(argv)
    try:
        fetched = pull_sdl(args.url)
        openapi = None if args.openapi_url is None else pull_openapi(args.openapi_url)
    except SchemaSourceError as exc:
        return fail("pull-schema", f"{exc}; {args.out} left unchanged")
    write_atomically(args.out, fetched.sdl)
    print(f"wrote {args.out}: {fetched.type_count} types from {args.url}")
    if openapi is not None:
        write_atomically(args.openapi_out, openapi)
        print(f"wrote {args.openapi_out} from {args.openapi_url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
