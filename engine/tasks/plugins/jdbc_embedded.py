"""The file side of Kestra's embedded databases (DuckDB, SQLite): a working directory, files in, files out.

The database engine runs in-process and shares the task's filesystem, so Kestra gives these
tasks `outputFiles` (empty files made before the SQL runs, their paths in
`{{ outputFiles.name }}`, captured into storage afterwards) and `outputDbFile` (the database
file itself captured as `databaseUri`). Output file names follow Kestra's
`File.createTempFile(name + "_", null, workingDir)`.
"""

from __future__ import annotations

import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.core.errors import TaskFailure
from engine.store.files.safe_paths import UnsafePathError, safe_join
from engine.tasks.base import Task
from engine.tasks.context import TaskContext
from engine.tasks.plugins.jdbc_common import JdbcTask, LocalFiles, Session
from engine.tasks.properties import Kind, prop


@dataclass(kw_only=True, eq=False)
class EmbeddedDatabaseTask(JdbcTask):
    """`outputFiles` and `outputDbFile`, shared by the DuckDB and SQLite tasks."""

    output_files: Any = prop(kind=Kind.LIST_OR_STRING)
    output_db_file: Any = prop(False, kind=Kind.BOOL)

    OMIT_EMPTY_OUTPUT_FILES = False
    """SQLite's tasks leave `outputFiles` out when there are none; DuckDB's always give the map."""

    def prepare_output_files(self, ctx: TaskContext[Task], directory: Path) -> dict[str, Path]:
        """An empty file per name, its path in `outputFiles` (and `temp`) for the SQL's templates."""
        rendered = [] if self.output_files is None else ctx.render_list(self.output_files, "outputFiles")
        files: dict[str, Path] = {}
        for item in rendered:
            if not isinstance(item, str | int | float) or isinstance(item, bool):
                raise TaskFailure(f"property 'outputFiles': each entry is a file name, got {type(item).__name__} "
                                  f"{str(item)[:60]!r}")
            name = str(item)
            if "/" in name or "\\" in name or name in ("", ".", ".."):
                raise TaskFailure(f"property 'outputFiles': '{name[:80]}' is not a file name "
                                  "(a name, without '/'; the file is made in the task's directory)")
            prefix = name + "_" if len(name) >= 2 else (name + "_").rjust(3, "_")
            try:
                path = safe_join(directory, f"{prefix}{secrets.randbelow(10**18)}.tmp")
            except UnsafePathError as exc:
                raise TaskFailure(f"property 'outputFiles': '{name}' is not a valid file name ({exc})") from None
            path.touch()
            files[name] = path
        if files:
            paths = {name: str(path) for name, path in files.items()}
            ctx.extra_variables["outputFiles"] = paths
            ctx.extra_variables["temp"] = paths
        return files

    def copy_database_in(self, ctx: TaskContext[Task], uri: str, target: Path, prop_name: str) -> Path:
        """A database file from storage (`databaseUri`, `sqliteFile`), copied into the working directory."""
        try:
            source = ctx.storage_path(uri)
        except TaskFailure as exc:
            raise TaskFailure(f"property '{prop_name}': {exc.message}") from None
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        return target

    def finish(self, ctx: TaskContext[Task], session: Session) -> dict[str, Any]:
        files = session.local_files or LocalFiles()
        captured = {name: ctx.store_output_file(name, path, move=True)
                    for name, path in files.output_files.items() if path.exists()}
        outputs: dict[str, Any] = {}
        if captured or not self.OMIT_EMPTY_OUTPUT_FILES:
            outputs["outputFiles"] = captured
        if files.keep_database:
            database = files.database_file
            if database is None:
                raise TaskFailure("property 'outputDbFile': an in-memory database has no file to output "
                                  "(use a file url or leave the url at its default)")
            if not database.exists():
                database.touch()
            outputs["databaseUri"] = ctx.store_output_file(database.name, database, move=False)
        return outputs
