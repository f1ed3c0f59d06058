"""JSON in and out of the emulator, held to what RunPod's Go servers read and write.

Python's `json` is laxer than they are: it reads ``NaN``, ``Infinity`` and ``-Infinity``,
reads numbers past a 64-bit float's range (``1e400``) as infinity, keeps escaped lone
UTF-16 surrogates (``"\\ud800"``) as strings that cannot be encoded as UTF-8, raises
RecursionError on deep nesting, and writes ``NaN``/``Infinity`` back out. `loads` refuses
all of that with a `JSONRefused` (a ValueError: callers answer 400 with their bad-JSON
error); `dumps` never writes a non-JSON number and answers lone surrogates as U+FFFD (as
Go's decoder would have stored them).
"""

from __future__ import annotations

import json
import math
from typing import Any

#: Deepest nesting of arrays and objects a request body may have. RunPod's Go decoder
#: allows 10,000 levels; this Python server recurses through values in several places
#: (encoding, validation), so it stays well inside the interpreter's recursion limit.
MAX_DEPTH = 512

_LONE_SURROGATE_HINTS = ("\\ud", "\\uD")


class JSONRefused(ValueError):
    """A body that is not JSON as RunPod reads it; the message says why."""


def _refuse_constant(name: str) -> Any:
    raise JSONRefused(f"{name} is not a JSON number (JSON has no NaN or Infinity)")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise JSONRefused(f"the number {text[:40]} is out of range for a 64-bit float")
    return value


def loads(body: bytes | str) -> Any:
    """Parse a request body (UTF-8) as RunPod's server would; `JSONRefused` if it would not.

    Refused: invalid JSON or UTF-8, NaN/Infinity, numbers that overflow a float, lone
    surrogates (escaped or encoded), nesting deeper than `MAX_DEPTH`.
    """
    try:
        text = body.decode("utf-8") if isinstance(body, bytes | bytearray) else body
    except UnicodeDecodeError as exc:
        raise JSONRefused(f"the body is not UTF-8: {exc}") from None
    try:
        value = json.loads(text, parse_float=_finite_float, parse_constant=_refuse_constant)
    except RecursionError:
        raise JSONRefused(f"the JSON is nested more than {MAX_DEPTH} levels deep") from None
    except JSONRefused:
        raise
    except ValueError as exc:
        raise JSONRefused(str(exc)) from None
    # Both checks walk the value only when a cheap scan of the text says they might fail.
    if text.count("[") + text.count("{") > MAX_DEPTH:
        _check_depth(value)
    if any(hint in text for hint in _LONE_SURROGATE_HINTS):
        _check_strings(value)
    return value


def _check_depth(value: Any) -> None:
    stack = [(value, 1)] if isinstance(value, dict | list) else []
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise JSONRefused(f"the JSON is nested more than {MAX_DEPTH} levels deep")
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))


def _check_strings(value: Any) -> None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            strings: Any = (item,)
        elif isinstance(item, dict):
            strings = item.keys()
            stack.extend(item.values())
        elif isinstance(item, list):
            strings = ()
            stack.extend(item)
        else:
            continue
        for text in strings:
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                raise JSONRefused(
                    "a string holds a lone UTF-16 surrogate (e.g. \\ud800 without its pair), "
                    "which is not Unicode text"
                ) from None


def dumps(value: Any) -> bytes:
    """An answer's body as compact UTF-8 JSON; ValueError for NaN/Infinity (never sent).

    Lone surrogates (a handler's output can hold them) become U+FFFD instead of failing.
    """
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        fixed = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        return fixed.encode("utf-8")


def check_output(value: Any, what: str) -> str:
    """`value` (a handler's result, chunk or progress) as JSON text; ValueError saying why
    it cannot be sent as JSON (not serializable, NaN/Infinity, nested too deeply): the
    official runtime could not post it to RunPod either."""
    try:
        return json.dumps(value, allow_nan=False)
    except ValueError as exc:
        if "Out of range float" in str(exc):
            raise ValueError(
                f"{what} holds NaN or Infinity, which JSON cannot carry (RunPod's server "
                "refuses such numbers)"
            ) from None
        raise ValueError(f"{what} is not JSON: {exc}") from None
    except TypeError as exc:
        raise ValueError(f"{what} is not JSON: {exc}") from None
    except RecursionError:
        raise ValueError(f"{what} is nested too deeply to be sent as JSON") from None
