"""Kestra's namespace-file tasks: UploadFiles, DownloadFiles, DeleteFiles, on the local namespace folders.

Kestra keeps namespace files on its server; Roost keeps them in a folder per
namespace (engine/store/namespace_files.py). A namespace path is written Kestra's
way, `/a/b.txt` from the namespace's root; a leading `/` means that root, and every
path is joined with `safe_join`, so `..`, NUL bytes and symlinks never lead out of
the folder. Globs are Kestra's (`**test1.txt`, `glob:...`, `regex:...`), tested on
`/a/b.txt` as Kestra tests namespace files.
"""

from __future__ import annotations

import posixpath
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from engine.core.errors import TaskFailure
from engine.core.yaml_source import Position
from engine.store.files.java_glob import match_output_files
from engine.store.files.namespace_filter import NamespaceFileFilter, list_namespace_files
from engine.store.files.safe_paths import UnsafePathError, safe_join
from engine.tasks.base import Task
from engine.tasks.context import TaskContext
from engine.tasks.properties import Kind, prop
from engine.tasks.registry import register

CONFLICTS = ("OVERWRITE", "ERROR", "SKIP")
# Kestra's namespace pattern; it also keeps a namespace from naming a folder outside `namespaces/`.
_NAMESPACE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._-]*$")


def _namespace(ctx: TaskContext[Task], raw: Any) -> str:
    namespace = ctx.render_str(raw, "namespace").strip()
    if not _NAMESPACE.fullmatch(namespace) or ".." in namespace:
        raise TaskFailure(f"property 'namespace': '{namespace}' is not a namespace name "
                          f"(letters, digits, '.', '_' and '-', such as company.team)")
    return namespace


def namespace_root(ctx: TaskContext[Task], namespace: str, *, create: bool) -> Path | None:
    """The namespace's folder; with `create`, `namespaces/<namespace>/` beside the flow when it has none."""
    root = ctx.namespace_dir(namespace)
    if root is not None and root.is_dir():
        return root
    if not create:
        ctx.warn(f"namespace '{namespace}' has no files folder: looked for --namespace-files "
                 f"{namespace}=DIR, roost.toml [namespaces] and namespaces/{namespace}/ beside the flow")
        return None
    if root is None:
        base = Path(ctx.flow.path).absolute().parent if ctx.flow.path else Path.cwd()
        root = base / "namespaces" / namespace
    root.mkdir(parents=True, exist_ok=True)
    ctx.info(f"created the files folder of namespace '{namespace}': {root}")
    return root


def namespace_file(root: Path, path: str, prop_name: str) -> Path:
    """`/a/b.txt` inside the namespace folder; `..` and symlinks out of it are refused."""
    relative = path.replace("\\", "/").lstrip("/")
    try:
        return safe_join(root, relative)
    except UnsafePathError as exc:
        raise TaskFailure(f"property '{prop_name}': namespace path '{path}': {exc} "
                          f"(the namespace's folder)") from None


def _patterns(ctx: TaskContext[Task], raw: Any) -> list[str]:
    """The rendered globs; a `..` component is refused, since no namespace file lies outside."""
    patterns = [str(p) for p in ctx.render_list(raw, "files")]
    if not patterns:
        raise TaskFailure("property 'files' must name at least one file or glob pattern")
    for pattern in patterns:
        glob = pattern[len("glob:"):] if pattern.startswith("glob:") else pattern
        if not pattern.startswith("regex:") and ".." in glob.replace("\\", "/").split("/"):
            raise TaskFailure(f"property 'files': '{pattern}' leads outside with '..'; "
                              f"patterns match files inside the namespace's folder only")
    return patterns


def _choice(value: Any, allowed: tuple[str, ...], prop_name: str) -> list[tuple[str | Position, str]]:
    if isinstance(value, str) and value.upper() in allowed:
        return []
    return [(prop_name, f"'{prop_name}' must be one of {', '.join(allowed)}, not '{value}'")]


