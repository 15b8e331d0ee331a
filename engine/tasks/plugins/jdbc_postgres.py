"""Kestra's PostgreSQL tasks on psycopg 3: Query, Queries, CopyIn and CopyOut.

`url` is pgjdbc's `jdbc:postgresql://host[:port][,host2...]/database?param=value`; the
parameters libpq also knows (user, password, sslmode, connectTimeout, ApplicationName,
currentSchema, options) are passed on. `ssl`/`sslMode` and the PEM certificates and key
(written to 0600 files for libpq) are Kestra's PostgresConnectionInterface. Cells follow
PostgresCellConverter: `timestamp` a LocalDateTime, `timestamptz` a ZonedDateTime in
`timeZoneId`, intervals as `P0Y0M1DT2H0M0S`, json/jsonb parsed, arrays as lists.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qsl, unquote, urlsplit
from zoneinfo import ZoneInfo

from engine.core.errors import TaskFailure
from engine.core.yaml_source import Position
from engine.tasks.base import Task
from engine.tasks.context import TaskContext
from engine.tasks.plugins.jdbc_common import JdbcQueries, JdbcQuery, JdbcTask, Session
from engine.tasks.plugins.jdbc_values import JavaTime, common_cell, local_date_time, zoned_date_time
from engine.tasks.properties import Kind, prop
from engine.tasks.registry import register

if TYPE_CHECKING:
    import psycopg

SCHEME = "jdbc:postgresql"
SSL_MODES = ("DISABLE", "ALLOW", "PREFER", "REQUIRE", "VERIFY_CA", "VERIFY_FULL")
_URL_PARAMS = {"user": "user", "password": "password", "sslmode": "sslmode", "connecttimeout": "connect_timeout",
               "applicationname": "application_name", "options": "options", "sslrootcert": "sslrootcert",
               "sslcert": "sslcert", "sslkey": "sslkey", "sslpassword": "sslpassword"}
_HOST_PORT = re.compile(r"^(?:\[([^\]]+)\]|([^:]*))(?::(\d+))?$")  # host, [ipv6] and an optional :port
_PLAIN = (str, int, float, bool, bytes, dict, list, date, Decimal, JavaTime)


class PostgresSession(Session):
    product = "PostgreSQL"
    placeholder = "%s"

    def __init__(self, connection: psycopg.Connection[Any], zone: ZoneInfo) -> None:
        self.connection = connection
        self.zone = zone

    @property
    def driver_errors(self) -> tuple[type[BaseException], ...]:
        import psycopg

        return (psycopg.Error,)

    def execute(self, sql: str, values: list[Any] | None) -> Any:
        cursor = self.connection.cursor()
        if values is None:
            cursor.execute(sql.encode())  # bytes: no placeholder parsing, `%` stays `%`
        else:
            cursor.execute(sql, values)
        return cursor

    def cell(self, value: Any, type_code: Any) -> Any:
        if isinstance(value, datetime) and value.tzinfo is None:
            return local_date_time(value)
        if isinstance(value, datetime):
            return zoned_date_time(value, self.zone)
        converted = common_cell(value, self.zone)
        # inet, ranges, money...: Kestra has no converter for them; their text is what users see
        return converted if isinstance(converted, _PLAIN) else str(value)

    def interrupt(self) -> None:
        # cancel_safe (psycopg 3.2+) does not block this thread on a server that is slow to answer
        cancel = getattr(self.connection, "cancel_safe", None) or self.connection.cancel
        cancel()

    def close(self) -> None:
        self.connection.close()


@dataclass(kw_only=True, eq=False)
class PostgresConnection(Task):
    """The connection properties (Kestra's PostgresConnectionInterface)."""

    url: Any = prop(kind=Kind.STRING, required=True)
    username: Any = prop(kind=Kind.STRING)
    password: Any = prop(kind=Kind.STRING)
    ssl: Any = prop(False, kind=Kind.BOOL)
    ssl_mode: Any = prop(kind=Kind.STRING)
    ssl_root_cert: Any = prop(kind=Kind.STRING)
    ssl_cert: Any = prop(kind=Kind.STRING)
    ssl_key: Any = prop(kind=Kind.STRING)
    ssl_key_password: Any = prop(kind=Kind.STRING)

    def validate(self) -> list[tuple[str | Position, str]]:
        problems = super().validate()
        if isinstance(self.ssl_mode, str) and "{{" not in self.ssl_mode and self.ssl_mode.upper() not in SSL_MODES:
            problems.append(("sslMode", f"'sslMode' must be one of {', '.join(SSL_MODES)}, not '{self.ssl_mode}'"))
        return problems

    def connect(self, ctx: TaskContext[Task], zone: ZoneInfo, *, socket_timeout: int | None = None) -> PostgresSession:
        import psycopg  # 0.5 s: imported by the first PostgreSQL task, not by every `roost` command
        from psycopg.conninfo import make_conninfo

        url = ctx.render_optional_str(self.url, "url") or ""
        if not url.strip():
            raise TaskFailure("Rendered value of `url` is blank.")
        if not url.startswith(SCHEME):
            raise TaskFailure(f"property 'url': URL scheme is invalid. URL should start with `{SCHEME}`")
        settings = _settings_from_url(url)
        username = ctx.render_optional_str(self.username, "username")
        password = ctx.render_optional_str(self.password, "password")
        if username is not None:
            settings["user"] = username
        if password is not None:
            settings["password"] = password
        self._ssl_settings(ctx, settings)
        if socket_timeout:
            settings["options"] = (settings.get("options", "") + f" -c statement_timeout={socket_timeout * 1000}").strip()
        settings.setdefault("connect_timeout", "10")
        try:
            connection = psycopg.connect(make_conninfo(**settings), autocommit=True)
        except psycopg.Error as exc:
            where = f"{settings.get('host', 'localhost')}:{settings.get('port', '5432')}/{settings.get('dbname', '')}"
            raise TaskFailure(f"task '{ctx.task_id}': cannot connect to PostgreSQL at {where}: "
                              f"{str(exc).strip()}") from None
        return PostgresSession(connection, zone)

    def _ssl_settings(self, ctx: TaskContext[Task], settings: dict[str, str]) -> None:
        mode = ctx.render_optional_str(self.ssl_mode, "sslMode")
        if mode:
            if mode.upper() not in SSL_MODES:
                raise TaskFailure(f"property 'sslMode' must be one of {', '.join(SSL_MODES)}, not '{mode}'")
            settings["sslmode"] = mode.lower().replace("_", "-")
        elif ctx.render_bool(self.ssl, "ssl"):
            settings.setdefault("sslmode", "verify-full")  # pgjdbc's ssl=true without sslmode
        for attribute, key in (("ssl_root_cert", "sslrootcert"), ("ssl_cert", "sslcert"), ("ssl_key", "sslkey")):
            pem = ctx.render_optional_str(getattr(self, attribute), attribute)
            if pem:
                settings[key] = str(_private_file(ctx, pem, ".pem"))
        key_password = ctx.render_optional_str(self.ssl_key_password, "sslKeyPassword")
        if key_password:
            settings["sslpassword"] = key_password


def _private_file(ctx: TaskContext[Task], content: str, suffix: str) -> Path:
    """libpq refuses a key readable by others: PEM text goes to a 0600 file of the run's home."""
    handle, name = tempfile.mkstemp(suffix=suffix, dir=ctx.home.root)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(content)
    os.chmod(name, 0o600)
    return Path(name)


def _settings_from_url(url: str) -> dict[str, str]:
    """pgjdbc's URL as libpq keywords; `jdbc:postgresql:db` and `jdbc:postgresql:/` mean localhost."""
    rest = url[len(SCHEME):].lstrip(":")
    settings: dict[str, str] = {}
    if rest.startswith("//"):
        parts = urlsplit("postgresql:" + rest)
        hosts, ports = [], []
        for item in parts.netloc.rsplit("@", 1)[-1].split(","):
            match = _HOST_PORT.match(item)
            host, port = (match.group(1) or match.group(2), match.group(3)) if match else (item, None)
            hosts.append(host or "localhost")
            ports.append(port or "5432")
        settings.update(host=",".join(hosts), port=",".join(ports))
        database, query = unquote(parts.path.lstrip("/")), parts.query
    else:
        database, _, query = rest.lstrip("/").partition("?")
        settings.update(host="localhost", port="5432")
    if database:
        settings["dbname"] = database
    for key, value in parse_qsl(query):
        lowered = key.lower()
        if lowered in _URL_PARAMS:
            settings[_URL_PARAMS[lowered]] = value
        elif lowered == "ssl" and value.lower() == "true":
            settings.setdefault("sslmode", "verify-full")
        elif lowered == "currentschema":
            settings["options"] = (settings.get("options", "") + f" -c search_path={value}").strip()
    return settings


@dataclass(kw_only=True, eq=False)
class PostgresQueryTask(PostgresConnection, JdbcTask):
    """Query and Queries: `outputFiles` is accepted, as in Kestra, and does nothing for a server."""

    output_files: Any = prop(kind=Kind.LIST_OR_STRING)

    def open_session(self, ctx: TaskContext[Task], zone: ZoneInfo) -> Session:
        if self.output_files is not None:
            ctx.warn("outputFiles is only supported by embedded databases (DuckDB, SQLite): "
                     "PostgreSQL runs the SQL on its server, which cannot write the task's files")
        return self.connect(ctx, zone)


@register
@dataclass(kw_only=True, eq=False)
class Query(PostgresQueryTask, JdbcQuery):
    """One SQL statement on a PostgreSQL server; rows as outputs or an ION file."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.jdbc.postgresql.Query",)


@register
@dataclass(kw_only=True, eq=False)
class Queries(PostgresQueryTask, JdbcQueries):
    """Several SQL statements on a PostgreSQL server, in one transaction by default; one output each."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.jdbc.postgresql.Queries",)
