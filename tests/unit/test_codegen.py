"""The codegen pipeline: generated/ is current, reproducible, typed and forward compatible.

Generation runs once per session (`fresh_tree`); the other checks reuse it.
"""

from __future__ import annotations

import asyncio
import enum
import importlib
import pkgutil
import shutil
import subprocess
import sys
import types
from pathlib import Path
from typing import Any, get_args

import pytest
from pydantic import BaseModel

from codegen import generate
from codegen.postprocess import UnsupportedEnumError, postprocess_source

ROOT = Path(__file__).resolve().parents[2]
GENERATED = ROOT / "generated"
PACKAGES = ("runpod_typed._generated.graphql", "runpod_typed._generated.serverless")


@pytest.fixture(scope="session")
def fresh_tree() -> generate.Tree:
    return generate.build()


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch, fresh_tree: generate.Tree) -> None:
    """Make `--check` compare against the session's generation instead of rebuilding."""
    monkeypatch.setattr(generate, "build", lambda: dict(fresh_tree))


# --- generated/ is what the pipeline gives -------------------------------------------------


@pytest.mark.usefixtures("built")
def test_check_passes_on_the_committed_tree(capsys: pytest.CaptureFixture[str]) -> None:
    assert generate.main(["--check", str(GENERATED)]) == 0
    assert "up to date" in capsys.readouterr().out


