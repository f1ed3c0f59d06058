"""Must FAIL mypy without the pydantic plugin: wire (camelCase) names are not the Python API.

(They still work at run time; tests/unit/test_typing.py checks that mypy sees the
generated __init__ signatures, so snake_case_inputs.py passing means something.)
"""

from __future__ import annotations

from runpod_typed.graphql import PodFilter

PodFilter(podId="p1")
