"""Validation of job outputs and stream chunks against the caller's `output_type`."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from runpod_typed._errors import OutputValidationError

if TYPE_CHECKING:
    import pydantic


@functools.lru_cache(maxsize=256)
def _adapter(output_type: Any) -> pydantic.TypeAdapter[Any]:
    import pydantic  # deferred: only callers who ask for a type pay for pydantic's import

    return pydantic.TypeAdapter(output_type)


def validate_output(raw: Any, output_type: Any, *, job_id: str, what: str = "output") -> Any:
    """Return `raw` as `output_type` (or unchanged when no type was asked for)."""
    if output_type is None or output_type is Any:
        return raw
    import pydantic

    try:
        adapter = _adapter(output_type)
    except TypeError:  # unhashable type expression: build it uncached
        adapter = pydantic.TypeAdapter(output_type)
    try:
        return adapter.validate_python(raw)
    except pydantic.ValidationError as exc:
        name = getattr(output_type, "__name__", repr(output_type))
        raise OutputValidationError(
            f"job {job_id}: the {what} does not match {name}: "
            f"{exc.error_count()} error(s), first: {exc.errors()[0]['msg']} at "
            f"{'.'.join(str(p) for p in exc.errors()[0]['loc']) or '(root)'}; "
            "the raw value is kept in .raw",
            raw=raw,
            job_id=job_id,
        ) from None
