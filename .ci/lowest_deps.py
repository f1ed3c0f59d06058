"""Run the unit and integration tests at the lowest declared version of every runtime dependency.

Resolution "lowest-direct": each entry of `[project] dependencies` in pyproject.toml is
installed at exactly its lower bound (`httpx>=0.27,<1` -> `httpx==0.27`), while their own
dependencies, every extra (emulator, progress, aiohttp, ...) and the `test` dependency group
resolve as pip chooses around them. The project itself goes in editable with `--no-deps`, so nothing else can
lift a pin. A bound that is too loose then fails a test here instead of a user's program.

The virtualenv (.venv-lowest by default) is built with the oldest Python the project
supports when one can be found (python3.10 on PATH or under ~/.pyenv), so that the
dependencies only needed there (tomli) are tested too; `--python` picks another.
It is reused while the pins and the interpreter are the same (`--rebuild` forces).

    python .ci/lowest_deps.py [--python PYTHON] [--venv DIR] [--rebuild] [-- PYTEST ARGS]

Tests that need the project's own tools (code generation, mypy, hatchling, the benchmark
harness) are left out: those tools would lift the pins, and they test the tooling, not
the package against its dependencies.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # the dev venv on Python 3.10 has tomli (a runtime dependency there)
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"
DEFAULT_VENV = ROOT / ".venv-lowest"
STAMP = ".lowest-deps.json"

#: The suites this check runs, and what it leaves out of them (see the module doc).
TEST_PATHS = ["tests/unit", "tests/integration"]
MARKERS = "not compat and not reliability"
TOOLING_TESTS = [
    "tests/unit/test_bench_harness.py",  # bench/ (psutil, matplotlib)
    "tests/unit/test_codegen.py",  # ariadne-codegen, openapi-python-client
    "tests/unit/test_codegen_graphql.py",
    "tests/unit/test_openapi.py",  # openapi-spec-validator, pyyaml
    "tests/unit/test_route_codegen.py",
    "tests/unit/test_schema_tools.py",
    "tests/unit/test_typing.py",  # mypy
    "tests/unit/test_packaging.py",  # hatchling
    "tests/integration/test_contract_check.py",  # codegen/contract_check.py (Python >= 3.11)
]

#: What packaging.markers.default_environment() computes, evaluated by the target Python.
_ENVIRONMENT_SCRIPT = """
import json, os, platform, sys
iv = sys.implementation.version
version = f"{iv.major}.{iv.minor}.{iv.micro}"
if iv.releaselevel != "final":
    version += iv.releaselevel[0] + str(iv.serial)
