"""Must FAIL mypy --strict: proves the typing check can fail (tests/unit/test_typing.py)."""

from __future__ import annotations

import pydantic

from runpod_typed import Runpod


class Image(pydantic.BaseModel):
    url: str


def wrong(rp: Runpod) -> str:
    return rp.endpoint("abc").run_sync({"p": 1}, output_type=Image)  # Image is not str
