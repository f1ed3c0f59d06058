"""The v2 description as the emulator reads it: routes, parameters, and the schema checks.

The emulator validates requests against the same description the SDK is generated
from (``generated/rest/openapi.json``, a byte copy of RunPod's reduced snapshot), as
the GraphQL control plane validates documents against the SDL: a body RunPod
would refuse -- an unknown field (``additionalProperties`` / ``unevaluatedProperties:
false``), a wrong type, a value out of range or not in its enum, a missing
required field -- is refused here too, with HTTP 400 and a problem document that
names the field. The checker covers the JSON Schema keywords the description uses
(``$ref``, ``type`` lists, ``enum``, ``const``, bounds, ``pattern``, ``allOf``,
``anyOf``, ``oneOf`` with its discriminator, ``if``/``then``, ``not``,
``dependentRequired``, ``minProperties``, ``uniqueItems``); formats are not checked
except ``date-time`` in query parameters.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from http import HTTPStatus
from importlib import resources
from typing import Any
from urllib.parse import unquote

from runpod_typed._generated.rest.flow_base import Operation
from runpod_typed._generated.rest.operations import COLLECTIONS, OPERATIONS, ROOT
from runpod_typed.emulator import _json as wire

Json = dict[str, Any]


class Problem(Exception):
    """An error answer of the v2 API: RFC 9457 problem details (`title`, `status`,
    `detail`, `errors`), as RunPod's v2 server sends them."""

    def __init__(self, status: int, detail: str, errors: list[str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors or []

    def body(self) -> Json:
        body: Json = {"title": HTTPStatus(self.status).phrase, "status": self.status}
        body["detail"] = self.detail
        if self.errors:
            body["errors"] = self.errors
        return body


@cache
def document() -> Json:
    """The description the SDK was generated from (shipped with the package)."""
    text = resources.files("runpod_typed._generated.rest").joinpath("openapi.json").read_text()
    loaded: Json = json.loads(text)
    return loaded


def owns(path: str) -> bool:
    """Whether a path is REST v2's: ``/v2/<collection>...`` or the description itself.

    RunPod serves the job API (``/v2/{endpoint_id}/run``, ...) on another host; here
    both share /v2, told apart by the first segment, which for v2 is one of its
    collections (`COLLECTIONS`: pods, serverless, templates, ...). The emulator never
    gives a serverless endpoint one of those names.
    """
    parts = path.split("/", 3)
    return (
        len(parts) >= 3
        and parts[0] == ""
        and "/" + parts[1] == ROOT
        and (parts[2] in COLLECTIONS or (parts[2] == "openapi.json" and len(parts) == 3))
    )


@dataclass(frozen=True)
class _Route:
    operation: Operation
    pattern: re.Pattern[str]
    literal_segments: int


def _compile(operation: Operation) -> _Route:
    regex = "".join(
        f"(?P<{name}>[^/]+)" if name else re.escape(text) for text, name in _split(operation.path)
    )
    literal = sum(1 for part in operation.path.split("/") if part and not part.startswith("{"))
    return _Route(operation, re.compile(f"^{regex}$"), literal)


def _split(path: str) -> list[tuple[str, str]]:
    """``/v2/pods/{id}`` -> [("/v2/pods/", ""), ("", "id")]."""
    pieces: list[tuple[str, str]] = []
    for index, part in enumerate(re.split(r"\{([^{}]+)\}", path)):
        pieces.append(("", part) if index % 2 else (part, ""))
    return [piece for piece in pieces if piece != ("", "")]


@cache
def _routes() -> tuple[_Route, ...]:
    # Literal paths win over templates: /v2/registries/delegations is not a registry id.
    compiled = [_compile(op) for op in OPERATIONS.values()]
    return tuple(sorted(compiled, key=lambda r: -r.literal_segments))


def match(method: str, raw_path: str) -> tuple[Operation, dict[str, str]]:
    """The operation a request names and its path parameters (decoded), or a Problem
    (404 no such route, 405 with the methods the path has)."""
    allowed: set[str] = set()
    for route in _routes():
        found = route.pattern.match(raw_path)
        if found is None:
            continue
        if route.operation.method != method:
            allowed.add(route.operation.method)
            continue
        return route.operation, {k: unquote(v) for k, v in found.groupdict().items()}
    if allowed:
        raise MethodNotAllowed(sorted(allowed))
    raise Problem(404, f"no route {method} {unquote(raw_path)}")


class MethodNotAllowed(Problem):
    def __init__(self, allowed: list[str]) -> None:
        super().__init__(405, f"method not allowed; this path accepts {', '.join(allowed)}")
        self.allowed = allowed


# -- parameters and bodies ----------------------------------------------------------------


def _resolve(node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = document()
        for part in str(node["$ref"])[2:].split("/"):
            target = target[part]
        node = target
    return node


def _operation_node(operation: Operation) -> Json:
    item: Json = document()["paths"][operation.path]
    node: Json = item[operation.method.lower()]
    return node


def _parameters(operation: Operation, where: str) -> list[Json]:
    item = document()["paths"][operation.path]
    node = _operation_node(operation)
    params = [_resolve(p) for p in [*node.get("parameters", []), *item.get("parameters", [])]]
    return [p for p in params if p.get("in") == where]


def query(operation: Operation, raw: Mapping[str, str]) -> Json:
    """The operation's query parameters, parsed by their schemas and checked (defaults
    filled in); unknown names are ignored. Raises Problem(400) naming the bad ones."""
    values: Json = {}
    errors: list[str] = []
    for parameter in _parameters(operation, "query"):
        name = parameter["name"]
        schema = _resolve(parameter.get("schema", {}))
        if name not in raw:
            if "default" in schema:
                values[name] = schema["default"]
            elif parameter.get("required"):
                errors.append(f"query.{name}: required")
            continue
        try:
            value = _parse_query(raw[name], schema)
        except ValueError as exc:
            errors.append(f"query.{name}: {exc}")
            continue
        errors += validate(schema, value, f"query.{name}")
        values[name] = value
    if errors:
        raise Problem(400, f"invalid query parameter: {errors[0]}", errors)
    return values


def _parse_query(text: str, schema: Json) -> Any:
    kind = _resolve(schema).get("type")
    if kind == "array":
        item = _resolve(schema.get("items", {}))
        return [_parse_query(part, item) for part in text.split(",") if part != ""]
    if kind == "integer":
        if not re.fullmatch(r"-?\d+", text):
            raise ValueError(f"expected an integer, got {text!r}")
        return int(text)
    if kind == "number":
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):  # nan, inf: no JSON number is either
            raise ValueError(f"expected a number, got {text!r}")
        return number
    if kind == "boolean":
        if text not in ("true", "false"):
            raise ValueError(f"expected true or false, got {text!r}")
        return text == "true"
    if schema.get("format") == "date-time":
        parse_time(text)
    return text


def parse_time(text: str) -> datetime:
    """An RFC 3339 timestamp, or ValueError (any Python this package supports)."""
    value = text.strip()
    if value[-1:] in ("Z", "z"):
        value = value[:-1] + "+00:00"
    value = re.sub(r"\.(\d+)", lambda m: "." + m.group(1)[:6].ljust(6, "0"), value, count=1)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"expected an RFC 3339 date-time, got {text!r}") from None
    if moment.tzinfo is None:
        raise ValueError(f"expected a date-time with a time zone, got {text!r}")
    return moment


def body(operation: Operation, raw: bytes) -> Json | None:
    """The operation's JSON body, checked against its schema; Problem(400) if it is not."""
    if operation.body is None:
        return None
    if not raw.strip():
        raise Problem(400, "the request body is required (a JSON object)")
    try:
        value = wire.loads(raw)  # as RunPod's server reads JSON: no NaN, Infinity, ...
    except ValueError as exc:
        raise Problem(400, f"the request body is not valid JSON: {exc}") from None
    schema = {"$ref": f"#/components/schemas/{operation.body}"}
    try:
        errors = validate(schema, value, "body")
    except RecursionError:
        raise Problem(400, "the request body is nested too deeply") from None
    if errors:
        raise Problem(400, f"invalid request body: {errors[0]}", errors)
    if not isinstance(value, dict):  # the schemas are objects: validate said so already
        raise Problem(400, "the request body must be a JSON object")
    return value


# -- the checker -------------------------------------------------------------------------


def validate(schema: Any, value: Any, where: str) -> list[str]:
    """Every way `value` breaks `schema`, as ``"<where>: <what>"`` lines."""
    errors: list[str] = []
    _check(schema, value, where, errors)
    return errors


_TYPES: dict[str, Any] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def _kind(value: Any) -> str:
    for name in ("null", "boolean", "integer", "number", "string", "array", "object"):
        if _TYPES[name](value):
            return name
    return type(value).__name__


def _check(schema: Any, value: Any, where: str, errors: list[str]) -> set[str]:
    """Check `value`; return the names of its properties this schema evaluated."""
    schema = _resolve(schema)
    evaluated: set[str] = set()
    if not isinstance(schema, dict) or not schema:
        return evaluated
    types = schema.get("type")
    if types is not None:
        names = [types] if isinstance(types, str) else list(types)
        if not any(_TYPES[name](value) for name in names):
            errors.append(f"{where}: expected {' or '.join(names)}, got {_kind(value)}")
            return evaluated
    if "const" in schema and value != schema["const"]:
        errors.append(f"{where}: must be {json.dumps(schema['const'])}")
    if "enum" in schema and value not in schema["enum"]:
        allowed = ", ".join(json.dumps(v) for v in schema["enum"])
        errors.append(f"{where}: must be one of {allowed}, got {json.dumps(value)}")
    _check_scalar(schema, value, where, errors)
    if isinstance(value, list):
        _check_array(schema, value, where, errors)
    if isinstance(value, dict):
        evaluated |= _check_object(schema, value, where, errors)
    for sub in schema.get("allOf", []):
        evaluated |= _check(sub, value, where, errors)
    for keyword in ("anyOf", "oneOf"):
        if keyword in schema:
            evaluated |= _check_choice(schema, keyword, value, where, errors)
    if "not" in schema and not validate(schema["not"], value, where):
        errors.append(f"{where}: does not allow this combination of fields")
    if "if" in schema:
        condition: list[str] = []
        matched = _check(schema["if"], value, where, condition)
        if not condition:
            evaluated |= matched
            if "then" in schema:
                evaluated |= _check(schema["then"], value, where, errors)
        elif "else" in schema:
            evaluated |= _check(schema["else"], value, where, errors)
    if schema.get("unevaluatedProperties") is False and isinstance(value, dict):
        for name in sorted(set(value) - evaluated):
            errors.append(f"{where}.{name}: unknown field {name!r}")
        evaluated |= set(value)
    return evaluated


def _check_scalar(schema: Json, value: Any, where: str, errors: list[str]) -> None:
    if _TYPES["number"](value):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{where}: must be at least {schema['minimum']}, got {value}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{where}: must be at most {schema['maximum']}, got {value}")
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            errors.append(f"{where}: must not be shorter than {schema['minLength']} character(s)")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errors.append(f"{where}: must not be longer than {schema['maxLength']} characters")
        if "pattern" in schema and re.search(schema["pattern"], value) is None:
            errors.append(f"{where}: {value!r} does not match {schema['pattern']}")


def _check_array(schema: Json, value: list[Any], where: str, errors: list[str]) -> None:
    if len(value) < schema.get("minItems", 0):
        errors.append(f"{where}: needs at least {schema['minItems']} item(s)")
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        errors.append(f"{where}: takes at most {schema['maxItems']} item(s)")
    if schema.get("uniqueItems"):
        seen = [json.dumps(item, sort_keys=True) for item in value]
        if len(set(seen)) != len(seen):
            errors.append(f"{where}: items must be unique")
    if "items" in schema:
        for index, item in enumerate(value):
            _check(schema["items"], item, f"{where}[{index}]", errors)


def _check_object(schema: Json, value: Json, where: str, errors: list[str]) -> set[str]:
    properties: Json = schema.get("properties", {})
    evaluated: set[str] = set()
    for name, sub in properties.items():
        if name in value:
            _check(sub, value[name], f"{where}.{name}", errors)
            evaluated.add(name)
    for name in schema.get("required", []):
        if name not in value:
            errors.append(f"{where}.{name}: required")
    if len(value) < schema.get("minProperties", 0):
        errors.append(f"{where}: needs at least {schema['minProperties']} field(s)")
    for name, needs in schema.get("dependentRequired", {}).items():
        if name in value:
            for other in needs:
                if other not in value:
                    errors.append(f"{where}.{other}: required with {name}")
    extra = schema.get("additionalProperties")
    if extra is not None:
        for name in sorted(set(value) - set(properties)):
            if extra is False:
                errors.append(f"{where}.{name}: unknown field {name!r}")
            else:
                _check(extra, value[name], f"{where}.{name}", errors)
        evaluated |= set(value)
    return evaluated


def _check_choice(
    schema: Json, keyword: str, value: Any, where: str, errors: list[str]
) -> set[str]:
    branches = schema[keyword]
    discriminator = schema.get("discriminator")
    if discriminator and isinstance(value, dict):
        name = discriminator["propertyName"]
        mapping: Json = discriminator.get("mapping", {})
        if value.get(name) not in mapping:
            allowed = ", ".join(json.dumps(k) for k in mapping)
            errors.append(f"{where}.{name}: must be one of {allowed}")
            return set(value)
        return _check({"$ref": mapping[value[name]]}, value, where, errors)
    results = []
    for branch in branches:
        branch_errors: list[str] = []
        results.append((branch_errors, _check(branch, value, where, branch_errors)))
    passing = [evaluated for found, evaluated in results if not found]
    if keyword == "oneOf" and len(passing) > 1:
        errors.append(f"{where}: matches more than one of the allowed shapes")
    if not passing:
        fewest: list[str] = min((found for found, _ in results), key=lambda f: len(f))
        errors.extend(fewest)
        return set()
    return set().union(*passing)
