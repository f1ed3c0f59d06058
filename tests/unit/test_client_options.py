"""Constructor options: named, typed (ClientOptions) and checked when the client is made."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import httpx
import pytest

from runpod_typed import (
    AsyncRunpod,
    ClientOptions,
    ConfigurationError,
    PollingOptions,
    RateLimiter,
    RetryPolicy,
    Runpod,
    RunpodFactory,
)
from runpod_typed._client import _ACCEPTS

CLIENTS = [Runpod, AsyncRunpod]


def make(cls: Any, **options: Any) -> Any:
    return cls("k", **options)


def test_every_typed_option_is_checked_at_run_time_and_no_other() -> None:
    assert set(_ACCEPTS) == set(ClientOptions.__optional_keys__)
    assert not ClientOptions.__required_keys__


@pytest.mark.parametrize("cls", CLIENTS)
def test_a_misspelt_option_is_refused_with_a_suggestion(cls: Any) -> None:
    with pytest.raises(ConfigurationError) as caught:
        make(cls, tiemout=3)
    message = str(caught.value)
    assert f"{cls.__name__}() got unknown option 'tiemout' (did you mean 'timeout'?)" in message
    assert "polling" in message  # the list of valid options


def test_several_unknown_options_are_named_together() -> None:
    with pytest.raises(ConfigurationError, match="unknown options 'colour', 'retries'"):
        Runpod("k", retries=3, colour="red")


@pytest.mark.parametrize("cls", CLIENTS)
@pytest.mark.parametrize(
    ("name", "value", "wanted"),
    [
        ("polling", "fast", "a PollingOptions"),
        ("polling", RetryPolicy(), "a PollingOptions"),
        ("retry", 5, "a RetryPolicy"),
        ("retry", PollingOptions(), "a RetryPolicy"),
        ("timeout", 0, "a positive number of seconds"),
        ("timeout", -1.5, "a positive number of seconds"),
        ("timeout", math.nan, "a positive number of seconds"),
        ("timeout", math.inf, "a positive number of seconds"),
        ("timeout", True, "a positive number of seconds"),
        ("timeout", "30", "a positive number of seconds"),
        ("timeout", None, "a positive number of seconds"),
        ("rate_limits", "on", "True, False or a RateLimiter"),
        ("cancel_on_exit", None, "True or False"),
        ("debug", 1, "True or False"),
        ("allow_insecure_http", "yes", "True or False"),
        ("api_base_url", 8000, "a URL"),
        ("profile", ["work"], "a profile name"),
        ("config_path", 3, "a path"),
    ],
)
def test_a_value_of_the_wrong_kind_is_refused_at_construction(
    cls: Any, name: str, value: Any, wanted: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        make(cls, **{name: value})
    message = str(caught.value)
    assert message.startswith(f"{cls.__name__}(): {name}= must be {wanted}")
    assert type(value).__name__ in message


def test_the_error_never_shows_a_registered_key() -> None:
    from runpod_typed._logging import register_secret

    secret = "rpa_OPTIONSLEAKCHECK0123456789"
    register_secret(secret)
    with pytest.raises(ConfigurationError) as caught:
        Runpod("k", profile=[secret])  # type: ignore[arg-type]
    assert secret not in str(caught.value)


@pytest.mark.parametrize("cls", CLIENTS)
def test_valid_options_are_taken(cls: Any, tmp_path: Path) -> None:
    polling = PollingOptions(first_delay=0.5)
    client = make(
        cls,
        profile="work",
        config_path=tmp_path / "config.toml",
        api_base_url="http://127.0.0.1:9",
        endpoint_base_url="http://127.0.0.1:9/v2",
        allow_insecure_http=False,
        timeout=7,
        retry=RetryPolicy(max_attempts=2),
        rate_limits=RateLimiter.disabled(),
        polling=polling,
        cancel_on_exit=False,
        debug=False,
    )
    assert client.polling is polling
    assert client.cancel_on_exit is False
    assert client._transport.timeout == 7
    assert client._transport.retry.max_attempts == 2


@pytest.mark.parametrize("cls", CLIENTS)
def test_none_means_the_default_for_retry_and_polling(cls: Any) -> None:
    client = make(cls, retry=None, polling=None)
    assert client.polling == PollingOptions()
    assert client._transport.retry == RetryPolicy()


def test_http_client_of_the_wrong_kind_is_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"http_client= must be an httpx\.Client"):
        Runpod("k", http_client=httpx.AsyncClient())  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match=r"http_client= must be an httpx\.AsyncClient"):
        AsyncRunpod("k", http_client=httpx.Client())  # type: ignore[arg-type]


def test_the_factory_checks_its_options_at_construction() -> None:
    with pytest.raises(ConfigurationError, match=r"RunpodFactory\(\): polling= must be"):
        RunpodFactory(polling="fast")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="did you mean 'timeout'"):
        RunpodFactory(timeot=3)  # type: ignore[call-arg]
    with pytest.raises(ConfigurationError, match="takes no api_key"):
        RunpodFactory(api_key="k")  # type: ignore[call-arg]


def test_the_factory_hands_its_options_and_one_limiter_to_every_client() -> None:
    polling = PollingOptions(first_delay=0.25)
    with RunpodFactory(polling=polling, timeout=5) as factory:
        first, second = factory.client("a"), factory.client("b")
        assert first.polling is polling and second.polling is polling
        assert first._transport.timeout == 5
        assert first._transport.limiter is second._transport.limiter
