"""Typed outputs: say what the worker returns, get a validated pydantic model back.

`output_type=` takes anything pydantic can validate (a model, `list[Model]`,
`dict[str, int]`, a dataclass ...). mypy sees the type: `run_sync(...,
output_type=Summary)` is a `Summary`, `run(..., output_type=Summary)` a
`Job[Summary]`. A mismatch raises OutputValidationError, which keeps the raw
output for a look.

    RUNPOD_ENDPOINT_ID=... python examples/typed_outputs.py
"""

from __future__ import annotations

import os

import pydantic

from runpod_typed import Job, OutputValidationError, Runpod


class Summary(pydantic.BaseModel):
    """What my_worker.py returns."""

    summary: str
    words: int = pydantic.Field(ge=0)


class Translation(pydantic.BaseModel):
    """Not what my_worker.py returns: to show a mismatch."""

    text: str
    language: str


TEXT = "typed results catch a changed worker before its output reaches your users"


def main() -> None:
    with Runpod() as rp:
        endpoint = rp.endpoint(os.environ["RUNPOD_ENDPOINT_ID"])

        summary = endpoint.run_sync({"text": TEXT, "max_words": 4}, output_type=Summary)
        print(f"summary: {summary.summary!r} ({summary.words} words)")

        job: Job[Summary] = endpoint.run({"text": TEXT}, output_type=Summary)
        later = job.output(timeout=120)
        print(f"later:   {later.summary!r}")

        counts = endpoint.run_sync({"text": TEXT}, output_type=dict[str, str | int])
        print(f"as dict: {sorted(counts)}")

        try:
            endpoint.run_sync({"text": TEXT}, output_type=Translation)
        except OutputValidationError as exc:
            print(f"mismatch: not a Translation; raw output kept: {exc.raw}")


if __name__ == "__main__":
    main()
