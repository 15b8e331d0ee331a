"""Secrets as Kestra OSS reads them, and the masking that keeps them off every screen.

`secret('NAME')` reads the environment variable `SECRET_NAME`, base64-encoded as
Kestra's OSS edition expects; a plain value may also come from a `.env`-style
file named in roost.toml. Every value handed out is registered with the Masker,
together with its base64, URL-encoded and hex forms, so none of them can be printed back.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import threading
from collections.abc import Mapping
from pathlib import Path

#: What a secret becomes in logs: eight stars whatever its length (Kestra's tests expect
#: `********`), so the mask never tells how long the secret is.
MASK = "********"
_LINE_BREAKS = re.compile(r"\r\n|[\n\x0b\x0c\r\x85\u2028\u2029]")  # Java's `\R`


class SecretError(Exception):
    """A secret that cannot be found or decoded; the message says how to provide it."""


class Masker:
    """Replaces every known secret value in text; cheap when no secret was used."""

    MIN_LENGTH = 3

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def add(self, value: str) -> None:
        forms = ({value, *value.splitlines()} | _encoded_forms(value.encode())
                 | _url_and_hex_forms(value))
        forms = {f.strip() for f in forms}
        forms = {f for f in forms if len(f) >= self.MIN_LENGTH}
        with self._lock:
            if forms <= self._values:
                return
            self._values |= forms
            ordered = sorted(self._values, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(v) for v in ordered))

    def mask(self, text: str) -> str:
        pattern = self._pattern
        if pattern is None or not text:
            return text
        return pattern.sub(MASK, text)

    def mask_value(self, value: object) -> object:
        """Masks strings inside nested outputs (dicts, lists) before they are stored or shown."""
        if self._pattern is None:
            return value
        if isinstance(value, str):
            return self.mask(value)
        if isinstance(value, dict):
            return {k: self.mask_value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.mask_value(v) for v in value]
        return value

    @property
    def active(self) -> bool:
        return self._pattern is not None


_BASE64_LINE = 76  # `base64` (coreutils) and MIME wrap their output at 76 characters
_MIN_CORE = 8


def _encoded_forms(raw: bytes) -> set[str]:
    """The base64 texts a task prints when it encodes a secret: alone (`printf %s "$S" | base64`),
    with echo's newline, wrapped at 76 characters, and inside a longer text (`user:$S`)."""
    forms: set[str] = set()
    for data in (raw, raw + b"\n"):
        for encoded in (base64.b64encode(data).decode(), base64.urlsafe_b64encode(data).decode()):
            forms.update((encoded, encoded.rstrip("=")))
            forms.update(encoded[i:i + _BASE64_LINE] for i in range(0, len(encoded), _BASE64_LINE))
    # After a prefix, the secret's bytes sit at another offset of the 3-byte groups: mask the
    # characters that come from the secret alone (the group it shares with its neighbours differs).
    for offset in (0, 1, 2):
        encoded = base64.b64encode(b"\0" * offset + raw).decode()
        start = 4 if offset else 0
        core = encoded[start:len(encoded) - 4] if (offset + len(raw)) % 3 else encoded[start:]
        if len(core) >= _MIN_CORE:
            forms.add(core)
    return forms


def _url_and_hex_forms(value: str) -> set[str]:
    """The secret as a URL carries it (`quote`, `quote_plus`, with upper- and lower-case
    escapes) and as hex (`xxd -p`, `.hex()`, upper-case, with echo's newline)."""
    from urllib.parse import quote, quote_plus

    forms: set[str] = set()
    for encoded in (quote(value), quote(value, safe=""), quote_plus(value), quote_plus(value, safe="")):
        if encoded != value:
            forms.update((encoded, re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), encoded)))
    raw = value.encode()
    for data in (raw, raw + b"\n"):
        forms.update((data.hex(), data.hex().upper()))
    return forms


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=value lines; `#` comments, optional `export`, single or double quotes."""
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key] = value
    return values


class SecretStore:
    """Looks secrets up; each one returned is registered with the masker first."""

    def __init__(self, masker: Masker, environ: Mapping[str, str] | None = None,
                 env_file: Path | None = None) -> None:
        self.masker = masker
        self._environ = os.environ if environ is None else environ
        self._file_values = read_env_file(env_file) if env_file and env_file.is_file() else {}
        self._env_file = env_file

    def _encoded(self, name: str) -> tuple[str, str] | None:
        """(variable, base64 text) for `name`: Kestra upper-cases both the key given to
        `secret()` and the variable's suffix, so `secret('db_pass')` reads SECRET_DB_PASS."""
        wanted = name.upper()
        exact = self._environ.get(f"SECRET_{wanted}")
        if exact is not None:
            return f"SECRET_{wanted}", exact
        for variable, value in self._environ.items():
            if variable.startswith("SECRET_") and variable[7:].upper() == wanted:
                return variable, value
        return None

    def get(self, name: str) -> str:
        found = self._encoded(name)
        if found is not None:
            variable, encoded = found
            try:
                # Kestra drops line breaks first (`base64` wraps at 76 characters).
                value = base64.b64decode(_LINE_BREAKS.sub("", encoded), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                raise SecretError(
                    f"secret '{name}': {variable} is not valid base64; "
                    f"set it with: export {variable}=$(printf %s 'value' | base64 -w0)"
                ) from None
        elif name in self._file_values:
            value = self._file_values[name]
        else:
            where = f" or add {name}=... to {self._env_file}" if self._env_file else ""
            raise SecretError(
                f"secret '{name}' is not set: export SECRET_{name.upper()} as base64 "
                f"(printf %s 'value' | base64 -w0){where}"
            )
        self.masker.add(value)
        return value
