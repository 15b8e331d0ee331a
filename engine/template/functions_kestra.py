"""Kestra's `fileURI()`, `fromIon()`, `errorLogs()`, `ksuid()`, `nanoId()`: functions beyond the core set.

`functions.py` registers them beside the others (same `fn__` names, same argument checks).
`fileURI()` needs only the flow's namespace, `fromIon()` only its text; `errorLogs()`
asks the render's services for the execution's error lines, which only a task's
services can give (Kestra: "can only be used in the Worker").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from jinja2.runtime import Context

from engine.template.errors import TemplateError
from engine.template.values import describe_type

#: Kestra's `LogService.errorLogs` returns the first 25 ERROR lines, oldest first.
ERROR_LOGS_LIMIT = 25


@runtime_checkable
class ErrorLogSource(Protocol):
    """Services that can list the running execution's ERROR log lines (a task's, not a trigger's)."""

    def error_logs(self, limit: int) -> list[dict[str, Any]]:
        """Up to `limit` ERROR lines as Kestra's LogEntry maps (namespace, flowId, taskId, ...)."""
        ...


def namespace_file_uri(namespace: str, path: str) -> str:
    """`kestra:///company/team/_files/<path>`: Kestra's StorageContext.namespaceFilePrefix."""
    return f"kestra:///{namespace.replace('.', '/')}/_files/{path}"


def file_uri(context: Context, path: Any = None) -> str:
    """Kestra's FileURIFunction: the storage URI of one of the flow's namespace files."""
    if path is None:
        raise TemplateError("The 'fileURI' function expects an argument 'path' that is a path to a namespace file.")
    if not isinstance(path, str):
        raise TemplateError(f"fileURI() expects the path as a string, got {describe_type(path)}")
    relative = path[1:] if path.startswith("/") else path
    if "../" in relative:
        raise TemplateError("Path must not contain '../'")
    flow = context.get("flow")
    namespace = flow.get("namespace") if isinstance(flow, dict) else None
    if not isinstance(namespace, str):
        raise TemplateError("fileURI() needs the flow's namespace; it is only available in a flow")
    return namespace_file_uri(namespace, relative)


def from_ion(ion: Any = None) -> Any:
    """Kestra's FromIonFunction: one Ion text value as plain maps, lists and scalars."""
    if ion is None:
        return None
    if not isinstance(ion, str):
        raise TemplateError("The 'fromIon' function expects an argument 'ion' with type string.")
    from amazon.ion import simpleion  # loaded on the first call: most templates never need it
    from amazon.ion.exceptions import IonException

    try:
        values = simpleion.loads(ion, single_value=False)
    except (IonException, ValueError, TypeError, IndexError, KeyError) as exc:
        raise TemplateError(f"Invalid ion: {exc}") from None
    if len(values) != 1:
        raise TemplateError(f"Invalid ion: expected one value, found {len(values)}")
    from engine.core.ion import to_plain

    return to_plain(values[0], keep_datetimes=True)


def error_logs(services: object) -> list[dict[str, Any]]:
    """Kestra's ErrorLogsFunction: the execution's first ERROR lines, `[]` when there are none."""
    if not isinstance(services, ErrorLogSource):
        raise TemplateError("The 'errorLogs' function can only be used in a task, "
                            "as it reads the execution's logs.")
    return services.error_logs(ERROR_LOGS_LIMIT)


_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_KSUID_EPOCH = 1_400_000_000   # segmentio/ksuid: seconds are counted from 2014-05-13
NANO_ID_ALPHABET = "_-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def ksuid() -> str:
    """A K-Sortable Unique Identifier: 4 bytes of seconds then 16 random bytes, 27 base62 digits,
    so ids made later sort after earlier ones (newer Kestra's `ksuid()`)."""
    import secrets
    import time

    number = ((int(time.time()) - _KSUID_EPOCH) << 128) | int.from_bytes(secrets.token_bytes(16), "big")
    digits = ""
    while number:
        number, digit = divmod(number, 62)
        digits = _BASE62[digit] + digits
    return digits.rjust(27, "0")


def nano_id(length: Any = 21, alphabet: Any = NANO_ID_ALPHABET) -> str:
    """A NanoID (newer Kestra's `nanoId()`): `length` characters drawn from `alphabet`."""
    import secrets

    if isinstance(length, bool) or not isinstance(length, int) or length < 1:
        raise TemplateError(f"nanoId() expects a positive length, got {length!r}")
    if not isinstance(alphabet, str) or not alphabet:
        raise TemplateError("nanoId() expects the alphabet as a non-empty string")
    return "".join(secrets.choice(alphabet) for _ in range(length))


#: By whether the function takes the Jinja context first; `errorLogs` is wired in functions.py.
KESTRA_CONTEXT_FUNCTIONS: dict[str, Callable[..., Any]] = {"fileURI": file_uri}
KESTRA_PLAIN_FUNCTIONS: dict[str, Callable[..., Any]] = {"fromIon": from_ion, "ksuid": ksuid, "nanoId": nano_id}
