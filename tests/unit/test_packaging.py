"""What a package index and pip see: the wheel's files and the wheel's and sdist's metadata.

The wheel ships the generated clients and the SDL under runpod_typed, and nothing generic.
Its metadata says which Pythons and frameworks it is for, where the project lives, and
its license (SPDX only, PEP 639); the extras hold no pinned tools; every runtime
dependency has a lower bound (tested by .ci/lowest_deps.py); and the README, the page a
package index shows, links only to absolute URLs that name files of this repository.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
import zipfile
from email.message import Message
from email.parser import Parser
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

ROOT = Path(__file__).resolve().parents[2]
SUPPORTED = ["3.10", "3.11", "3.12", "3.13"]
URL_LABELS = {"Homepage", "Repository", "Documentation", "Changelog", "Issues"}
#: Markdown links and images: [text](target) and ![alt](target).
MARKDOWN_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, hatchling.build as b; b.build_sdist(sys.argv[1])",
            str(out),
        ],
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    return out


@pytest.fixture(scope="module")
def wheel(dist: Path) -> Path:
    (path,) = dist.glob("runpod_typed-*.whl")
    return path


@pytest.fixture(scope="module")
def metadata(wheel: Path) -> Message:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return Parser().parsestr(archive.read(name).decode("utf-8"))


@pytest.fixture(scope="module")
def sdist_metadata(dist: Path) -> Message:
    (path,) = dist.glob("runpod_typed-*.tar.gz")
    with tarfile.open(path) as archive:
        (member,) = [
            m
            for m in archive.getmembers()
            if m.name.count("/") == 1 and m.name.endswith("/PKG-INFO")
        ]
        file = archive.extractfile(member)
        assert file is not None
        return Parser().parsestr(file.read().decode("utf-8"))


def requirements(metadata: Message) -> list[Requirement]:
    return [Requirement(text) for text in metadata.get_all("Requires-Dist") or []]


def project_urls(metadata: Message) -> dict[str, str]:
    pairs = (entry.split(",", 1) for entry in metadata.get_all("Project-URL") or [])
    return {label.strip(): url.strip() for label, url in pairs}


# -- the wheel's files --------------------------------------------------------------


def test_wheel_contains_generated_code_under_runpod_typed(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "runpod_typed/_generated/runpod.graphql" in names
    assert "runpod_typed/_generated/graphql/client.py" in names
    assert "runpod_typed/_generated/serverless/models/job_status_response.py" in names
    assert "runpod_typed/py.typed" in names
    top_level = {name.split("/")[0] for name in names}
    assert {t for t in top_level if not t.endswith(".dist-info")} == {"runpod_typed"}


# -- metadata -----------------------------------------------------------------------


def test_classifiers_name_every_supported_python_and_the_frameworks(metadata: Message) -> None:
    classifiers = metadata.get_all("Classifier") or []
    versions = [
        c.rsplit(" :: ", 1)[1]
        for c in classifiers
        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)
    ]
    assert versions == SUPPORTED
    assert {"Framework :: Pytest", "Typing :: Typed"} <= set(classifiers)


def test_requires_python_matches_the_oldest_python_classifier(metadata: Message) -> None:
    requires = SpecifierSet(metadata["Requires-Python"])
    assert Version(SUPPORTED[0]) in requires
    assert Version("3.9") not in requires


def test_the_license_is_spdx_only(metadata: Message) -> None:
    assert metadata["License-Expression"] == "MIT"
    assert not [c for c in metadata.get_all("Classifier") or [] if c.startswith("License ::")]
    assert metadata.get_all("License-File") == ["LICENSE"]


def test_project_urls_are_absolute_https(metadata: Message) -> None:
    urls = project_urls(metadata)
    assert set(urls) == URL_LABELS
    assert all(url.startswith("https://") for url in urls.values()), urls
    assert urls["Changelog"].endswith("/CHANGELOG.md")


def test_the_sdist_says_the_same(metadata: Message, sdist_metadata: Message) -> None:
    for field in ("Classifier", "Project-URL", "Requires-Dist", "Provides-Extra"):
        assert sdist_metadata.get_all(field) == metadata.get_all(field), field
    assert sdist_metadata["License-Expression"] == metadata["License-Expression"]


# -- dependencies and extras ----------------------------------------------------------


def test_anyio_4_is_a_runtime_dependency(metadata: Message) -> None:
    (anyio,) = [r for r in requirements(metadata) if r.name == "anyio"]
    assert anyio.marker is None
    assert Version("4.0") in anyio.specifier
    assert Version("3.7.1") not in anyio.specifier


def test_every_runtime_dependency_has_a_lower_bound(metadata: Message) -> None:
    runtime = [r for r in requirements(metadata) if "extra ==" not in str(r.marker)]
    assert {r.name for r in runtime} >= {"httpx", "pydantic", "attrs", "anyio", "sniffio"}
    for requirement in runtime:
        operators = {spec.operator for spec in requirement.specifier}
        assert operators & {">=", "~=", "=="}, f"{requirement} has no lower bound"


def test_extras_are_the_users_and_pin_no_tool(metadata: Message) -> None:
    extras = set(metadata.get_all("Provides-Extra") or [])
    assert {"emulator", "progress"} <= extras
    assert "dev" not in extras
    for requirement in requirements(metadata):
        if "extra ==" in str(requirement.marker):
            pinned = [s for s in requirement.specifier if s.operator in ("==", "===")]
            assert not pinned, f"{requirement}: an extra pins a version"


def test_dev_tools_are_a_dependency_group_that_make_setup_installs() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "dev" not in pyproject["project"]["optional-dependencies"]
    groups = pyproject["dependency-groups"]
    tools = {Requirement(r).name for r in groups["dev"] if isinstance(r, str)}
    assert {"mypy", "ruff", "hatchling"} <= tools
    assert {"include-group": "test"} in groups["dev"]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "--group dev" in makefile


# -- the README, as a package index shows it ----------------------------------------------


def test_readme_is_the_long_description(metadata: Message) -> None:
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert metadata.get_payload() == (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_links_and_images_are_absolute(metadata: Message) -> None:
    targets = MARKDOWN_LINK.findall(str(metadata.get_payload()))
    assert targets, "no links found: is the pattern still right?"
    relative = [t for t in targets if not t.startswith(("https://", "http://", "mailto:"))]
    assert relative == []


def test_readme_links_into_the_repository_name_files_that_exist(metadata: Message) -> None:
    repository = project_urls(metadata)["Repository"]
    owner_name = repository.removeprefix("https://github.com/")
    prefixes = [
        f"{repository}/blob/main/",
        f"{repository}/tree/main/",
        f"https://raw.githubusercontent.com/{owner_name}/main/",
    ]
    checked = 0
    for target in MARKDOWN_LINK.findall(str(metadata.get_payload())):
        for prefix in prefixes:
            if target.startswith(prefix):
                path = target.removeprefix(prefix).split("#")[0]
                assert (ROOT / path).exists(), f"{target}: no {path} in the repository"
                checked += 1
    assert checked >= 5


def test_the_changelog_has_an_unreleased_section() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "\n## Unreleased\n" in text
