"""Type information for the two names of the official `runpod` package that handler.py uses.

The package ships none (no py.typed), and this folder is type-checked (mypy --strict and
pyright on examples/). This stub is read by type checkers only: at run time,
``import runpod`` is the real package. Leave it out of a worker image, or keep it: Python
never imports a .pyi file.
"""

from typing import Any

class _Serverless:
    @staticmethod
    def start(config: dict[str, Any]) -> None: ...
    @staticmethod
    def progress_update(job: dict[str, Any], progress: Any) -> None: ...

serverless: _Serverless
