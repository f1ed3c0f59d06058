"""Where the API key and base URLs come from, and the checks that keep them safe.

Key precedence: the `api_key=` argument, then `RUNPOD_API_KEY`, then
`~/.runpod/config.toml` (written by the official `runpod config` CLI; one table
per profile, `[default]` unless `profile=` or `RUNPOD_PROFILE` names another).
An explicit `profile=` argument is itself a choice of the file, so it wins over
`RUNPOD_API_KEY`. A missing key is reported at the first request, not when the
client is built, so a client can be made before the key is known.

URL precedence: argument, then `RUNPOD_API_BASE_URL` / `RUNPOD_ENDPOINT_BASE_URL`
(with the official package's meanings), then RunPod's hosts.
"""

from __future__ import annotations

import ipaddress
import os
import re
import stat
import sys
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias
from urllib.parse import urlsplit

from runpod_typed._errors import ConfigurationError, InsecureConfigWarning, MissingApiKeyError
from runpod_typed._logging import redact, register_secret

if sys.version_info >= (3, 11):
    import tomllib
else:  # the same parser, a dependency on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

DEFAULT_API_BASE_URL = "https://api.runpod.io"
DEFAULT_ENDPOINT_BASE_URL = "https://api.runpod.ai/v2"
DEFAULT_CONFIG_PATH = "~/.runpod/config.toml"
DEFAULT_PROFILE = "default"

API_KEY_ENV = "RUNPOD_API_KEY"
PROFILE_ENV = "RUNPOD_PROFILE"
API_BASE_URL_ENV = "RUNPOD_API_BASE_URL"
ENDPOINT_BASE_URL_ENV = "RUNPOD_ENDPOINT_BASE_URL"

#: A key, or a function returning the current key (called for every request).
ApiKeySource: TypeAlias = str | Callable[[], str]

# A key goes into an HTTP header: visible ASCII only. Checking here keeps httpx
# from raising an "illegal header value" error that would quote the key.
_KEY_CHARS = re.compile(r"[\x21-\x7e]+")


