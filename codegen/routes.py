"""The job API's route table: read from schema/serverless.openapi.yaml, checked, rendered.

Each path of the document declares RunPod's facts about its route as vendor
extensions (the document's description says what each means):

    x-route          the route's name: the path's literal segment
    x-submission     the route creates a job (never resent once it may have been sent)
    x-idempotent     sending it twice has the effect of sending it once
    x-long-poll      the route takes `wait` and holds the request up to that long
    x-payload-limit  the largest request body in bytes; null: the route takes no body
    x-rate-limit     a budget of the document's `x-rate-limits`; null: none published

`load` checks them against each other and against the rest of the document (the
methods are the path's operations; `wait`, request bodies and 413 answers must
agree with the extensions) and `render` writes the Python module
generated/serverless/routes.py, which the SDK's client and the emulator import.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: The extensions every path must declare, in the order the document gives them.
ROUTE_EXTENSIONS = (
    "x-route",
    "x-submission",
    "x-idempotent",
    "x-long-poll",
    "x-payload-limit",
    "x-rate-limit",
)
#: The keys of each budget in the document's `x-rate-limits`.
BUDGET_KEYS = ("requests", "per-seconds", "concurrent")
_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_PATH = re.compile(r"^/\{endpoint_id\}/(?P<segment>[a-z][a-z0-9-]*)(?P<job>/\{job_id\})?$")


class ContractError(ValueError):
    """The document's route extensions are missing, malformed or contradict the document."""


@dataclass(frozen=True)
class Budget:
    """One of RunPod's per-endpoint rate-limit budgets."""

    bucket: str
    requests: int
    per_seconds: float
    concurrent: int | None


@dataclass(frozen=True)
class RouteSpec:
    """One route, as the document declares it."""

    name: str
    path: str
    methods: tuple[str, ...]
    method: str
    job_scoped: bool
    submission: bool
    idempotent: bool
    long_poll: bool
    payload_limit: int | None
    rate_limit: str | None


@dataclass(frozen=True)
class RouteTable:
    """Everything `render` writes: the `wait` bounds, the budgets and the routes."""

    wait_min_ms: int
    wait_max_ms: int
    budgets: Mapping[str, Budget]
    routes: tuple[RouteSpec, ...]


def _resolve(document: Mapping[str, Any], node: Any) -> Any:
    """Follow local `$ref`s (#/components/...) to the object they name."""
    while isinstance(node, Mapping) and "$ref" in node:
        target: Any = document
        for part in str(node["$ref"]).removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _budget(name: str, raw: Any) -> Budget:
    where = f"x-rate-limits.{name}"
    if not isinstance(raw, Mapping) or sorted(raw) != sorted(BUDGET_KEYS):
        raise ContractError(f"{where}: expected exactly the keys {', '.join(BUDGET_KEYS)}")
    requests, per_seconds, concurrent = (raw[key] for key in BUDGET_KEYS)
    if not _is_int(requests) or requests < 1:
        raise ContractError(f"{where}.requests: expected an integer >= 1, got {requests!r}")
    if not (_is_int(per_seconds) or isinstance(per_seconds, float)) or not per_seconds > 0:
        raise ContractError(f"{where}.per-seconds: expected a number > 0, got {per_seconds!r}")
    if concurrent is not None and (not _is_int(concurrent) or concurrent < 1):
        raise ContractError(f"{where}.concurrent: expected null or an integer >= 1")
    return Budget(name, requests, float(per_seconds), concurrent)


def _wait_bounds(document: Mapping[str, Any], parameters: list[Any]) -> tuple[int, int] | None:
    """The (minimum, maximum) of the operation's `wait` query parameter, if it has one."""
    for parameter in parameters:
        parameter = _resolve(document, parameter)
        if parameter.get("in") == "query" and parameter.get("name") == "wait":
            schema = _resolve(document, parameter.get("schema", {}))
            low, high = schema.get("minimum"), schema.get("maximum")
            if not (_is_int(low) and _is_int(high) and 0 < low <= high):
                raise ContractError("the wait parameter needs integer minimum <= maximum (ms)")
            return low, high
    return None


