"""Kestra's HTTP client on httpx: options, one request, a response read or streamed to a file.

The HTTP tasks (engine/tasks/http.py) and the HTTP trigger (engine/triggers/http_trigger.py)
are siblings that may not import each other, so what they share lives here: the rendered
`options`/`sslOptions` maps turned into client settings with Kestra's defaults (10 s read
timeout, redirects followed, 10 MB response cap for a body kept in memory), and the request
built the way Kestra's AbstractHttp builds it (body, urlencoded or multipart `formData`,
headers, basic or bearer auth). Errors are `HttpError`s whose message names the property.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from engine.core.durations import DurationError, parse_duration

METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE")
DEFAULT_READ_TIMEOUT = 10.0  # Micronaut's HttpClientConfiguration.DEFAULT_READ_TIMEOUT_SECONDS
DEFAULT_MAX_CONTENT_LENGTH = 10 * 1024 * 1024
MULTIPART = "multipart/form-data"
# Kestra 0.20's RequestOptions, plus the names newer Kestra versions moved into `options`.
OPTION_KEYS = (
    "connectTimeout", "readTimeout", "readIdleTimeout", "connectionPoolIdleTimeout", "maxContentLength",
    "proxyType", "proxyAddress", "proxyPort", "proxyUsername", "proxyPassword", "defaultCharset",
    "followRedirects", "logLevel", "basicAuthUser", "basicAuthPassword", "auth", "allowFailed",
    "allowedResponseCodes", "timeout", "logs", "proxy",
)


class HttpError(Exception):
    """A request that could not be made or answered; the message is for the user as is."""


@dataclass(frozen=True)
class HttpSettings:
    """Client settings from `options` and `sslOptions`, Kestra's defaults filled in."""

    connect_timeout: float | None = None
    read_timeout: float | None = DEFAULT_READ_TIMEOUT
    follow_redirects: bool = True
    verify: bool = True
    charset: str = "utf-8"
    max_content_length: int = DEFAULT_MAX_CONTENT_LENGTH
    basic_auth: tuple[str, str] | None = None
    bearer_token: str | None = None
    proxy: str | None = None
    allow_failed: bool | None = None  # newer Kestra's options.allowFailed; None: not given


@dataclass
class HttpCall:
    """One request, every property rendered."""

    uri: str
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    form_data: dict[str, Any] | None = None
    content_type: str | None = None


@dataclass(frozen=True)
class HttpAnswer:
    """What came back: status, headers as Kestra lists them (name -> values), and the final URI."""

    code: int
    reason: str
    headers: dict[str, list[str]]
    uri: str

    def header(self, name: str) -> str | None:
        for key, values in self.headers.items():
            if key.lower() == name.lower() and values:
                return values[0]
        return None


def _seconds(value: Any, name: str) -> float | None:
    if value is None or value == "":
        return None
    try:
        return parse_duration(value if isinstance(value, int | float) else str(value)).total_seconds()
    except DurationError as exc:
        raise HttpError(f"property '{name}': {exc}") from None


def _flag(value: Any, name: str, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "false"):
        return text == "true"
    raise HttpError(f"property '{name}' must be true or false, not '{value}'")


def settings_from(options: Mapping[str, Any] | None, ssl_options: Mapping[str, Any] | None) -> HttpSettings:
    """Rendered `options` and `sslOptions` maps as client settings; unknown values name their key."""
    opts = dict(options or {})
    raw_timeout = opts.get("timeout")
    timeout: dict[str, Any] = raw_timeout if isinstance(raw_timeout, dict) else {}
    connect = _seconds(opts.get("connectTimeout", timeout.get("connectTimeout")), "options.connectTimeout")
    read = _seconds(opts.get("readTimeout", timeout.get("readIdleTimeout")), "options.readTimeout")
    basic: tuple[str, str] | None = None
    bearer: str | None = None
    if opts.get("basicAuthUser") is not None and opts.get("basicAuthPassword") is not None:
        basic = (str(opts["basicAuthUser"]), str(opts["basicAuthPassword"]))
    auth = opts.get("auth")
    if isinstance(auth, dict):
        kind = str(auth.get("type", "")).upper()
        if kind == "BASIC":
            basic = (str(auth.get("username") or ""), str(auth.get("password") or ""))
        elif kind == "BEARER":
            bearer = str(auth.get("token") or "")
        else:
            raise HttpError(f"property 'options.auth.type': '{auth.get('type')}' is not supported "
                            "(Roost knows BASIC and BEARER)")
    max_length = opts.get("maxContentLength")
    try:
        max_content = int(max_length) if max_length is not None else DEFAULT_MAX_CONTENT_LENGTH
    except (TypeError, ValueError):
        raise HttpError(f"property 'options.maxContentLength': '{max_length}' is not an integer") from None
    proxy = None
    if opts.get("proxyAddress") and opts.get("proxyPort"):
        credentials = ""
        if opts.get("proxyUsername"):
            credentials = f"{opts['proxyUsername']}:{opts.get('proxyPassword') or ''}@"
        scheme = "socks5" if str(opts.get("proxyType", "HTTP")).upper() == "SOCKS" else "http"
        proxy = f"{scheme}://{credentials}{opts['proxyAddress']}:{opts['proxyPort']}"
    allow_failed = opts.get("allowFailed")
    return HttpSettings(
        connect_timeout=connect,
        read_timeout=read if read is not None else DEFAULT_READ_TIMEOUT,
        follow_redirects=_flag(opts.get("followRedirects"), "options.followRedirects", True),
        verify=not _flag((ssl_options or {}).get("insecureTrustAllCertificates"),
                         "sslOptions.insecureTrustAllCertificates", False),
        charset=str(opts.get("defaultCharset") or "utf-8"),
        max_content_length=max_content,
        basic_auth=basic, bearer_token=bearer, proxy=proxy,
        allow_failed=None if allow_failed is None else _flag(allow_failed, "options.allowFailed", False),
    )


