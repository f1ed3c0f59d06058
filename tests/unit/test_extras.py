"""Without its optional extras, the package says which extra to install.

- `[emulator]` (ariadne, starlette, uvicorn): `python -m runpod_typed.emulator`,
  `from runpod_typed.emulator import Emulator`, `python -m runpod_typed.demo` and the
  pytest fixtures raise `MissingExtraError` (an `ImportError`) naming
  `pip install 'runpod-typed[emulator]'`, never a bare "No module named 'starlette'".
  The pytest plugin, which pytest loads in every project that installs runpod-typed,
  loads without the extra: only a test that uses a fixture fails.
- `[progress]` (rich): `map(progress_bar=True)` warns once that there is no bar.

The first tests fake the missing modules in this process (fast); the last ones run in
a fresh virtualenv holding the built wheel with its core dependencies only (and pytest),
as a user's would: built once per wheel and cached by its hash in the temporary
directory, on top of a cached venv of the dependencies (see `core_venv`).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from email.parser import Parser
from pathlib import Path
from typing import Any

import pytest

from runpod_typed import Runpod
from runpod_typed import _fanout as fanout
from runpod_typed._errors import MissingExtraError, RunpodError
from runpod_typed.emulator import server_imports

ROOT = Path(__file__).resolve().parents[2]
INSTALL_EMULATOR = "pip install 'runpod-typed[emulator]'"
INSTALL_PROGRESS = "pip install 'runpod-typed[progress]'"
#: Modules no extra-less install may hold (the `emulator` and `progress` extras).
EXTRA_MODULES = ("ariadne", "graphql", "starlette", "uvicorn", "rich")
PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
#: The cached venvs (in the temporary directory) and how long an unused one is kept.
CACHE_PREFIX = "runpod-typed-core-venv-"
STALE_SECONDS = 6 * 3600


# In this process: the modules are faked missing.


def test_a_missing_server_module_is_a_missing_extra_error() -> None:
    with pytest.raises(MissingExtraError) as info, server_imports("The thing"):
        raise ModuleNotFoundError("No module named 'starlette'", name="starlette.requests")
    error = info.value
    assert str(error) == (
        "The thing needs 'starlette', which is not installed: it comes with the emulator "
        f"extra, {INSTALL_EMULATOR}"
    )
    assert isinstance(error, ImportError) and isinstance(error, RunpodError)
    assert (error.name, error.extra) == ("starlette", "emulator")
    assert isinstance(error.__cause__, ModuleNotFoundError)


def test_other_import_errors_pass_through_unchanged() -> None:
    with pytest.raises(ModuleNotFoundError) as info, server_imports():
        raise ModuleNotFoundError("No module named 'my_handlers'", name="my_handlers")
    assert type(info.value) is ModuleNotFoundError


def test_progress_bar_without_rich_warns_once_at_the_callers_line(
    runpod_emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "rich.progress", None)  # import fails: ImportError
    monkeypatch.setattr(fanout, "_no_rich_warned", False)
    with (
        Runpod(
            "k",
            api_base_url=runpod_emulator.url,
            endpoint_base_url=runpod_emulator.endpoint_base_url,
        ) as rp,
        pytest.warns(UserWarning) as record,
    ):
        endpoint = rp.endpoint("echo")
        assert endpoint.map([{"n": 1}, {"n": 2}], progress_bar=True) == [{"n": 1}, {"n": 2}]
        assert endpoint.map([{"n": 3}], progress_bar=True) == [{"n": 3}]
    (warning,) = record.list
    assert INSTALL_PROGRESS in str(warning.message)
    assert "progress_bar=True" in str(warning.message)
    assert warning.filename == __file__


# In a fresh virtualenv with the core dependencies only.


def _build_wheel(out: Path) -> Path:
    subprocess.run(
        [*PIP, "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = out.glob("runpod_typed-*.whl")
    return wheel


def _core_requirements(wheel: Path) -> list[str]:
    """The wheel's Requires-Dist outside every extra: what a plain `pip install` brings."""
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = Parser().parsestr(archive.read(name).decode())
    return sorted(t for t in metadata.get_all("Requires-Dist") or [] if "extra ==" not in t)


def _remove_stale(parent: Path, keep: set[Path]) -> None:
    for old in parent.glob(f"{CACHE_PREFIX}*"):
        with contextlib.suppress(OSError):
            if old not in keep and time.time() - old.stat().st_mtime > STALE_SECONDS:
                shutil.rmtree(old)


def _cached_venv(venv: Path, build: Callable[[Path], None]) -> Path:
    """`venv`, built by `build(venv)` unless a finished one is there; touched (in use)."""
    if not (venv / ".ready").exists():
        shutil.rmtree(venv, ignore_errors=True)
        build(venv)
        (venv / ".ready").touch()
    os.utime(venv)
    return venv


