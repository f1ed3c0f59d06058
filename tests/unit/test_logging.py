"""The runpod_typed logger, the key redactor and the debug switch."""

from __future__ import annotations

import io
import logging
import sys
import uuid
from collections.abc import Iterator

import pytest

from runpod_typed._logging import (
    MASK,
    RedactingFilter,
    debug_from_env,
    enable_debug,
    logger,
    redact,
    register_secret,
)


def new_secret() -> str:
    """A key no other test registered (the redactor is process-wide)."""
    return f"rpa_{uuid.uuid4().hex}"


@pytest.fixture
def secret() -> str:
    value = new_secret()
    register_secret(value)
    return value


@pytest.fixture
def restore_logger() -> Iterator[None]:
    handlers, level = list(logger.handlers), logger.level
    yield
    for handler in logger.handlers:
        if handler not in handlers:
            logger.removeHandler(handler)
    logger.setLevel(level)


class Capture(logging.Handler):
    """Formats records with a plain Formatter, as an application's handler would."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture
def capture(restore_logger: None) -> Capture:
    handler = Capture()
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    return handler


# -- the logger ---------------------------------------------------------------


def test_logger_is_the_package_logger_with_a_null_handler() -> None:
    assert logger.name == "runpod_typed"
    assert any(isinstance(h, logging.NullHandler) for h in logger.handlers)
    assert any(isinstance(f, RedactingFilter) for f in logger.filters)


def test_importing_does_not_configure_the_root_logger() -> None:
    root = logging.getLogger()
    assert not any(getattr(h, "name", None) == "runpod_typed.debug" for h in root.handlers)
    assert all(f.__class__ is not RedactingFilter for f in root.filters)


# -- redact -------------------------------------------------------------------


def test_redact_hides_a_registered_secret_everywhere_in_the_text(secret: str) -> None:
    text = f"key={secret}; again {secret}!"
    assert redact(text) == f"key={MASK}; again {MASK}!"


def test_redact_leaves_text_without_secrets_unchanged(secret: str) -> None:
    assert redact("GET https://api.runpod.ai/v2/abc/status/1 -> 200") == (
        "GET https://api.runpod.ai/v2/abc/status/1 -> 200"
    )


def test_redact_hides_unregistered_bearer_tokens() -> None:
    token = new_secret()
    assert token not in redact(f"Authorization: Bearer {token}")
    assert redact(f"Authorization: Bearer {token}") == f"Authorization: Bearer {MASK}"
    assert redact(f"{{'authorization': 'bearer {token}'}}") == (
        f"{{'authorization': 'bearer {MASK}'}}"
    )


def test_redact_hides_a_registered_secret_in_bearer_form(secret: str) -> None:
    assert redact(f"Bearer {secret}") == f"Bearer {MASK}"
    assert redact(f"Bearer  {secret}") == f"Bearer  {MASK}"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://api.runpod.io/graphql?api_key=ABC123",
            f"https://api.runpod.io/graphql?api_key={MASK}",
        ),
        (
            "https://x.io/q?a=1&api_key=ABC123&b=2",
            f"https://x.io/q?a=1&api_key={MASK}&b=2",
        ),
        ("https://x.io/q?API_KEY=ABC123#top", f"https://x.io/q?API_KEY={MASK}#top"),
        ("url='https://x.io/?api_key=ABC123'", f"url='https://x.io/?api_key={MASK}'"),
    ],
)
def test_redact_hides_api_key_query_parameters(url: str, expected: str) -> None:
    assert redact(url) == expected


def test_redact_does_not_touch_other_parameters_named_like_api_key() -> None:
    assert redact("https://x.io/?my_api_key_hint=1") == "https://x.io/?my_api_key_hint=1"


def test_redact_hides_the_longer_of_two_overlapping_secrets_whole() -> None:
    short = new_secret()
    long = short + "EXTRA"
    register_secret(short)
    register_secret(long)
    assert redact(f"[{long}] [{short}]") == f"[{MASK}] [{MASK}]"


def test_register_secret_ignores_empty_and_repeats(secret: str) -> None:
    register_secret("")
    register_secret(secret)
    assert redact("nothing here") == "nothing here"
    assert redact(secret) == MASK


def test_redact_is_idempotent(secret: str) -> None:
    once = redact(f"Bearer {secret} and ?api_key={secret}")
    assert redact(once) == once
    assert secret not in once


def test_secret_with_regex_metacharacters_is_matched_literally() -> None:
    odd = "a.b*c+" + uuid.uuid4().hex
    register_secret(odd)
    assert redact(f"x {odd} y") == f"x {MASK} y"
    assert redact("x aXbbbc+ y") == "x aXbbbc+ y"


# -- the filter on log records -------------------------------------------------


def test_records_have_secrets_in_the_message_redacted(capture: Capture, secret: str) -> None:
    logger.info(f"using key {secret}")
    assert capture.lines == [f"INFO using key {MASK}"]


def test_records_have_secrets_in_arguments_redacted(capture: Capture, secret: str) -> None:
    class Holder:
        def __repr__(self) -> str:
            return f"Holder(key={secret!r})"

    logger.debug("headers %s, holder %r, n=%d", {"Authorization": secret}, Holder(), 3)
    assert secret not in capture.text
    assert capture.lines == [
        f"DEBUG headers {{'Authorization': '{MASK}'}}, holder Holder(key='{MASK}'), n=3"
    ]


def test_records_have_bearer_headers_redacted(capture: Capture) -> None:
    token = new_secret()  # never registered
    logger.debug("sending %s", {"Authorization": f"Bearer {token}"})
    assert token not in capture.text
    assert f"Bearer {MASK}" in capture.text


def test_records_have_exception_text_redacted(capture: Capture, secret: str) -> None:
    try:
        raise RuntimeError(f"server echoed {secret}")
    except RuntimeError:
        logger.exception("request failed")
    assert secret not in capture.text
    assert f"RuntimeError: server echoed {MASK}" in capture.text
    assert "Traceback" in capture.text


def test_records_with_a_preformatted_exc_text_are_redacted(secret: str) -> None:
    record = logger.makeRecord("runpod_typed", logging.ERROR, "f", 1, "boom", (), None)
    record.exc_text = f"ValueError: {secret}"
    assert RedactingFilter().filter(record)
    assert record.exc_text == f"ValueError: {MASK}"


def test_records_have_stack_info_redacted(secret: str) -> None:
    record = logger.makeRecord(
        "runpod_typed", logging.DEBUG, "f", 1, "m", (), None, sinfo=f"Stack: {secret}"
    )
    assert RedactingFilter().filter(record)
    assert record.stack_info == f"Stack: {MASK}"


def test_stack_info_still_reaches_handlers(capture: Capture) -> None:
    logger.debug("where am I", stack_info=True)
    assert "Stack (most recent call last)" in capture.text


def test_filter_folds_args_so_handlers_cannot_reformat_them(secret: str) -> None:
    record = logger.makeRecord("runpod_typed", logging.INFO, "f", 1, "key %s", (secret,), None)
    RedactingFilter().filter(record)
    assert record.args is None
    assert record.msg == f"key {MASK}"
    assert record.getMessage() == f"key {MASK}"


def test_a_broken_format_string_is_still_redacted_and_does_not_raise(
    capture: Capture, secret: str
) -> None:
    logger.debug("count %d", secret)
    assert secret not in capture.text
    assert MASK in capture.text


def test_records_reach_pytest_caplog_already_redacted(
    caplog: pytest.LogCaptureFixture, secret: str
) -> None:
    caplog.set_level(logging.DEBUG, logger="runpod_typed")
    logger.debug("key %s", secret)
    assert secret not in caplog.text
    assert caplog.records[-1].getMessage() == f"key {MASK}"


# -- enable_debug / debug_from_env --------------------------------------------


def debug_handlers() -> list[logging.Handler]:
    return [h for h in logger.handlers if h.name == "runpod_typed.debug"]


def test_enable_debug_attaches_one_debug_handler(restore_logger: None, secret: str) -> None:
    stream = io.StringIO()
    handler = enable_debug(stream)
    assert debug_handlers() == [handler]
    assert handler.level == logging.DEBUG
    assert logger.getEffectiveLevel() == logging.DEBUG
    logger.debug("POST /run with %s", secret)
    line = stream.getvalue()
    assert "runpod_typed DEBUG POST /run with ***" in line
    assert secret not in line


def test_enable_debug_is_idempotent(restore_logger: None) -> None:
    stream = io.StringIO()
    first = enable_debug(stream)
    second = enable_debug()
    assert first is second
    assert debug_handlers() == [first]
    logger.debug("once")
    assert stream.getvalue().count("once") == 1


def test_enable_debug_again_with_a_stream_switches_to_it(restore_logger: None) -> None:
    old, new = io.StringIO(), io.StringIO()
    enable_debug(old)
    enable_debug(new)
    logger.debug("hello")
    assert old.getvalue() == ""
    assert "hello" in new.getvalue()
    assert len(debug_handlers()) == 1


def test_enable_debug_defaults_to_stderr(restore_logger: None) -> None:
    handler = enable_debug()
    assert isinstance(handler, logging.StreamHandler)
    assert handler.stream is sys.stderr


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"RUNPOD_LOG": "debug"}, True),
        ({"RUNPOD_LOG": " DEBUG\n"}, True),
        ({"RUNPOD_LOG": "info"}, False),
        ({"RUNPOD_LOG": ""}, False),
        ({"RUNPOD_LOG": "1"}, False),
        ({}, False),
    ],
)
def test_debug_from_env(env: dict[str, str], expected: bool) -> None:
    assert debug_from_env(env) is expected


def test_debug_from_env_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNPOD_LOG", "debug")
    assert debug_from_env() is True
    monkeypatch.delenv("RUNPOD_LOG")
    assert debug_from_env() is False


def test_short_keys_are_not_masked_so_logs_stay_readable() -> None:
    register_secret("k")
    assert redact("look, a key") == "look, a key"


def test_the_secret_registry_is_bounded() -> None:
    from runpod_typed._logging import MAX_SECRETS

    first = "tenant-key-0000-first"
    register_secret(first)
    for i in range(MAX_SECRETS):
        register_secret(f"tenant-key-{i:04d}-rotated")
    assert redact(f"tenant-key-{MAX_SECRETS - 1:04d}-rotated") == MASK
    assert first in redact(first)  # the oldest was let go