@pytest.mark.usefixtures("built")
def test_check_catches_a_hand_edit_with_a_diff(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "generated"
    shutil.copytree(GENERATED, copy, ignore=shutil.ignore_patterns("__pycache__"))
    enums = copy / "serverless" / "models" / "job_state.py"
    enums.write_text(enums.read_text().replace('TIMED_OUT = "TIMED_OUT"', 'TIMED_OUT = "X"'))
    (copy / "graphql" / "stray.py").write_text("x = 1\n")
    (copy / "graphql" / "pod.py").unlink()

    assert generate.main(["--check", str(copy)]) == 1
    out, err = capsys.readouterr()
    assert '-    TIMED_OUT = "X"\n+    TIMED_OUT = "TIMED_OUT"\n' in out
    assert f"--- {copy.as_posix()}/graphql/stray.py\n+++ /dev/null" in out
    assert f"--- /dev/null\n+++ {copy.as_posix()}/graphql/pod.py (regenerated)" in out
    assert "run `make generate`" in err


def test_check_limits_the_length_of_the_diff(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        generate, "build", lambda: {"big.txt": b"".join(b"%d\n" % i for i in range(999))}
    )
    assert generate.check(tmp_path) == 1
    out = capsys.readouterr().out
    assert len(out.splitlines()) == generate.MAX_DIFF_LINES + 1
    assert out.rstrip().endswith("more diff lines")


def test_a_generator_failure_is_reported_and_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    operations = tmp_path / "operations"
    operations.mkdir()
    (operations / "bad.graphql").write_text("query Bad { noSuchField }\n")
    monkeypatch.setattr(generate, "OPERATIONS", operations)
    out = tmp_path / "generated"

    assert generate.main(["--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "ariadne_codegen failed" in err
    assert "Cannot query field 'noSuchField' on type 'Query'" in err
    assert not out.exists()


def test_generation_is_deterministic(fresh_tree: generate.Tree) -> None:
    assert generate.build() == fresh_tree


def test_the_committed_tree_is_byte_identical_to_a_fresh_generation(
    fresh_tree: generate.Tree,
) -> None:
    committed = generate._read_tree(GENERATED)
    assert sorted(committed) == sorted(fresh_tree)
    assert [name for name in committed if committed[name] != fresh_tree[name]] == []


def test_the_sdl_ships_byte_for_byte(fresh_tree: generate.Tree) -> None:
    assert fresh_tree["runpod.graphql"] == (ROOT / "schema" / "runpod.graphql").read_bytes()


def test_out_writes_the_tree_and_removes_stale_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_tree: generate.Tree
) -> None:
    monkeypatch.setattr(generate, "build", lambda: dict(fresh_tree))
    out = tmp_path / "generated"
    (out / "old_package").mkdir(parents=True)
    (out / "old_package" / "gone.py").write_text("")
    assert generate.main(["--out", str(out)]) == 0
    assert generate._read_tree(out) == fresh_tree
    assert not (out / "old_package").exists()


def test_the_serverless_package_ships_the_models_and_the_route_table_only(
    fresh_tree: generate.Tree,
) -> None:
    """openapi-python-client's HTTP client is dropped: the facade's transport sends requests."""
    shipped = {
        name.removeprefix("serverless/").split("/")[0]
        for name in fresh_tree
        if name.startswith("serverless/")
    }
    assert shipped == {"__init__.py", "types.py", "models", "routes.py"}
    types_module = fresh_tree["serverless/types.py"].decode()
    assert "class Unset" in types_module and "class Response" not in types_module


def test_no_generated_file_names_a_machine_path_or_a_template_import(
    fresh_tree: generate.Tree,
) -> None:
    for name, content in fresh_tree.items():
        text = content.decode()
        assert str(ROOT) not in text, name
        assert "ariadne_codegen" not in text, name
        if name.endswith(".py"):
            assert text.startswith("# Code generated by `make generate`"), name


# --- the generated packages ------------------------------------------------------------------


def _modules() -> list[types.ModuleType]:
    modules = []
    for package_name in PACKAGES:
        package = importlib.import_module(package_name)
        modules.append(package)
        for info in pkgutil.walk_packages(package.__path__, f"{package_name}."):
            modules.append(importlib.import_module(info.name))
    return modules


def test_generated_packages_pass_mypy_strict() -> None:
    """mypy with the project's strict config (Python 3.10 target) over the generated code."""
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "runpod_typed/_generated"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_generated_enum_is_open() -> None:
    enums = {
        value
        for module in _modules()
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, enum.Enum)
        and value.__module__.startswith("runpod_typed")
    }
    assert {e.__name__ for e in enums} >= {"JobState", "PodStatus", "PodType", "ComputeType"}
    for enum_class in enums:
        member = enum_class("SOMETHING_NEW")
        assert (member.name, member.value) == ("UNKNOWN", "SOMETHING_NEW"), enum_class
        assert isinstance(member, enum_class)
        assert isinstance(member, str) and member == "SOMETHING_NEW"
        known = next(iter(enum_class))
        assert enum_class(known.value) is known
        with pytest.raises(ValueError):
            enum_class(object())  # a value of the wrong type still fails


def test_an_unknown_job_state_parses_in_the_serverless_models() -> None:
    from runpod_typed._generated.serverless.models import JobState, JobStatusResponse

    raw = {"id": "job-1", "status": "PAUSED_BY_ADMIN", "someNewField": {"a": 1}}
    parsed = JobStatusResponse.from_dict(raw)
    assert parsed.status.name == "UNKNOWN"
    assert parsed.status == "PAUSED_BY_ADMIN"
    assert parsed.status not in {JobState.COMPLETED, JobState.FAILED}
    assert parsed.additional_properties == {"someNewField": {"a": 1}}
    assert parsed.to_dict() == raw


def _placeholder(annotation: Any) -> Any:
    """A value of a field's type, None where the field is nullable."""
    if type(None) in get_args(annotation):
        return None
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return next(iter(annotation)).value
    return {str: "x", int: 1, float: 1.5, bool: True}[annotation]


def _answer(model: type[BaseModel], **overrides: Any) -> dict[str, Any]:
    fields = {
        str(field.validation_alias or field.alias or name): _placeholder(field.annotation)
        for name, field in model.model_fields.items()
    }
    return {**fields, **overrides}


def test_the_sync_client_builds_payloads_and_parses_unknown_enums_and_fields() -> None:
    from runpod_typed._generated.graphql import PodFilter, RunpodGraphQLClient
    from runpod_typed._generated.graphql.fragments import PodFields

    sent: list[dict[str, Any]] = []
    pod = _answer(PodFields, desiredStatus="HIBERNATING", fieldAddedLater=True)

    def send(payload: dict[str, Any]) -> dict[str, Any]:
        sent.append(payload)
        return {"data": {"pod": pod}}

    answer = RunpodGraphQLClient(send).pod(input=PodFilter(pod_id="p1"))
    assert sent[0]["operationName"] == "Pod"
    assert sent[0]["variables"] == {"input": {"podId": "p1"}}
    assert "query Pod($input: PodFilter!)" in sent[0]["query"]
    assert answer.pod is not None
    assert (answer.pod.desired_status.name, answer.pod.desired_status.value) == (
        "UNKNOWN",
        "HIBERNATING",
    )
    assert not hasattr(answer.pod, "field_added_later")


def test_the_async_client_omits_unset_variables_and_rejects_unknown_options() -> None:
    from runpod_typed._generated.graphql import AsyncRunpodGraphQLClient

    sent: list[dict[str, Any]] = []

    async def send(payload: dict[str, Any]) -> dict[str, Any]:
        sent.append(payload)
        return {"data": {"gpuTypes": []}}

    client = AsyncRunpodGraphQLClient(send)
    answer = asyncio.run(client.gpu_types())
    assert answer.gpu_types == []
    assert sent[0]["variables"] == {}
    with pytest.raises(TypeError, match="unexpected keyword argument 'timeout'"):
        asyncio.run(client.gpu_types(timeout=3))


# --- the rewrites themselves -------------------------------------------------------------------


def _exec(source: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    exec(compile(postprocess_source(source), "<generated>", "exec"), namespace)
    return namespace


def test_postprocess_turns_strenum_into_an_open_python_310_enum() -> None:
    source = 'from enum import StrEnum\n\nclass Colour(StrEnum):\n    RED = "RED"\n'
    result = postprocess_source(source)
    assert "StrEnum" not in result
    assert "class Colour(str, Enum):" in result
    colour = _exec(source)["Colour"]
    assert colour("BLUE").value == "BLUE"


def test_postprocess_opens_int_enums_too() -> None:
    source = "from enum import IntEnum\n\nclass Level(IntEnum):\n    LOW = 1\n"
    level = _exec(source)["Level"]
    assert (level(7).name, level(7).value, level(7) + 1) == ("UNKNOWN", 7, 8)


def test_postprocess_refuses_enums_it_cannot_open() -> None:
    with pytest.raises(UnsupportedEnumError):
        postprocess_source("from enum import Enum\n\nclass Plain(Enum):\n    A = 1\n")


def test_postprocess_takes_self_from_typing_extensions_and_points_template_imports_home() -> None:
    source = (
        "from typing import Any, Self\n"
        "from ariadne_codegen.client_generators.dependencies.base_model import UnsetType\n"
    )
    assert postprocess_source(source) == (
        "from typing import Any\nfrom typing_extensions import Self\n"
        "from .base_model import UnsetType\n"
    )


def test_client_methods_parse_answers_through_the_base_client() -> None:
    from codegen.postprocess import postprocess_source

    source = (
        "class C:\n"
        "    def pods(self, **kwargs):\n"
        "        data = self.get_data(self.execute(query=''))\n"
        "        return Pods.model_validate(data)\n"
    )
    assert "return self.parse(Pods, data)" in postprocess_source(source)


def test_an_answer_that_does_not_fit_the_models_raises_the_invalid_hook() -> None:
    from runpod_typed._generated.graphql.client import RunpodGraphQLClient

    class Mismatch(Exception):
        pass

    client = RunpodGraphQLClient(
        send=lambda payload: {"data": {"myself": {"pods": [{"id": 7}]}}},
        invalid=lambda exc, data: Mismatch(str(data)),
    )
    with pytest.raises(Mismatch):
        client.pods()
