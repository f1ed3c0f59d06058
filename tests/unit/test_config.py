"""API key sources and precedence, and base URL resolution and checks."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from runpod_typed._config import (
    DEFAULT_API_BASE_URL,
    DEFAULT_ENDPOINT_BASE_URL,
    ApiKeyProvider,
    ResolvedUrls,
    resolve_urls,
)
from runpod_typed._errors import ConfigurationError, MissingApiKeyError
from runpod_typed._logging import redact


def new_key() -> str:
    return f"rpa_{uuid.uuid4().hex.upper()}"


def write_config(path: Path, profiles: dict[str, str]) -> Path:
    path.write_text(
        "".join(f'[{name}]\napi_key = "{key}"\n\n' for name, key in profiles.items()),
        encoding="utf-8",
    )
    return path


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return tmp_path / "config.toml"


def provider(
    source: Any = None, *, config: Path, env: dict[str, str] | None = None, **kw: Any
) -> ApiKeyProvider:
    return ApiKeyProvider(source, config_path=config, env=env or {}, **kw)


# -- precedence -----------------------------------------------------------------------


def test_argument_beats_environment_and_file(config: Path) -> None:
    arg, env_key, file_key = new_key(), new_key(), new_key()
    write_config(config, {"default": file_key})
    keys = provider(arg, config=config, env={"RUNPOD_API_KEY": env_key})
    assert keys.get() == arg
    assert keys.source == "argument"


def test_environment_beats_file(config: Path) -> None:
    env_key = new_key()
    write_config(config, {"default": new_key()})
    keys = provider(config=config, env={"RUNPOD_API_KEY": env_key})
    assert keys.get() == env_key
    assert keys.source == "env:RUNPOD_API_KEY"


def test_file_default_profile_when_nothing_else(config: Path) -> None:
    file_key = new_key()
    write_config(config, {"default": file_key, "other": new_key()})
    keys = provider(config=config)
    assert keys.get() == file_key
    assert keys.source == f"config:{config}[default]"


def test_profile_from_environment(config: Path) -> None:
    staging = new_key()
    write_config(config, {"default": new_key(), "staging": staging})
    assert provider(config=config, env={"RUNPOD_PROFILE": "staging"}).get() == staging


def test_profile_argument_beats_profile_environment(config: Path) -> None:
    prod = new_key()
    write_config(config, {"staging": new_key(), "prod": prod})
    keys = provider(config=config, env={"RUNPOD_PROFILE": "staging"}, profile="prod")
    assert keys.get() == prod


def test_an_explicit_profile_beats_the_environment_key(config: Path) -> None:
    prod = new_key()
    write_config(config, {"prod": prod})
    keys = provider(config=config, env={"RUNPOD_API_KEY": new_key()}, profile="prod")
    assert keys.get() == prod
    assert keys.source == f"config:{config}[prod]"


def test_key_argument_beats_an_explicit_profile(config: Path) -> None:
    arg = new_key()
    write_config(config, {"prod": new_key()})
    assert provider(arg, config=config, profile="prod").get() == arg


def test_default_config_path_is_in_the_home_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".runpod").mkdir()
    file_key = new_key()
    write_config(tmp_path / ".runpod" / "config.toml", {"default": file_key})
    keys = ApiKeyProvider(env={})
    assert keys.get() == file_key
    assert keys.source == "config:~/.runpod/config.toml[default]"


def test_os_environ_is_read_when_no_env_mapping_is_given(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_key = new_key()
    monkeypatch.setenv("RUNPOD_API_KEY", env_key)
    assert ApiKeyProvider(config_path=config).get() == env_key


def test_surrounding_whitespace_is_stripped(config: Path) -> None:
    key = new_key()
    assert provider(config=config, env={"RUNPOD_API_KEY": f"  {key}\n"}).get() == key
    config.write_text(f'[default]\napi_key = " {key} "\n', encoding="utf-8")
    assert provider(config=config).get() == key


def test_file_key_is_read_once(config: Path) -> None:
    first = new_key()
    write_config(config, {"default": first})
    keys = provider(config=config)
    assert keys.get() == first
    write_config(config, {"default": new_key()})
    assert keys.get() == first


# -- callable keys ---------------------------------------------------------------------


def test_callable_is_called_for_every_get(config: Path) -> None:
    expected = [new_key(), new_key(), new_key()]
    calls = iter(expected)
    keys = provider(lambda: next(calls), config=config)
    assert [keys.get() for _ in range(3)] == expected
    assert keys.source == "callable"


def test_every_rotated_key_is_redacted(config: Path) -> None:
    rotated = [new_key(), new_key()]
    calls = iter(rotated)
    keys = provider(lambda: next(calls), config=config)
    for _ in rotated:
        keys.get()
    for key in rotated:
        assert redact(f"Authorization: {key}") == "Authorization: ***"


def test_callable_is_not_called_at_construction(config: Path) -> None:
    calls: list[int] = []

    def source() -> str:
        calls.append(1)
        return new_key()

    keys = provider(source, config=config)
    assert calls == []
    keys.get()
    assert calls == [1]


@pytest.mark.parametrize(
    ("returned", "message"),
    [(None, "must be a str, got NoneType"), (123, "got int"), ("", "empty"), ("  ", "empty")],
)
def test_callable_returning_a_bad_key_is_a_configuration_error(
    config: Path, returned: Any, message: str
) -> None:
    keys = provider(lambda: returned, config=config)
    with pytest.raises(ConfigurationError, match=message) as info:
        keys.get()
    assert "api_key= function" in str(info.value)
    assert not isinstance(info.value, MissingApiKeyError)


def test_callable_errors_become_a_configuration_error_without_the_key(config: Path) -> None:
    """A key function that raises: a ConfigurationError naming what it raised, its text
    redacted (the key it handed out before is masked), nothing chained (the function's
    own exception, text and locals may hold secrets)."""
    key = new_key()
    calls: list[int] = []

    def rotating() -> str:
        calls.append(1)
        if len(calls) > 1:
            raise LookupError(f"vault unavailable; could not renew {key}")
        return key

    keys = provider(rotating, config=config)
    assert keys.get() == key
    with pytest.raises(ConfigurationError, match="LookupError: vault unavailable") as info:
        keys.get()
    assert key not in str(info.value)
    assert info.value.__cause__ is None and info.value.__context__ is None


# -- missing key ----------------------------------------------------------------------------


def test_missing_key_is_reported_at_get_not_at_construction(config: Path) -> None:
    keys = provider(config=config)
    with pytest.raises(MissingApiKeyError) as info:
        keys.get()
    message = str(info.value)
    for place in ("api_key=", "RUNPOD_API_KEY", "~/.runpod/config.toml", "[default]"):
        assert place in message
    assert "does not exist" in message
    assert isinstance(info.value, ConfigurationError)


def test_missing_profile_names_the_profiles_that_exist(config: Path) -> None:
    write_config(config, {"default": new_key(), "prod": new_key()})
    with pytest.raises(MissingApiKeyError) as info:
        provider(config=config, profile="staging").get()
    message = str(info.value)
    assert "no [staging] profile" in message
    assert "(profiles: default, prod)" in message
    assert "[staging] in ~/.runpod/config.toml" in message


def test_missing_profile_in_an_empty_file(config: Path) -> None:
    config.write_text("", encoding="utf-8")
    with pytest.raises(MissingApiKeyError, match=r"no \[default\] profile\."):
        provider(config=config).get()


def test_profile_without_api_key(config: Path) -> None:
    config.write_text('[default]\nregion = "eu"\n', encoding="utf-8")
    with pytest.raises(MissingApiKeyError, match=r"\[default\] has no api_key"):
        provider(config=config).get()


def test_missing_key_message_says_when_the_environment_key_was_ignored(config: Path) -> None:
    env_key = new_key()
    with pytest.raises(MissingApiKeyError) as info:
        provider(config=config, env={"RUNPOD_API_KEY": env_key}, profile="prod").get()
    assert "ignored because profile= was given" in str(info.value)
    assert env_key not in str(info.value)


def test_a_key_written_after_a_failed_get_is_found(config: Path) -> None:
    keys = provider(config=config)
    with pytest.raises(MissingApiKeyError):
        keys.get()
    key = new_key()
    write_config(config, {"default": key})
    assert keys.get() == key


# -- bad keys and bad files ------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["", "   ", "\n"])
def test_empty_key_argument_is_refused_at_construction(config: Path, bad: str) -> None:
    with pytest.raises(ConfigurationError, match="api_key= argument is empty"):
        provider(bad, config=config)


@pytest.mark.parametrize("inner", ["two words", "tab\there", "line\nbreak", "caf\u00e9", "nul\x00"])
def test_key_with_spaces_or_odd_characters_is_refused_without_quoting_it(
    config: Path, inner: str
) -> None:
    key = f"rpa_SECRETPART_{inner}"
    with pytest.raises(ConfigurationError, match="spaces or non-printable") as info:
        provider(key, config=config)
    assert "SECRETPART" not in str(info.value)


@pytest.mark.parametrize("source", [123, b"bytes-key", ["k"]])
def test_key_of_the_wrong_type_is_refused(config: Path, source: Any) -> None:
    with pytest.raises(ConfigurationError, match="must be a str or a function"):
        provider(source, config=config)


@pytest.mark.parametrize("value", ["", "   "])
def test_empty_environment_key_is_an_error_not_a_fallback(config: Path, value: str) -> None:
    write_config(config, {"default": new_key()})
    keys = provider(config=config, env={"RUNPOD_API_KEY": value})
    with pytest.raises(ConfigurationError, match="RUNPOD_API_KEY environment variable is empty"):
        keys.get()


def test_non_string_key_in_the_file(config: Path) -> None:
    config.write_text("[default]\napi_key = 12345\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"\[default\] api_key in .* must be a str"):
        provider(config=config).get()


def test_profile_that_is_not_a_table(config: Path) -> None:
    config.write_text('default = "rpa_x"\n', encoding="utf-8")
    with pytest.raises(ConfigurationError, match="must be a table") as info:
        provider(config=config).get()
    assert "rpa_x" not in str(info.value)


@pytest.mark.parametrize("profile", ["", "  "])
def test_empty_profile_name(config: Path, profile: str) -> None:
    write_config(config, {"default": new_key()})
    with pytest.raises(ConfigurationError, match="profile name is empty"):
        provider(config=config, env={"RUNPOD_PROFILE": profile}).get()


def test_malformed_toml_names_the_file_and_position_but_not_its_contents(config: Path) -> None:
    secret = new_key()
    config.write_text(f'[default]\napi_key = "{secret}\n', encoding="utf-8")
    with pytest.raises(ConfigurationError) as info:
        provider(config=config).get()
    message = str(info.value)
    assert str(config) in message
    assert "not valid TOML" in message
    assert "line 2" in message
    assert secret not in message
    assert info.value.__cause__ is None
    assert info.value.__context__ is None  # the parser's frames (locals) hold the text


def test_unreadable_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read the RunPod config file"):
        provider(config=tmp_path).get()  # a directory


def test_config_file_that_is_not_utf8(config: Path) -> None:
    config.write_bytes(b'[default]\napi_key = "\xff\xfe"\n')
    with pytest.raises(ConfigurationError, match="cannot read the RunPod config file"):
        provider(config=config).get()


# -- repr and redaction ------------------------------------------------------------------------


SOURCES: list[tuple[str, Callable[[str, Path], ApiKeyProvider]]] = [
    ("argument", lambda key, cfg: provider(key, config=cfg)),
    ("callable", lambda key, cfg: provider(lambda: key, config=cfg)),
    ("env:RUNPOD_API_KEY", lambda key, cfg: provider(config=cfg, env={"RUNPOD_API_KEY": key})),
    ("config:", lambda key, cfg: provider(config=write_config(cfg, {"default": key}))),
]


@pytest.fixture(params=SOURCES, ids=[name for name, _ in SOURCES])
def keyed(request: pytest.FixtureRequest, config: Path) -> tuple[str, str, ApiKeyProvider]:
    name, make = request.param
    key = new_key()
    return name, key, make(key, config)


def test_repr_names_the_source_and_never_the_key(keyed: tuple[str, str, ApiKeyProvider]) -> None:
    name, key, keys = keyed
    assert keys.get() == key
    assert repr(keys).startswith(f"ApiKeyProvider(source='{name}")
    assert key not in repr(keys)
    assert key not in str(keys)


def test_every_key_handed_out_is_registered_for_redaction(
    keyed: tuple[str, str, ApiKeyProvider],
) -> None:
    _, key, keys = keyed
    keys.get()
    assert redact(f"sent {key}") == "sent ***"


# -- URLs ---------------------------------------------------------------------------------------


def test_default_urls() -> None:
    urls = resolve_urls(None, None, env={})
    assert urls == ResolvedUrls(
        graphql_url="https://api.runpod.io/graphql", endpoint_base_url="https://api.runpod.ai/v2"
    )
    assert DEFAULT_API_BASE_URL == "https://api.runpod.io"
    assert DEFAULT_ENDPOINT_BASE_URL == "https://api.runpod.ai/v2"


def test_urls_from_environment() -> None:
    env = {
        "RUNPOD_API_BASE_URL": "https://control.example.com",
        "RUNPOD_ENDPOINT_BASE_URL": "https://jobs.example.com/v2",
    }
    urls = resolve_urls(None, None, env=env)
    assert urls.graphql_url == "https://control.example.com/graphql"
    assert urls.endpoint_base_url == "https://jobs.example.com/v2"


def test_url_arguments_beat_environment() -> None:
    env = {"RUNPOD_API_BASE_URL": "https://a.example", "RUNPOD_ENDPOINT_BASE_URL": "https://b.x"}
    urls = resolve_urls("https://c.example", "https://d.example/v2", env=env)
    assert urls.graphql_url == "https://c.example/graphql"
    assert urls.endpoint_base_url == "https://d.example/v2"


def test_os_environ_is_read_for_urls_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNPOD_ENDPOINT_BASE_URL", "https://jobs.example.com/v2/")
    monkeypatch.delenv("RUNPOD_API_BASE_URL", raising=False)
    urls = resolve_urls(None, None)
    assert urls.endpoint_base_url == "https://jobs.example.com/v2"
    assert urls.graphql_url == "https://api.runpod.io/graphql"


@pytest.mark.parametrize(
    ("given", "graphql", "endpoint"),
    [
        ("https://x.io/", "https://x.io/graphql", "https://x.io"),
        ("https://x.io///", "https://x.io/graphql", "https://x.io"),
        ("https://x.io/base/", "https://x.io/base/graphql", "https://x.io/base"),
        ("https://x.io/graphql", "https://x.io/graphql", "https://x.io/graphql"),
        ("HTTPS://X.io:8443/v2", "https://X.io:8443/v2/graphql", "https://X.io:8443/v2"),
        ("  https://x.io/v2  ", "https://x.io/v2/graphql", "https://x.io/v2"),
    ],
)
def test_url_normalization(given: str, graphql: str, endpoint: str) -> None:
    urls = resolve_urls(given, given, env={})
    assert (urls.graphql_url, urls.endpoint_base_url) == (graphql, endpoint)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080",
        "http://127.1.2.3/v2",
        "http://localhost:8000/v2",
        "http://LOCALHOST",
        "http://[::1]:9000",
    ],
)
def test_plain_http_to_loopback_is_allowed(url: str) -> None:
    urls = resolve_urls(url, url, env={})
    assert urls.endpoint_base_url.startswith("http://")


@pytest.mark.parametrize(
    "url", ["http://api.runpod.ai/v2", "http://10.0.0.5", "http://[::2]", "http://localhost.evil"]
)
def test_plain_http_to_other_hosts_is_refused(url: str) -> None:
    with pytest.raises(ConfigurationError, match="allow_insecure_http=True") as info:
        resolve_urls(None, url, env={})
    assert "unencrypted" in str(info.value)
    assert "endpoint_base_url=" in str(info.value)


@pytest.mark.parametrize("url", ["http://api.runpod.ai/v2", "http://10.0.0.5"])
def test_plain_http_to_other_hosts_with_the_flag(url: str) -> None:
    urls = resolve_urls(url, url, allow_insecure_http=True, env={})
    assert urls.endpoint_base_url == url


def test_insecure_environment_url_names_the_variable() -> None:
    with pytest.raises(ConfigurationError, match="RUNPOD_API_BASE_URL is plain http"):
        resolve_urls(None, None, env={"RUNPOD_API_BASE_URL": "http://example.com"})


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://x.io", "absolute http"),
        ("api.runpod.ai/v2", "absolute http"),
        ("//api.runpod.ai/v2", "absolute http"),
        ("https://", "absolute http"),
        ("https:///v2", "absolute http"),
        ("https://x.io:99999", "invalid port"),
        ("https://x.io:port", "invalid port"),
        ("https://x.io/a b", "spaces or control"),
        ("https://x.io/\x7f", "spaces or control"),
        ("", "is empty"),
        ("   ", "is empty"),
    ],
)
def test_invalid_urls(url: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        resolve_urls(url, None, env={})


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://user:SECRETPW@x.io", "user name or password"),
        ("https://SECRETTOKEN@x.io", "user name or password"),
        ("https://x.io/graphql?api_key=SECRETKEY", "query string or fragment"),
        ("https://x.io/v2?", "query string or fragment"),
        ("https://x.io/v2#SECRETFRAG", "query string or fragment"),
    ],
)
def test_urls_with_credentials_or_queries_are_refused_without_quoting_them(
    url: str, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message) as info:
        resolve_urls(url, None, env={})
    assert "SECRET" not in str(info.value)


def test_url_of_the_wrong_type() -> None:
    with pytest.raises(ConfigurationError, match="must be a str URL"):
        resolve_urls(b"https://x.io", None, env={})  # type: ignore[arg-type]


def test_empty_environment_url_is_an_error_naming_the_variable() -> None:
    with pytest.raises(ConfigurationError, match="RUNPOD_ENDPOINT_BASE_URL is empty"):
        resolve_urls(None, None, env={"RUNPOD_ENDPOINT_BASE_URL": ""})


def test_resolved_urls_are_frozen() -> None:
    urls = resolve_urls(None, None, env={})
    with pytest.raises(dataclasses.FrozenInstanceError):
        urls.graphql_url = "https://evil.example/graphql"  # type: ignore[misc]