print(json.dumps({
    "implementation_name": sys.implementation.name,
    "implementation_version": version,
    "os_name": os.name,
    "platform_machine": platform.machine(),
    "platform_release": platform.release(),
    "platform_system": platform.system(),
    "platform_version": platform.version(),
    "python_full_version": platform.python_version(),
    "platform_python_implementation": platform.python_implementation(),
    "python_version": ".".join(platform.python_version_tuple()[:2]),
    "sys_platform": sys.platform,
}))
"""


def log(message: str) -> None:
    print(f"lowest-deps: {message}", flush=True)


def load_pyproject() -> dict[str, Any]:
    with PYPROJECT.open("rb") as file:
        return dict(tomllib.load(file))


def lower_bound(requirement: Requirement) -> Version:
    """The inclusive lower bound of a requirement (`>=`, `==` or `~=`)."""
    bounds = [
        Version(spec.version)
        for spec in requirement.specifier
        if spec.operator in (">=", "==", "~=") and "*" not in spec.version
    ]
    if not bounds:
        raise SystemExit(
            f"lowest-deps: runtime dependency {str(requirement)!r} has no inclusive lower bound "
            "(>=, == or ~=): declare the oldest version the package works with"
        )
    return max(bounds)


def lowest_pins(dependencies: list[str], environment: dict[str, str]) -> list[tuple[str, str]]:
    """(pin, declared requirement) for every runtime dependency that applies here."""
    pins = []
    for text in dependencies:
        requirement = Requirement(text)
        if requirement.marker is not None and not requirement.marker.evaluate(environment):
            log(f"{text!r} does not apply to Python {environment['python_version']}: skipped")
            continue
        extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
        version = lower_bound(requirement)
        if version not in requirement.specifier:
            raise SystemExit(f"lowest-deps: {text!r} excludes its own lower bound {version}")
        pins.append((f"{requirement.name}{extras}=={version}", text))
    return pins


def group(pyproject: dict[str, Any], name: str) -> list[str]:
    """A PEP 735 dependency group, its include-group entries expanded."""
    groups = pyproject.get("dependency-groups", {})
    result: list[str] = []
    for entry in groups[name]:
        if isinstance(entry, dict):
            result.extend(group(pyproject, entry["include-group"]))
        else:
            result.append(entry)
    return result


def python_version(python: str) -> tuple[int, int] | None:
    try:
        out = subprocess.run(
            [python, "-c", "import sys; print(*sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return None
    return int(out[0]), int(out[1])


def oldest_python(requires_python: str) -> str:
    """An interpreter of the oldest minor version requires-python allows, else this one."""
    specifier = SpecifierSet(requires_python)
    minors = sorted(m for m in range(6, 20) if Version(f"3.{m}.99") in specifier)
    wanted = minors[0]
    home = Path.home()
    candidates = [
        shutil.which(f"python3.{wanted}"),
        *sorted(glob.glob(str(home / f".pyenv/versions/3.{wanted}.*/bin/python3.{wanted}"))),
        f"/usr/bin/python3.{wanted}",
        f"/usr/local/bin/python3.{wanted}",
    ]
    for candidate in candidates:
        if candidate and python_version(candidate) == (3, wanted):
            return candidate
    log(
        f"no Python 3.{wanted} found (the oldest that requires-python {requires_python!r} "
        f"allows): using {sys.executable} instead"
    )
    return sys.executable


def run(command: list[str], **kwargs: Any) -> None:
    subprocess.run(command, check=True, cwd=ROOT, **kwargs)


def build_venv(venv: Path, python: str, pins: list[str], others: list[str]) -> None:
    if venv.exists():
        shutil.rmtree(venv)
    run([python, "-m", "venv", str(venv)])
    # Never committed, never linted (ruff and git honour a .gitignore inside the folder).
    (venv / ".gitignore").write_text("*\n", encoding="utf-8")
    vpy = str(venv / "bin" / "python")
    run([vpy, "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
    # One resolution: the pins hold, everything else fits around them.
    run([vpy, "-m", "pip", "install", "--quiet", *pins, *others])
    run([vpy, "-m", "pip", "install", "--quiet", "--no-deps", "-e", str(ROOT)])
    run([vpy, "-m", "pip", "check"], stdout=subprocess.DEVNULL)


def installed_versions(vpy: str, names: list[str]) -> dict[str, str]:
    script = (
        "import json, sys\nfrom importlib.metadata import version\n"
        "print(json.dumps({n: version(n) for n in sys.argv[1:]}))"
    )
    out = subprocess.run(
        [vpy, "-c", script, *names], capture_output=True, text=True, check=True
    ).stdout
    return dict(json.loads(out))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", help="interpreter for the venv (default: the oldest supported)")
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the venv even if current")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    args = parser.parse_args(argv)
    started = time.monotonic()

    pyproject = load_pyproject()
    project = pyproject["project"]
    python = (
        args.python or os.environ.get("LOWEST_PYTHON") or oldest_python(project["requires-python"])
    )
    environment = json.loads(
        subprocess.run(
            [python, "-c", _ENVIRONMENT_SCRIPT], capture_output=True, text=True, check=True
        ).stdout
    )
    pins = lowest_pins(project["dependencies"], environment)
    others = [
        text
        for extra in project.get("optional-dependencies", {}).values()
        for text in extra
        if (marker := Requirement(text).marker) is None or marker.evaluate(environment)
    ] + group(pyproject, "test")
    wanted = {
        "python": environment["python_full_version"],
        "interpreter": python,
        "pins": [pin for pin, _ in pins],
        "others": others,
    }
    venv: Path = args.venv if args.venv.is_absolute() else ROOT / args.venv
    stamp = venv / STAMP
    current = stamp.exists() and json.loads(stamp.read_text(encoding="utf-8")) == wanted
    if args.rebuild or not current:
        log(f"building {venv.name} with Python {environment['python_full_version']} ({python})")
        try:
            build_venv(venv, python, wanted["pins"], others)
        except subprocess.CalledProcessError as exc:
            log(
                f"could not install the lowest versions ({' '.join(exc.cmd[3:])}): a lower "
                "bound in pyproject.toml is inconsistent with another dependency (see pip's "
                "message above); raise it to the oldest version that resolves"
            )
            return 1
        stamp.write_text(json.dumps(wanted, indent=2) + "\n", encoding="utf-8")
        log(f"built in {time.monotonic() - started:.0f} s")
    else:
        log(f"reusing {venv.name} (Python {environment['python_full_version']})")

    vpy = str(venv / "bin" / "python")
    names = [Requirement(pin).name for pin, _ in pins]
    versions = installed_versions(vpy, names)
    wrong = []
    for pin, declared in pins:
        requirement = Requirement(pin)
        have = versions[requirement.name]
        ok = Version(have) in requirement.specifier
        log(f"  {requirement.name:<18} {have:<10} (declared {declared.split(';')[0]})")
        if not ok:
            wrong.append(f"{requirement.name} {have} is not {pin}")
    if wrong:
        log("the venv does not hold the lowest versions: " + "; ".join(wrong))
        return 1

    command = [
        vpy,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-m",
        MARKERS,
        *TEST_PATHS,
        *(f"--ignore={path}" for path in TOOLING_TESTS),
        *args.pytest_args,
    ]
    log("running " + " ".join(command[1:]))
    tests_started = time.monotonic()
    code = subprocess.run(command, cwd=ROOT).returncode
    log(
        f"pytest exited {code}; tests {time.monotonic() - tests_started:.0f} s, "
        f"total {time.monotonic() - started:.0f} s"
    )
    return code


if __name__ == "__main__":
    sys.exit(main())
