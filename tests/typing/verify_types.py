"""`pyright --verifytypes runpod_typed` with a floor: fail when the score drops below it.

pyright's type-completeness score is the share of the package's exported symbols
whose types a checker knows without inferring them (annotated attributes, parameters
and returns, generated models included). pyright exits non-zero for any ambiguous
symbol and has no threshold of its own; this script reads its JSON report, prints the
score and every symbol that is not fully known, and fails below --min-score.

    python tests/typing/verify_types.py --min-score 0.95     (make typecheck)

pyright looks for the package with the `python` on PATH: the interpreter running this
script goes first, so the package is the one installed in it (the editable install
in .venv under make).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

PACKAGE = "runpod_typed"


def _pyright() -> str:
    beside = Path(sys.executable).parent / "pyright"
    found = str(beside) if beside.exists() else shutil.which("pyright")
    if found is None:
        raise SystemExit("pyright is not installed: `make setup` installs it (group dev)")
    return found


def run_verifytypes(package: str = PACKAGE) -> dict[str, Any]:
    """pyright's JSON report for `package`, external unknown types ignored."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    result = subprocess.run(
        [_pyright(), "--verifytypes", package, "--ignoreexternal", "--outputjson"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    try:
        report: dict[str, Any] = json.loads(result.stdout)
    except json.JSONDecodeError:
        raise SystemExit(f"pyright gave no report:\n{result.stdout}{result.stderr}") from None
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-score", type=float, default=0.95, help="0..1 (default 0.95)")
    parser.add_argument("--package", default=PACKAGE)
    options = parser.parse_args(argv)
    completeness = run_verifytypes(options.package)["typeCompleteness"]
    if not completeness.get("pyTypedPath"):
        print(f"pyright did not find {options.package} (with its py.typed) from {sys.executable}")
        return 1
    counts = completeness["exportedSymbolCounts"]
    for symbol in completeness["symbols"]:
        if symbol["isExported"] and not symbol["isTypeKnown"]:
            first = next(iter(symbol["diagnostics"]), {"message": "(no diagnostic)"})
            print(f"  {symbol['name']}: {first['message'].splitlines()[0]}")
    score = float(completeness["completenessScore"])
    total = sum(counts.values())
    print(
        f"pyright --verifytypes {options.package}: {score:.1%} of {total} exported symbols"
        f" fully typed ({counts['withAmbiguousType']} ambiguous, {counts['withUnknownType']}"
        f" unknown); floor {options.min_score:.0%}"
    )
    return 0 if score >= options.min_score else 1


if __name__ == "__main__":
    sys.exit(main())