@register
@dataclass(kw_only=True, eq=False)
class UploadFiles(Task):
    """Puts files into a namespace: working-directory globs (`files`) or storage URIs (`filesMap`)."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.core.namespace.UploadFiles",)

    namespace: Any = prop(kind=Kind.STRING, required=True)
    files: Any = prop(kind=Kind.LIST_OR_STRING)
    files_map: Any = prop(kind=Kind.MAP_OR_STRING)
    destination: Any = prop("/", kind=Kind.STRING)
    conflict: str = prop("OVERWRITE", kind=Kind.STRING, dynamic=False)

    def validate(self) -> list[tuple[str | Position, str]]:
        problems = _choice(self.conflict, CONFLICTS, "conflict")
        if self.files is None and self.files_map is None:
            problems.append(("", "files or filesMap is required"))
        return problems

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        namespace = _namespace(ctx, self.namespace)
        destination = "/" + ctx.render_str(self.destination, "destination").lstrip("/")
        sources: list[tuple[str, Path, str]] = []  # (namespace path, local file, property)
        if self.files is not None:
            sources += self._working_dir_files(ctx, _patterns(ctx, self.files), destination)
        if self.files_map is not None:
            sources += self._mapped_files(ctx, destination)
        root = namespace_root(ctx, namespace, create=True)
        assert root is not None
        conflict = self.conflict.upper()
        uploaded = 0
        for path, source, prop_name in sources:
            target = namespace_file(root, path, prop_name)
            if target.exists():
                if conflict == "ERROR":
                    raise TaskFailure(f"File '{path}' already exists in namespace '{namespace}' "
                                      f"and conflict is set to ERROR")
                if conflict == "SKIP":
                    ctx.debug(f"File '{path}' already exists in namespace '{namespace}' "
                              f"and conflict is set to SKIP. Skipping.")
                    continue
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            ctx.debug(f"uploaded {path} to namespace '{namespace}'")
            uploaded += 1
        ctx.info(f"uploaded {uploaded} file(s) to namespace '{namespace}'")
        return {}

    def _working_dir_files(self, ctx: TaskContext[Task], patterns: list[str],
                           destination: str) -> list[tuple[str, Path, str]]:
        directory = ctx.working_dir
        if directory is None:
            ctx.warn("'files' matches files of the working directory, and this task runs outside a "
                     "WorkingDirectory: nothing to upload from it (use filesMap for storage files)")
            return []
        return [(posixpath.join(destination, path.relative_to(directory).as_posix()), path, "destination")
                for path in match_output_files(directory, patterns)]

    def _mapped_files(self, ctx: TaskContext[Task], destination: str) -> list[tuple[str, Path, str]]:
        mapping = ctx.render_map(self.files_map, "filesMap")
        found = []
        for name, uri in mapping.items():
            if not isinstance(uri, str):
                raise TaskFailure("filesMap must be a Map<String, String> (namespace path: kestra:// URI)")
            if not ctx.storage.is_uri(uri.strip()):
                raise TaskFailure(f"property 'filesMap': '{name}' must be a kestra:// storage URI, "
                                  f"not '{uri}' (local paths are refused)")
            if not ctx.storage.exists(uri.strip()):  # Kestra skips a missing file without a word
                ctx.warn(f"filesMap: '{name}': no file in internal storage at '{uri}'; not uploaded")
                continue
            found.append((posixpath.join(destination, str(name).lstrip("/")), ctx.storage_path(uri.strip()),
                          "filesMap"))
        return found


@register
@dataclass(kw_only=True, eq=False)
class DownloadFiles(Task):
    """Copies a namespace's files matching `files` into storage; `files` maps `/path` to each URI."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.core.namespace.DownloadFiles",)

    namespace: Any = prop(kind=Kind.STRING, required=True)
    files: Any = prop(kind=Kind.LIST_OR_STRING, required=True)
    destination: Any = prop("", kind=Kind.STRING)

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        namespace = _namespace(ctx, self.namespace)
        patterns = _patterns(ctx, self.files)
        prefix = ctx.render_str(self.destination, "destination").replace("\\", "/").lstrip("/")
        if any(part == ".." for part in prefix.split("/")):
            raise TaskFailure(f"property 'destination': '{prefix}' leads outside with '..'; "
                              f"it must stay inside the task's storage folder")
        root = namespace_root(ctx, namespace, create=False)
        downloaded: dict[str, str] = {}
        if root is not None:
            for relative in list_namespace_files(root, NamespaceFileFilter(include=tuple(patterns))):
                source = namespace_file(root, relative, "files")
                name = posixpath.join(prefix, relative) if prefix else relative
                downloaded["/" + relative] = ctx.store_output_file(name, source, move=False)
        ctx.metric("downloaded", "counter", len(downloaded))
        ctx.info(f"downloaded {len(downloaded)} file(s) from namespace '{namespace}'")
        return {"files": downloaded}


def _remove_empty_parents(root: Path, folder: Path) -> None:
    """Remove `folder` and its parents while they are empty, never the namespace folder itself."""
    while folder != root and root in folder.parents:
        try:
            folder.rmdir()  # refuses a folder that still holds something
        except OSError:
            return
        folder = folder.parent


@register
@dataclass(kw_only=True, eq=False)
class DeleteFiles(Task):
    """Deletes the namespace's files matching `files` (globs, Kestra's matching); `deleteParentFolder`
    also removes the folders that deleting left empty."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.core.namespace.DeleteFiles",)

    namespace: Any = prop(kind=Kind.STRING, required=True)
    files: Any = prop(kind=Kind.LIST_OR_STRING, required=True)
    delete_parent_folder: Any = prop(False, kind=Kind.BOOL)

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        namespace = _namespace(ctx, self.namespace)
        patterns = _patterns(ctx, self.files)
        prune = ctx.render_bool(self.delete_parent_folder, "deleteParentFolder")
        root = namespace_root(ctx, namespace, create=False)
        deleted = 0
        if root is not None:
            for relative in list_namespace_files(root, NamespaceFileFilter(include=tuple(patterns))):
                target = namespace_file(root, relative, "files")
                target.unlink(missing_ok=True)
                ctx.debug(f"Deleted /{relative}")
                deleted += 1
                if prune:
                    _remove_empty_parents(root, target.parent)
        ctx.metric("deleted", "counter", deleted)
        ctx.info(f"deleted {deleted} file(s) from namespace '{namespace}'")
        return {}
