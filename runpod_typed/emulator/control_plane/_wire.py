"""How RunPod's inputs are read and its values written: the rules every resource shares.

Each check raises the BAD_USER_INPUT error RunPod gives for the same mistake.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from runpod_typed.emulator.control_plane._errors import error

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

Json = dict[str, Any]
Input = Mapping[str, Any]


def first(*values: Any) -> Any:
    """The first value that is not None (GraphQL's "argument not given")."""
    return next((v for v in values if v is not None), None)


def integer(value: Any, name: str, minimum: int = 0) -> int:
    if not isinstance(value, int) or value < minimum:
        raise error(f"{name} must be an integer of at least {minimum}.")
    return value


def text(value: Any, name: str) -> str:
    stripped = str(value or "").strip()
    if not stripped:
        raise error(f"{name} must not be empty.")
    return stripped


def unique_name(value: Any, what: str, others: Iterable[Any]) -> str:
    """A name (``what``: "Secret", ...) that none of ``others`` already has."""
    name = text(value, f"{what} name")
    if any(other.name == name for other in others):
        raise error(f"{what} name must be unique: {name!r} is already used.")
    return name


def bid(inp: Input) -> float:
    amount = inp.get("bidPerGpu")
    if not isinstance(amount, (int, float)) or amount <= 0:
        raise error("bidPerGpu must be a positive number.")
    return float(amount)


def parse_ports(ports: str) -> list[tuple[int, str]]:
    """``"8888/http,22/tcp"`` -> [(8888, "http"), (22, "tcp")], rejecting malformed entries."""
    parsed: list[tuple[int, str]] = []
    for raw in ports.replace(" ", "").split(","):
        if not raw:
            continue
        number, _, kind = raw.partition("/")
        if not (number.isdigit() and 0 < int(number) < 65536 and kind in ("http", "tcp", "udp")):
            raise error(f"Invalid port {raw!r}: expected PORT/http or PORT/tcp.")
        parsed.append((int(number), kind))
    return parsed


def env_map(items: Iterable[Input | None] | None) -> dict[str, str]:
    env: dict[str, str] = {}
    for item in items or ():
        if item is not None:
            env[text(item.get("key"), "Environment variable key")] = str(item.get("value") or "")
    return env


def env_list(env: Mapping[str, str]) -> list[Json]:
    return [{"key": key, "value": value} for key, value in env.items()]


def iso(epoch: float) -> str:
    moment = datetime.fromtimestamp(epoch, timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def status_text(event: str) -> str:
    """lastStatusChange as RunPod writes it: an event and a JavaScript Date string."""
    now = datetime.now(timezone.utc)
    return f"{event}: {now:%a %b %d %Y %H:%M:%S} GMT+0000 (Coordinated Universal Time)"


def camel_fields(record: DataclassInstance, *names: str) -> Json:
    """RunPod's camelCase names for a record's fields (``image_name`` -> ``imageName``).

    All the record's fields, or only ``names`` (which may name properties too).
    """
    chosen = names or tuple(f.name for f in dataclasses.fields(record))
    return {_camel(name): getattr(record, name) for name in chosen}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
