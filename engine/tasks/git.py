"""Kestra's git Clone task, on GitPython (see engine/store/git_clone.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from engine.core.errors import TaskFailure
from engine.store.files.safe_paths import UnsafePathError, safe_join
from engine.tasks.base import Task
from engine.tasks.context import TaskContext
from engine.tasks.properties import Kind, prop
from engine.tasks.registry import register


@register
@dataclass(kw_only=True, eq=False)
class Clone(Task):
    """Clones a repository into the working directory (or a `directory` inside it)."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.git.Clone",)

    url: Any = prop(kind=Kind.STRING, required=True)
    branch: Any = prop(kind=Kind.STRING)
    directory: Any = prop(kind=Kind.STRING)
    depth: Any = prop(1, kind=Kind.INT)
    commit: Any = prop(kind=Kind.STRING)
    tag: Any = prop(kind=Kind.STRING)
    username: Any = prop(kind=Kind.STRING)
    password: Any = prop(kind=Kind.STRING)
    clone_submodules: Any = prop(kind=Kind.BOOL)
    private_key: Any = prop(kind=Kind.STRING)
    passphrase: Any = prop(kind=Kind.STRING)
    trusted_hosts: Any = prop(kind=Kind.LIST)

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        # GitPython costs ~30 ms to import: only flows that clone pay it, never `roost validate`.
        from engine.store.git_clone import CloneError, CloneRequest, clone_repository

        base = ctx.working_dir or ctx.create_working_directory()
        relative = ctx.render_optional_str(self.directory, "directory")
        try:
            target = safe_join(base, relative) if relative else base
        except UnsafePathError as exc:
            raise TaskFailure(f"property 'directory': {exc}") from None
        if self.private_key is not None:
            raise TaskFailure("property 'privateKey': SSH keys are not supported by Roost's Clone yet; "
                              "use an https or file URL with username/password")
        depth = ctx.render_int(self.depth, "depth")
        request = CloneRequest(
            url=ctx.render_str(self.url, "url"),
            directory=target,
            branch=ctx.render_optional_str(self.branch, "branch"),
            depth=depth if depth and depth > 0 else None,
            commit=ctx.render_optional_str(self.commit, "commit"),
            tag=ctx.render_optional_str(self.tag, "tag"),
            username=ctx.render_optional_str(self.username, "username"),
            password=ctx.render_optional_str(self.password, "password"),
            url_rewrites=ctx.config.git_url_rewrites,
            mirror_hint=ctx.config.git_mirror_hint,
        )
        try:
            result = clone_repository(request, ctx.info)
        except CloneError as exc:
            raise TaskFailure(exc.message) from None
        return {"directory": str(result.directory)}
