"""What templates may ask of the world outside their variables: the `TemplateServices` protocol.

`secret()`, `read()`, `fileSize()`, `fileExists()` and `kv()` reach storage and secrets, which the
template layer knows nothing of: the caller passes an object with these methods. The
executor's `engine.execution.variables.RenderServices` serves a task's templates; the
scheduler's `engine.scheduling.trigger_context.TriggerServices` a trigger's (secret only).
"""

from __future__ import annotations

from typing import Any, Protocol


class TemplateServices(Protocol):
    def secret(self, name: str) -> str:
        """The secret's clear value (registered for masking); raises TemplateError if unknown."""
        ...

    def read(self, path: str) -> str:
        """A namespace file or a `kestra://` file of this execution, as text."""
        ...

    def file_size(self, path: str) -> int: ...

    def file_exists(self, path: str) -> bool: ...

    def kv(self, key: str, namespace: str | None, error_on_missing: bool) -> Any:
        """Kestra's `kv()`: the typed value of a KV entry (the flow's namespace by default), or None.

        Raises TemplateError when the key is invalid, or missing with `error_on_missing`.
        """
        ...