def _flag(path: str, item: Mapping[str, Any], key: str) -> bool:
    value = item[key]
    if not isinstance(value, bool):
        raise ContractError(f"{path}: {key} must be true or false, got {value!r}")
    return value


def _route(
    document: Mapping[str, Any], path: str, item: Mapping[str, Any], waits: set[tuple[int, int]]
) -> RouteSpec:
    shape = _PATH.match(path)
    if shape is None:
        raise ContractError(f"{path}: a path must be /{{endpoint_id}}/NAME[/{{job_id}}]")
    missing = [key for key in ROUTE_EXTENSIONS if key not in item]
    unknown = sorted(k for k in item if k.startswith("x-") and k not in ROUTE_EXTENSIONS)
    if missing or unknown:
        raise ContractError(f"{path}: missing {missing or 'nothing'}, unknown {unknown or 'none'}")
    name = item["x-route"]
    if name != shape["segment"]:
        raise ContractError(f"{path}: x-route is {name!r}; it must be the path's segment")
    submission, idempotent, long_poll = (
        _flag(path, item, key) for key in ("x-submission", "x-idempotent", "x-long-poll")
    )
    if submission and idempotent:
        raise ContractError(f"{path}: a submission creates a job, so it cannot be idempotent")
    limit = item["x-payload-limit"]
    if limit is not None and (not _is_int(limit) or limit < 1):
        raise ContractError(f"{path}: x-payload-limit must be null or a number of bytes >= 1")
    operations = {m: item[m] for m in _HTTP_METHODS if m in item}
    if not operations:
        raise ContractError(f"{path}: no operation")
    for method, operation in operations.items():
        where = f"{method.upper()} {path}"
        parameters = [*item.get("parameters", []), *operation.get("parameters", [])]
        wait = _wait_bounds(document, parameters)
        if (wait is not None) != long_poll:
            raise ContractError(f"{where}: takes `wait` if and only if x-long-poll is true")
        if wait is not None:
            waits.add(wait)
        if ("requestBody" in operation) != (limit is not None):
            raise ContractError(f"{where}: has a request body if and only if x-payload-limit")
        if ("413" in operation.get("responses", {})) != (limit is not None):
            raise ContractError(f"{where}: documents 413 if and only if x-payload-limit")
    methods = tuple(sorted(m.upper() for m in operations))
    if "GET" in methods and limit is None:
        method = "GET"  # a read without a body: send it the plain way
    elif len(methods) == 1:
        method = methods[0]
    else:
        raise ContractError(f"{path}: cannot tell which of {methods} the SDK should send")
    rate_limit = item["x-rate-limit"]
    if rate_limit is not None and not isinstance(rate_limit, str):
        raise ContractError(f"{path}: x-rate-limit must be null or the name of a budget")
    return RouteSpec(
        name=name,
        path=path,
        methods=methods,
        method=method,
        job_scoped=shape["job"] is not None,
        submission=submission,
        idempotent=idempotent,
        long_poll=long_poll,
        payload_limit=limit,
        rate_limit=rate_limit,
    )


def load(document: Mapping[str, Any]) -> RouteTable:
    """Read and check the route extensions of a parsed OpenAPI document."""
    raw_budgets = document.get("x-rate-limits")
    if not isinstance(raw_budgets, Mapping) or not raw_budgets:
        raise ContractError("x-rate-limits: expected a mapping of budget name -> limits")
    budgets = {name: _budget(name, raw) for name, raw in raw_budgets.items()}
    waits: set[tuple[int, int]] = set()
    routes = [_route(document, path, item, waits) for path, item in document["paths"].items()]
    names = [route.name for route in routes]
    if len(set(names)) != len(names):
        raise ContractError(f"two paths declare the same x-route: {sorted(names)}")
    used = {route.rate_limit for route in routes}
    unknown = sorted(name for name in used - budgets.keys() if name is not None)
    unused = sorted(budgets.keys() - used)
    if unknown or unused:
        raise ContractError(f"x-rate-limit names unknown budgets {unknown}; unused: {unused}")
    if len(waits) != 1:
        raise ContractError(f"the long-poll routes must share one `wait` range, got {waits}")
    ((wait_min, wait_max),) = waits
    return RouteTable(wait_min, wait_max, budgets, tuple(routes))


