"""The runpod_typed logger, the key redactor and the debug switch.

The debug tests run inside `unconfigured()` (pytest and this suite's conftest put
handlers on the root and SDK loggers) and leave nobody asking for debug logging.
"""

from __future__ import annotations

import contextlib
import gc
import io
import logging
import sys
import uuid
from collections.abc import Iterator

import httpx
import pytest

from runpod_typed import Runpod
from runpod_typed._logging import (
    MASK,
    RedactingFilter,
    _debug,
    debug_from_env,
    disable_debug,
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


class Owner:
    """Stands for a client: something weak-referenceable that asks for debug logging."""


@pytest.fixture
def debug_off() -> Iterator[None]:
    """Each test starts and ends with nobody asking for debug logging."""
    assert not _debug.owners, "an earlier test left debug logging on"
    yield
    for key in list(_debug.owners):
        _debug.release(key)
    assert debug_handlers() == []


@contextlib.contextmanager
def unconfigured(level: int = logging.NOTSET) -> Iterator[logging.Logger]:
    """Logging as in a script that configured nothing: no handler on root or on the SDK's
    logger (pytest's and the suite's own are put back afterwards)."""
    root = logging.getLogger()
    saved = root.handlers, logger.handlers, logger.level, logger.propagate
    root.handlers = []
    logger.handlers = [h for h in logger.handlers if isinstance(h, logging.NullHandler)]
    logger.setLevel(level)
    try:
        yield root
    finally:
        root.handlers, logger.handlers = saved[0], saved[1]
        logger.setLevel(saved[2])
        logger.propagate = saved[3]


def test_without_logging_config_debug_lines_appear_on_stderr(
    debug_off: None, capsys: pytest.CaptureFixture[str], secret: str
) -> None:
    owner = Owner()
    with unconfigured():
        enable_debug(owner=owner)
        logger.debug("POST /run with %s", secret)
        disable_debug(owner)
    err = capsys.readouterr().err
    assert err.count("runpod_typed DEBUG POST /run with ***") == 1
    assert secret not in err


def test_with_root_logging_configured_each_line_is_printed_once(debug_off: None) -> None:
    """basicConfig() and debug=True: the application's handler prints the line, once."""
    terminal = io.StringIO()
    owner = Owner()
    with unconfigured() as root:
        app = logging.StreamHandler(terminal)
        app.setFormatter(logging.Formatter("app: %(name)s %(message)s"))
        root.addHandler(app)
        root.setLevel(logging.WARNING)  # basicConfig's default level
        enable_debug(terminal, owner=owner)  # even pointed at the same stream
        logger.debug("GET /status/1 -> 200")
        disable_debug(owner)
    assert terminal.getvalue().splitlines() == ["app: runpod_typed GET /status/1 -> 200"]


def test_a_handler_on_the_sdk_logger_counts_as_configured(debug_off: None) -> None:
    ours, theirs = io.StringIO(), io.StringIO()
    owner = Owner()
    with unconfigured():
        logger.addHandler(logging.StreamHandler(theirs))
        enable_debug(ours, owner=owner)
        logger.debug("hello")
        disable_debug(owner)
    assert ours.getvalue() == ""
    assert theirs.getvalue() == "hello\n"


def test_logging_configured_after_the_client_was_made_is_respected(debug_off: None) -> None:
    terminal = io.StringIO()
    owner = Owner()
    with unconfigured() as root:
        enable_debug(terminal, owner=owner)
        logger.debug("before")
        root.addHandler(logging.StreamHandler(terminal))
        logger.debug("after")
        disable_debug(owner)
    lines = terminal.getvalue().splitlines()
    assert [line.split()[-1] for line in lines] == ["before", "after"]


def test_a_logger_that_does_not_propagate_hides_root_handlers(debug_off: None) -> None:
    ours, root_stream = io.StringIO(), io.StringIO()
    owner = Owner()
    with unconfigured() as root:
        root.addHandler(logging.StreamHandler(root_stream))
        logger.propagate = False
        enable_debug(ours, owner=owner)
        logger.debug("only here")
        disable_debug(owner)
    assert "only here" in ours.getvalue()
    assert root_stream.getvalue() == ""


def test_the_level_is_restored_when_the_last_owner_lets_go(debug_off: None) -> None:
    first, second = Owner(), Owner()
    with unconfigured(logging.WARNING):
        enable_debug(owner=first)
        enable_debug(owner=second)
        assert logger.level == logging.DEBUG
        assert len(debug_handlers()) == 1
        disable_debug(first)
        assert logger.level == logging.DEBUG  # the second client still wants it
        disable_debug(first)  # twice is harmless
        assert logger.level == logging.DEBUG
        disable_debug(second)
        assert logger.level == logging.WARNING
        assert debug_handlers() == []
        assert logging.getLogger().level == logging.WARNING  # never touched


def test_without_logging_config_no_level_is_left_behind(debug_off: None) -> None:
    owner = Owner()
    with unconfigured():
        enable_debug(owner=owner)
        disable_debug(owner)
        assert logger.level == logging.NOTSET
        assert logger.getEffectiveLevel() == logging.getLogger().level
        assert not logger.isEnabledFor(logging.DEBUG)


def test_an_owner_that_is_garbage_collected_lets_go(debug_off: None) -> None:
    with unconfigured():
        owner: Owner | None = Owner()
        enable_debug(owner=owner)
        assert logger.level == logging.DEBUG
        owner = None
        gc.collect()
        assert logger.level == logging.NOTSET
        assert debug_handlers() == []


def test_a_level_the_application_set_meanwhile_is_kept(debug_off: None) -> None:
    owner = Owner()
    with unconfigured():
        enable_debug(owner=owner)
        logger.setLevel(logging.INFO)
        disable_debug(owner)
        assert logger.level == logging.INFO


def test_disable_for_an_owner_that_never_enabled_is_a_no_op(debug_off: None) -> None:
    owner, bystander = Owner(), Owner()
    with unconfigured():
        enable_debug(owner=owner)
        disable_debug(bystander)
        assert logger.level == logging.DEBUG
        disable_debug(owner)
        assert logger.level == logging.NOTSET


def test_without_an_owner_debug_stays_until_disabled_without_one(debug_off: None) -> None:
    with unconfigured():
        enable_debug()
        disable_debug(Owner())
        assert logger.level == logging.DEBUG
        disable_debug()
        assert logger.level == logging.NOTSET


def test_enable_debug_attaches_one_debug_handler(debug_off: None, secret: str) -> None:
    stream = io.StringIO()
    with unconfigured():
        handler = enable_debug(stream)
        assert debug_handlers() == [handler]
        assert handler.level == logging.DEBUG
        assert logger.getEffectiveLevel() == logging.DEBUG
        logger.debug("POST /run with %s", secret)
    line = stream.getvalue()
    assert "runpod_typed DEBUG POST /run with ***" in line
    assert secret not in line


def test_enable_debug_is_idempotent(debug_off: None) -> None:
    stream = io.StringIO()
    owner = Owner()
    with unconfigured():
        first = enable_debug(stream, owner=owner)
        second = enable_debug(owner=owner)
        third = enable_debug()
        assert first is second is third
        assert debug_handlers() == [first]
        logger.debug("once")
    assert stream.getvalue().count("once") == 1


def test_enable_debug_again_with_a_stream_switches_to_it(debug_off: None) -> None:
    old, new = io.StringIO(), io.StringIO()
    with unconfigured():
        enable_debug(old)
        enable_debug(new)
        logger.debug("hello")
    assert old.getvalue() == ""
    assert "hello" in new.getvalue()


def test_enable_debug_defaults_to_the_current_stderr(
    debug_off: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler = enable_debug()
    assert isinstance(handler, logging.StreamHandler)
    assert handler.stream is sys.stderr
    redirected = io.StringIO()
    monkeypatch.setattr(sys, "stderr", redirected)
    assert handler.stream is redirected  # not the stderr of the moment debug was enabled


# -- through the client ----------------------------------------------------------


def answer(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"id": "j1", "status": "COMPLETED", "output": 1})


def test_client_debug_with_root_logging_configured_prints_each_line_once(
    debug_off: None,
) -> None:
    terminal = io.StringIO()
    with unconfigured() as root:
        root.addHandler(logging.StreamHandler(terminal))
        http = httpx.Client(transport=httpx.MockTransport(answer))
        with Runpod("k", http_client=http, debug=True) as rp:
            rp.endpoint("ep").job("j1").status()
        http.close()
    lines = [line for line in terminal.getvalue().splitlines() if "/v2/ep/status/j1" in line]
    assert len(lines) == 1, terminal.getvalue()


def test_client_debug_without_logging_config_prints_to_stderr(
    debug_off: None, capsys: pytest.CaptureFixture[str]
) -> None:
    with unconfigured():
        http = httpx.Client(transport=httpx.MockTransport(answer))
        with Runpod("k", http_client=http, debug=True) as rp:
            rp.endpoint("ep").job("j1").status()
        http.close()
    err = capsys.readouterr().err
    assert err.count("/v2/ep/status/j1") == 1, err


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