class HiddenKey(str):
    """An API key whose repr does not show it.

    Tracebacks printed with their locals (pytest -l, rich's show_locals, error
    trackers) show the repr of every variable of every frame; the SDK holds keys
    as HiddenKey from the moment it gets them, so its frames show `'***'`. It is
    a str in every other way (formatting it into a header gives the key).
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "'***'"


def hidden(source: ApiKeySource | None) -> ApiKeySource | None:
    """`source` with a str key wrapped as a HiddenKey (anything else unchanged)."""
    return HiddenKey(source) if isinstance(source, str) else source


def _check_key(value: object, where: str, owner: object | None = None) -> str:
    """The key from `where`, stripped, or a ConfigurationError that never quotes it.

    The key is returned as a HiddenKey and registered with the redactor for as long
    as `owner` (its key provider) lives. A value that is refused is dropped from this
    frame before the error is raised, so a traceback printed with locals cannot show it.
    """
    problem = _key_problem(value, where)
    if problem is not None:
        del value
        raise ConfigurationError(problem)
    key = HiddenKey(str(value).strip())
    register_secret(key, owner)
    return key


def _key_problem(value: object, where: str) -> str | None:
    if not isinstance(value, str):
        return f"the API key from {where} must be a str, got {type(value).__name__}"
    key = value.strip()
    if not key:
        return (
            f"the API key from {where} is empty; give your RunPod API key "
            "(Settings > API Keys in the RunPod console)"
        )
    if not _KEY_CHARS.fullmatch(key):
        return (
            f"the API key from {where} contains spaces or non-printable characters; "
            "check for a copy-paste error"
        )
    return None


#: Config files already warned about (once per file and process, as ssh does per run).
_WARNED: set[str] = set()


def _warn_if_readable(path: Path) -> None:
    """Warn once if users other than the owner may read the file that holds the key."""
    if os.name != "posix" or str(path) in _WARNED:
        return
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return
    if mode & 0o077:
        _WARNED.add(str(path))
        warnings.warn(
            f"the RunPod config file {path} holds your API key but its permissions {mode:04o} "
            f"let other users read it; run: chmod 600 {path}",
            InsecureConfigWarning,
            stacklevel=2,
        )


class ApiKeyProvider:
    """Hands out the API key for each request, from wherever it was configured.

    Nothing is read or checked until the first `get()` (except an explicit str,
    checked at once). A callable source is called on every `get()`, so a rotated
    key takes effect on the next request. Every key handed out is registered
    with the log redactor. The repr names the source, never the key.
    """

    def __init__(
        self,
        source: ApiKeySource | None = None,
        *,
        profile: str | None = None,
        config_path: str | os.PathLike[str] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        env = os.environ if env is None else env
        self._callable: Callable[[], str] | None = None
        self._key: str | None = None
        self._env_value: str | None = None
        self._env_ignored = profile is not None and API_KEY_ENV in env
        self._profile = (
            profile if profile is not None else env.get(PROFILE_ENV, DEFAULT_PROFILE)
        ).strip()
        self._path = Path(config_path if config_path is not None else DEFAULT_CONFIG_PATH)
        if isinstance(source, str):
            self._key = _check_key(source, "the api_key= argument", self)
            self.source: str = "argument"
        elif callable(source):
            self._callable = source
            self.source = "callable"
        elif source is not None:
            raise ConfigurationError(
                f"api_key must be a str or a function returning one, got {type(source).__name__}"
            )
        elif profile is None and API_KEY_ENV in env:
            self._env_value = env[API_KEY_ENV]
            self.source = f"env:{API_KEY_ENV}"
        else:
            self.source = f"config:{self._path}[{self._profile}]"

    def get(self) -> str:
        """The key to send now; raises MissingApiKeyError or ConfigurationError."""
        if self._callable is not None:
            return _check_key(self._call(), "the api_key= function", self)
        if self._key is None:
            if self._env_value is not None:
                where = f"the {API_KEY_ENV} environment variable"
                self._key = _check_key(self._env_value, where, self)
            else:
                self._key = self._read_config()
        return self._key

    def _call(self) -> object:
        """What the api_key= function returns; if it raises, a ConfigurationError.

        The error says what the function raised, redacted; the function's exception is
        not chained to it: its text and its frames' locals may hold secrets the SDK
        cannot know (a vault token, the key being rotated in).
        """
        assert self._callable is not None
        try:
            return self._callable()
        except Exception as exc:
            failure = f"{type(exc).__name__}: {redact(str(exc))}"
        failure = failure if len(failure) <= 300 else failure[:297] + "..."
        raise ConfigurationError(
            f"the api_key= function raised {failure}; nothing was sent (call the function "
            "yourself to see its traceback)"
        )

    def _read_config(self) -> str:
        profile = self._profile
        if not profile:
            raise ConfigurationError(
                f"the profile name is empty (from profile= or {PROFILE_ENV}); "
                f"leave it unset for [{DEFAULT_PROFILE}]"
            )
        path = self._path.expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise MissingApiKeyError(self._missing(path, "the file does not exist")) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigurationError(
                f"cannot read the RunPod config file {path}: {type(exc).__name__}"
            ) from None
        _warn_if_readable(path)
        # The file's text and contents hold every profile's key: they are dropped before
        # any error is raised here (tracebacks printed with locals show every variable).
        table, profiles, invalid = _parse_config(text, profile)
        del text
        if invalid is not None:
            raise ConfigurationError(
                f"the RunPod config file {path} is not valid TOML{invalid}; "
                "fix it or rewrite it with `runpod config`"
            )
        if table is None:
            found = ", ".join(profiles)
            why = f"it has no [{profile}] profile" + (f" (profiles: {found})" if found else "")
            raise MissingApiKeyError(self._missing(path, why))
        if not isinstance(table, dict):
            del table
            raise ConfigurationError(f"[{profile}] in {path} must be a table with api_key = ...")
        if "api_key" not in table:
            del table
            raise MissingApiKeyError(self._missing(path, f"[{profile}] has no api_key"))
        value = table["api_key"]
        del table
        try:
            return _check_key(value, f"[{profile}] api_key in {path}", self)
        except ConfigurationError:
            del value
            raise

    def _missing(self, path: Path, why: str) -> str:
        env = "was ignored because profile= was given" if self._env_ignored else "is not set"
        return (
            "no RunPod API key found. Give one in any of: the api_key= argument of the client; "
            f'the {API_KEY_ENV} environment variable; or api_key = "..." under '
            f"[{self._profile}] in {DEFAULT_CONFIG_PATH} (`runpod config` writes it). "
            f"Here {API_KEY_ENV} {env}, and {path}: {why}."
        )

    def __repr__(self) -> str:
        return f"ApiKeyProvider(source={getattr(self, 'source', '(not set up)')!r})"


def _parse_config(text: str, profile: str) -> tuple[Any, list[str], str | None]:
    """(the `[profile]` table or None, the file's profile names, why it is not TOML or None).

    Nothing is raised from here: a TOML error's traceback holds the parser's frames,
    whose locals are the file's text.
    """
    try:
        data = tomllib.loads(text)
    except ValueError as exc:  # TOMLDecodeError; its position only, never the text
        where = re.search(r"line \d+, column \d+", str(exc))
        return None, [], f" (at {where.group()})" if where else ""
    profiles = sorted(k for k, v in data.items() if isinstance(v, dict))
    return data.get(profile), profiles, None


@dataclass(frozen=True)
class ResolvedUrls:
    """The roots every request URL is built from (no trailing slash).

    `rest_url` is the control-plane host that REST v2 paths (``/v2/pods``, ...) are
    appended to; left out, it is `graphql_url` without its ``/graphql``.
    """

    graphql_url: str
    endpoint_base_url: str
    rest_url: str = ""

    def __post_init__(self) -> None:
        if not self.rest_url:
            object.__setattr__(self, "rest_url", self.graphql_url.removesuffix("/graphql"))


def resolve_urls(
    api_base_url: str | None,
    endpoint_base_url: str | None,
    *,
    allow_insecure_http: bool = False,
    env: Mapping[str, str] | None = None,
) -> ResolvedUrls:
    """Pick and check both base URLs; the GraphQL URL is the API base + `/graphql`, and
    REST v2 paths (which start with `/v2`) go under the API base itself."""
    env = os.environ if env is None else env
    api_base = _check_url(
        *_pick(api_base_url, "api_base_url", API_BASE_URL_ENV, DEFAULT_API_BASE_URL, env),
        allow_insecure_http,
    )
    endpoint_base = _check_url(
        *_pick(
            endpoint_base_url,
            "endpoint_base_url",
            ENDPOINT_BASE_URL_ENV,
            DEFAULT_ENDPOINT_BASE_URL,
            env,
        ),
        allow_insecure_http,
    )
    graphql = api_base if api_base.endswith("/graphql") else api_base + "/graphql"
    rest = api_base.removesuffix("/graphql")
    return ResolvedUrls(graphql_url=graphql, endpoint_base_url=endpoint_base, rest_url=rest)


def _pick(
    argument: str | None, name: str, env_name: str, default: str, env: Mapping[str, str]
) -> tuple[str, str]:
    """(url, where it came from) by precedence: argument, environment, default."""
    if argument is not None:
        return argument, f"{name}="
    if env_name in env:
        return env[env_name], env_name
    return default, name


_LOOPBACK_NAMES = frozenset({"localhost", "localhost."})


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_url(raw: object, where: str, allow_insecure_http: bool) -> str:
    """A normalized base URL, or a ConfigurationError saying what to change.

    Errors about credentials, queries or odd characters do not quote the URL:
    that part may hold a secret.
    """
    if not isinstance(raw, str):
        raise ConfigurationError(f"{where} must be a str URL, got {type(raw).__name__}")
    url = raw.strip()
    if not url:
        raise ConfigurationError(f"{where} is empty; leave it unset for RunPod's default")
    if any(c.isspace() or not c.isprintable() for c in url):
        raise ConfigurationError(f"{where} contains spaces or control characters")
    parts = urlsplit(url)
    if "@" in parts.netloc:
        raise ConfigurationError(
            f"{where} must not contain a user name or password; "
            "the API key goes in api_key= or RUNPOD_API_KEY, never in a URL"
        )
    if "?" in url or "#" in url:
        raise ConfigurationError(f"{where} must not contain a query string or fragment")
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            f"{where} must be an absolute http(s) URL such as https://api.runpod.ai/v2, got {url!r}"
        )
    try:
        parts.port  # noqa: B018 -- parsing the port is the check
    except ValueError:
        raise ConfigurationError(f"{where} has an invalid port: {url!r}") from None
    if scheme == "http" and not allow_insecure_http and not _is_loopback(parts.hostname):
        raise ConfigurationError(
            f"{where} is plain http:// to {parts.hostname}, which would send the API key "
            "unencrypted. Use https://, or pass allow_insecure_http=True to the client if "
            "this network is trusted (http is always allowed to localhost/127.0.0.1/::1)."
        )
    return f"{scheme}://{parts.netloc}{parts.path.rstrip('/')}"