_MODULE_DOC = '''"""The serverless job API's routes and RunPod's facts about them.

Generated from the vendor extensions of schema/serverless.openapi.yaml (see its
description); the SDK's client and the emulator both read this table, so neither
restates a route, a limit or a rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

#: Bounds of the `wait` query parameter of the long-poll routes, in milliseconds.
WAIT_MIN_MS = {wait_min}
WAIT_MAX_MS = {wait_max}


@dataclass(frozen=True)
class RateBudget:
    """RunPod's limit on one budget, per endpoint: at most `requests` per `per_seconds`
    seconds, and at most `concurrent` requests in flight (None: no published cap).
    Every route whose `rate_limit` is this budget draws from the same bucket."""

    bucket: str
    requests: int
    per_seconds: float
    concurrent: int | None


@dataclass(frozen=True)
class Route:
    """One route of the job API.

    `path` is the template under the job API root (`{{endpoint_id}}`, `{{job_id}}`);
    `methods` the HTTP methods RunPod accepts, `method` the one the SDK sends;
    `job_scoped` routes end with the job id; a `submission` creates a job (never
    resent once it may have been sent); an `idempotent` request may be resent; a
    `long_poll` route takes `wait`; `payload_limit` is the largest body in bytes
    (None: no body); `rate_limit` is the budget it draws from (None: none published).
    """

    name: str
    path: str
    methods: frozenset[str]
    method: str
    job_scoped: bool
    submission: bool
    idempotent: bool
    long_poll: bool
    payload_limit: int | None
    rate_limit: RateBudget | None


#: Budget name -> RunPod's published limit.
RATE_BUDGETS: Mapping[str, RateBudget] = MappingProxyType(
    {{
{budgets}
    }}
)

#: Route name (the path's segment) -> route, in the document's order.
ROUTES: Mapping[str, Route] = MappingProxyType(
    {{
{routes}
    }}
)
'''


def _budget_source(budget: Budget) -> str:
    return (
        f"        {budget.bucket!r}: RateBudget(bucket={budget.bucket!r}, "
        f"requests={budget.requests!r}, per_seconds={budget.per_seconds!r}, "
        f"concurrent={budget.concurrent!r}),"
    )


def _route_source(route: RouteSpec) -> str:
    rate_limit = "None" if route.rate_limit is None else f"RATE_BUDGETS[{route.rate_limit!r}]"
    fields = {
        "name": repr(route.name),
        "path": repr(route.path),
        "methods": f"frozenset({route.methods!r})",
        "method": repr(route.method),
        "job_scoped": repr(route.job_scoped),
        "submission": repr(route.submission),
        "idempotent": repr(route.idempotent),
        "long_poll": repr(route.long_poll),
        "payload_limit": repr(route.payload_limit),
        "rate_limit": rate_limit,
    }
    arguments = ", ".join(f"{key}={value}" for key, value in fields.items())
    return f"        {route.name!r}: Route({arguments}),"


def render(table: RouteTable) -> str:
    """The source of generated/serverless/routes.py (unformatted: ruff formats it)."""
    return _MODULE_DOC.format(
        wait_min=table.wait_min_ms,
        wait_max=table.wait_max_ms,
        budgets="\n".join(_budget_source(b) for b in table.budgets.values()),
        routes="\n".join(_route_source(r) for r in table.routes),
    )