@pytest.fixture(scope="session")
def core_venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A venv with the wheel and its core dependencies (no extras) and pytest: its python.

    Two levels of cache in the temporary directory: the dependencies (the slow part, from
    the package index) by the hash of the requirement list, and the venv of each wheel,
    a copy of those with the wheel added, by the wheel's hash.
    """
    try:
        import hatchling  # noqa: F401  (pip wheel --no-build-isolation builds with it)
    except ImportError:
        pytest.skip("building the wheel needs hatchling (dependency group dev)")
    wheel = _build_wheel(tmp_path_factory.mktemp("wheel"))
    python_tag = f"py{sys.version_info[0]}{sys.version_info[1]}"
    requirements = [*_core_requirements(wheel), "pytest>=8"]
    deps_key = hashlib.sha256("\n".join([python_tag, *requirements]).encode()).hexdigest()[:16]
    wheel_key = hashlib.sha256(wheel.read_bytes()).hexdigest()[:16]
    parent = Path(tempfile.gettempdir())

    def deps(venv: Path) -> None:
        # No pip inside: this interpreter's pip installs into it (`pip --python`).
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        install = [*PIP, "--python", str(venv / "bin" / "python"), "install", "-q"]
        subprocess.run([*install, *requirements], check=True, capture_output=True)

    def with_wheel(venv: Path) -> None:
        shutil.copytree(base, venv, symlinks=True, ignore=shutil.ignore_patterns(".ready"))
        install = [*PIP, "--python", str(venv / "bin" / "python"), "install", "-q"]
        subprocess.run(
            [*install, "--no-deps", "--no-compile", str(wheel)], check=True, capture_output=True
        )

    with (parent / f"{CACHE_PREFIX}lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another test session may build the same ones
        base = _cached_venv(parent / f"{CACHE_PREFIX}deps-{python_tag}-{deps_key}", deps)
        venv = _cached_venv(parent / f"{CACHE_PREFIX}wheel-{python_tag}-{wheel_key}", with_wheel)
        _remove_stale(parent, {base, venv, parent / f"{CACHE_PREFIX}lock"})
    yield venv / "bin" / "python"


def _run(python: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`python ARGS` in an empty folder (not ROOT: the repository must not shadow the wheel)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PYTEST"))}
    return subprocess.run(
        [str(python), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=env,
        check=False,
    )


def test_the_venv_has_no_extras_and_the_installed_wheel(core_venv: Path, tmp_path: Path) -> None:
    probe = (
        "import importlib.util, sys, runpod_typed\n"
        f"print([m for m in {EXTRA_MODULES!r} if importlib.util.find_spec(m)])\n"
        "print(runpod_typed.__file__)"
    )
    result = _run(core_venv, tmp_path, "-c", probe)
    assert result.returncode == 0, result.stderr
    found, location = result.stdout.splitlines()
    assert found == "[]"
    assert str(core_venv.parents[1]) in location and str(ROOT) not in location


def test_the_emulator_command_names_the_extra(core_venv: Path, tmp_path: Path) -> None:
    result = _run(core_venv, tmp_path, "-m", "runpod_typed.emulator", "--port", "0")
    assert result.returncode == 1
    assert result.stderr.strip().startswith("python -m runpod_typed.emulator needs '")
    assert result.stderr.strip().endswith(INSTALL_EMULATOR)
    assert "Traceback" not in result.stderr and "READY" not in result.stdout


def test_importing_the_emulator_names_the_extra(core_venv: Path, tmp_path: Path) -> None:
    probe = (
        "from runpod_typed._errors import MissingExtraError\n"
        "try:\n"
        "    from runpod_typed.emulator import Emulator\n"
        "except MissingExtraError as error:\n"
        "    print(isinstance(error, ImportError), error.name, error.extra)\n"
        "    print(error)\n"
        # What handler modules import stays importable without the server.
        "from runpod_typed.emulator import progress_update, FaultSpec\n"
    )
    result = _run(core_venv, tmp_path, "-c", probe)
    assert result.returncode == 0, result.stderr
    kind, message = result.stdout.splitlines()
    assert kind.startswith("True ") and kind.endswith(" emulator")
    assert kind.split()[1] in EXTRA_MODULES
    assert message.startswith("The RunPod emulator needs ") and message.endswith(INSTALL_EMULATOR)


def test_the_demo_names_the_extra(core_venv: Path, tmp_path: Path) -> None:
    result = _run(core_venv, tmp_path, "-m", "runpod_typed.demo")
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("runpod_typed._errors.MissingExtraError: ")
    assert last.endswith(INSTALL_EMULATOR)


def test_pytest_runs_and_only_a_test_using_the_fixture_fails(
    core_venv: Path, tmp_path: Path
) -> None:
    (tmp_path / "test_user_project.py").write_text(
        "def test_without_the_emulator():\n"
        "    assert True\n\n\n"
        "def test_with_the_emulator(runpod_emulator):\n"
        "    raise AssertionError('not reached')\n",
        encoding="utf-8",
    )
    result = _run(core_venv, tmp_path, "-m", "pytest", "-p", "no:cacheprovider", "-rE")
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "1 passed, 1 error" in output
    assert "MissingExtraError: The runpod_emulator fixture needs '" in output
    assert INSTALL_EMULATOR in output