FileOpener = Callable[[str], Path]
"""The local file behind a kestra:// URI (raises HttpError when it is not readable)."""


def _request_parts(call: HttpCall, settings: HttpSettings, open_file: FileOpener,
                   stack: list[IO[bytes]]) -> dict[str, Any]:
    """httpx.request keyword arguments for Kestra's body / formData / contentType rules."""
    headers = dict(call.headers)
    kwargs: dict[str, Any] = {}
    content_type = call.content_type
    if call.form_data is not None:
        if content_type is not None and content_type.split(";")[0].strip().lower() == MULTIPART:
            data: dict[str, str] = {}
            files: list[tuple[str, tuple[str, IO[bytes]]]] = []
            for key, value in call.form_data.items():
                if isinstance(value, str) and value.startswith("kestra://"):
                    path = open_file(value)
                    handle = path.open("rb")
                    stack.append(handle)
                    files.append((str(key), (path.name, handle)))
                elif isinstance(value, dict) and "name" in value and "content" in value:
                    handle = open_file(str(value["content"])).open("rb")
                    stack.append(handle)
                    files.append((str(key), (str(value["name"]), handle)))
                elif isinstance(value, str):
                    data[str(key)] = value
                else:
                    data[str(key)] = json.dumps(value, separators=(",", ":"))
            if files:
                kwargs["data"], kwargs["files"] = data, files
            else:  # httpx writes multipart only when there are files: send the fields as parts
                kwargs["files"] = [(k, (None, v.encode(settings.charset))) for k, v in data.items()]
            content_type = None  # httpx writes multipart/form-data with its boundary
        else:
            kwargs["data"] = {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in call.form_data.items()}
            content_type = content_type or "application/x-www-form-urlencoded"
    elif call.body is not None:
        kwargs["content"] = call.body.encode(settings.charset)
    if content_type is not None and not any(k.lower() == "content-type" for k in headers):
        headers["Content-Type"] = content_type
    if settings.bearer_token is not None:
        headers["Authorization"] = f"Bearer {settings.bearer_token}"
    kwargs["headers"] = headers
    if settings.basic_auth is not None:
        kwargs["auth"] = settings.basic_auth
    return kwargs


@contextmanager
def exchange(call: HttpCall, settings: HttpSettings, open_file: FileOpener,
             stop: Callable[[], bool] = lambda: False) -> Iterator[tuple[HttpAnswer, Iterator[bytes]]]:
    """Send `call`; yields the answer and an iterator over the body's bytes, read as they come."""
    import httpx

    if call.method.upper() not in METHODS:
        raise HttpError(f"property 'method': '{call.method}' is not one of {', '.join(METHODS)}")
    timeout = httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout)
    handles: list[IO[bytes]] = []
    try:
        parts = _request_parts(call, settings, open_file, handles)
        with httpx.Client(timeout=timeout, follow_redirects=settings.follow_redirects,
                          verify=settings.verify, proxy=settings.proxy) as client:
            request = client.build_request(call.method.upper(), call.uri, **{
                k: v for k, v in parts.items() if k != "auth"})
            response = client.send(request, stream=True, auth=parts.get("auth"))
            try:
                headers: dict[str, list[str]] = {}
                for raw_name, raw_value in response.headers.raw:
                    headers.setdefault(raw_name.decode("latin-1"), []).append(raw_value.decode("latin-1"))
                answer = HttpAnswer(response.status_code, response.reason_phrase, headers, str(response.url))

                def chunks() -> Iterator[bytes]:
                    for chunk in response.iter_bytes(64 * 1024):
                        if stop():
                            raise HttpError("the request was cancelled")
                        yield chunk

                yield answer, chunks()
            finally:
                response.close()
    except httpx.TimeoutException as exc:
        which = "options.connectTimeout" if isinstance(exc, httpx.ConnectTimeout) else "options.readTimeout"
        raise HttpError(f"{call.method.upper()} {call.uri} timed out ({which})") from None
    except httpx.InvalidURL as exc:
        raise HttpError(f"property 'uri': '{call.uri}' is not a valid URL ({exc})") from None
    except httpx.UnsupportedProtocol:
        raise HttpError(f"property 'uri': '{call.uri}' must start with http:// or https://") from None
    except httpx.HTTPError as exc:
        raise HttpError(f"{call.method.upper()} {call.uri} failed: {exc}") from None
    finally:
        for handle in handles:
            handle.close()


def read_text(chunks: Iterator[bytes], answer: HttpAnswer, settings: HttpSettings) -> str:
    """The whole body as text (the response's charset, else defaultCharset), capped like Kestra's."""
    data = bytearray()
    for chunk in chunks:
        data.extend(chunk)
        if len(data) > settings.max_content_length:
            raise HttpError(f"The received length exceeds the maximum allowed content length "
                            f"[{settings.max_content_length}] (raise options.maxContentLength, "
                            f"or use io.kestra.plugin.core.http.Download)")
    charset = settings.charset
    content_type = answer.header("Content-Type") or ""
    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "charset" and value:
            charset = value.strip('"')
    try:
        return bytes(data).decode(charset, errors="replace")
    except LookupError:
        return bytes(data).decode(settings.charset, errors="replace")


def failure_message(answer: HttpAnswer) -> str:
    """Kestra's error for a response code >= 400 (Micronaut gives the reason phrase)."""
    return f"Failed http request with response code '{answer.code}' ({answer.reason or 'no reason'})"
