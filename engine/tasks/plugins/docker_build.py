"""Kestra's docker Build: an image built by the Docker engine, tagged, labelled, optionally pushed.

The build context is the task's working directory (a WorkingDirectory's, or a new one) with
namespaceFiles and inputFiles written in; `dockerfile` is a file of that directory when one
has that name, otherwise the Dockerfile's text. The engine is the one the Docker runner uses
(engine/runners/docker_engine.py: `host`, roost.toml's [docker] host, DOCKER_HOST). The
engine's classic builder builds one platform: the first of `platforms` is passed, the others
are ignored with a warning. `pull` is true by default, as in Kestra: offline, set it to false
to build FROM local images.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from docker import errors as docker_errors

from engine.core.errors import TaskFailure
from engine.runners.docker_engine import ENGINES, DockerEngine, EngineUnreachable, engine_url
from engine.tasks.base import Task
from engine.tasks.context import TaskContext
from engine.tasks.file_transfer import render_input_files, write_input_files
from engine.tasks.namespace_copy import copy_namespace_files
from engine.tasks.properties import Kind, prop
from engine.tasks.registry import register


def split_tag(tag: str) -> tuple[str, str]:
    """`host:5000/name:tag` -> (`host:5000/name`, `tag`); no tag means `latest`."""
    name, _, last = tag.rpartition("/")
    if ":" in last:
        repo, _, version = last.partition(":")
        return (f"{name}/{repo}" if name else repo), version
    return tag, "latest"


@register
@dataclass(kw_only=True, eq=False)
class DockerBuild(Task):
    """Builds an image from an inline Dockerfile or one among the task's files; outputs its `imageId`."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.docker.cli.Build", "io.kestra.plugin.docker.Build")

    dockerfile: Any = prop(kind=Kind.STRING)
    platforms: Any = prop(kind=Kind.LIST_OR_STRING)
    push: Any = prop(False, kind=Kind.BOOL)
    pull: Any = prop(True, kind=Kind.BOOL)
    tags: Any = prop(kind=Kind.LIST_OR_STRING, required=True)
    build_args: Any = prop(kind=Kind.MAP)
    labels: Any = prop(kind=Kind.MAP)
    target: Any = prop(kind=Kind.STRING)
    namespace_files: Any = prop(kind=Kind.MAP)
    input_files: Any = prop(kind=Kind.MAP_OR_STRING)
    host: Any = prop(kind=Kind.STRING)
    config: Any = prop(kind=Kind.MAP_OR_STRING)
    credentials: Any = prop(kind=Kind.MAP)

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        tags = [t.split("://", 1)[-1] for t in (str(v) for v in ctx.render_list(self.tags, "tags")) if t]
        if not tags:
            raise TaskFailure("property 'tags' must name at least one tag for the image")
        directory = ctx.working_dir or ctx.create_working_directory()
        copy_namespace_files(ctx, directory, self.namespace_files)
        write_input_files(ctx, directory, render_input_files(ctx, self.input_files, "inputFiles"), "inputFiles")
        dockerfile = self._dockerfile(ctx, directory)
        engine = self._engine(ctx)
        image_id = self._build(ctx, engine, directory, dockerfile, tags)
        for tag in tags[1:]:
            engine.api.tag(image_id, *split_tag(tag))
        if ctx.render_bool(self.push, "push"):
            for tag in tags:
                self._push(ctx, engine, tag)
        return {"imageId": image_id}

    def _dockerfile(self, ctx: TaskContext[Task], directory: Path) -> str:
        """The Dockerfile's name in the context: the given file, or the inline text written to one."""
        text = ctx.render_optional_str(self.dockerfile, "dockerfile")
        if text is None:
            if (directory / "Dockerfile").is_file():
                return "Dockerfile"
            raise TaskFailure("property 'dockerfile' is required: the Dockerfile's text, or the name of a "
                              "file given in inputFiles or namespaceFiles")
        candidate = (directory / text.strip()) if "\n" not in text.strip() else None
        if candidate is not None and candidate.is_file() and candidate.resolve().is_relative_to(directory.resolve()):
            return text.strip()
        name = f".roost-{ctx.task_run_id}.dockerfile"
        (directory / name).write_text(text, encoding="utf-8")
        return name

    def _engine(self, ctx: TaskContext[Task]) -> DockerEngine:
        url = engine_url(ctx.render_optional_str(self.host, "host"), ctx.config.docker_host, ctx.environ)
        try:
            return ENGINES.connect(url, ctx.environ)
        except EngineUnreachable as exc:
            raise TaskFailure(f"{exc}; the Build task needs a Docker engine (start dockerd, or set 'host')") from None

    def _build(self, ctx: TaskContext[Task], engine: DockerEngine, directory: Path, dockerfile: str,
               tags: list[str]) -> str:
        options: dict[str, Any] = {"path": str(directory), "dockerfile": dockerfile, "tag": tags[0], "rm": True,
                                   "decode": True, "pull": ctx.render_bool(self.pull, "pull")}
        if self.build_args is not None:
            options["buildargs"] = {str(k): str(v) for k, v in ctx.render_map(self.build_args, "buildArgs").items()}
        if self.labels is not None:
            options["labels"] = {str(k): str(v) for k, v in ctx.render_map(self.labels, "labels").items()}
        if self.target is not None:
            options["target"] = ctx.render_str(self.target, "target")
        platforms = [str(p) for p in ctx.render_list(self.platforms, "platforms")] if self.platforms else []
        if platforms:
            options["platform"] = platforms[0]
            if len(platforms) > 1:
                ctx.warn(f"platforms: the Docker engine's builder builds one platform; building {platforms[0]} "
                         f"and ignoring {', '.join(platforms[1:])}")
        image_id: str | None = None
        try:
            for item in engine.api.build(**options):
                if ctx.cancelled:
                    raise TaskFailure("docker build cancelled")
                if "error" in item:
                    raise TaskFailure(self._build_error(str(item["error"]).strip(), options["pull"]))
                stream = str(item.get("stream", "")).strip()
                if stream:
                    ctx.info(stream)
                aux = item.get("aux")
                if isinstance(aux, dict) and aux.get("ID"):
                    image_id = str(aux["ID"])
        except docker_errors.APIError as exc:
            raise TaskFailure(self._build_error(str(exc.explanation or exc), options["pull"])) from None
        except docker_errors.DockerException as exc:
            raise TaskFailure(f"docker build failed: {exc}") from None
        if image_id is None:
            image_id = str(engine.api.inspect_image(tags[0])["Id"])
        return image_id

    @staticmethod
    def _build_error(message: str, pulled: bool) -> str:
        hint = ""
        if pulled and any(word in message.lower() for word in ("pull", "registry", "manifest", "dial tcp")):
            hint = " (pull is true: the base image is pulled first; set 'pull: false' to build from local images)"
        return f"docker build failed: {message}{hint}"

    def _push(self, ctx: TaskContext[Task], engine: DockerEngine, tag: str) -> None:
        repository, version = split_tag(tag)
        auth = None
        if self.credentials is not None:
            given = ctx.render_map(self.credentials, "credentials")
            auth = {k: str(given[key]) for k, key in (("username", "username"), ("password", "password"),
                                                       ("serveraddress", "registry"),
                                                       ("identitytoken", "registryToken")) if given.get(key)}
        ctx.info(f"pushing {tag}")
        try:
            for item in engine.api.push(repository, tag=version, stream=True, decode=True, auth_config=auth):
                if "error" in item:
                    raise TaskFailure(f"push of '{tag}' failed: {str(item['error']).strip()}")
                if item.get("status") and item.get("progressDetail") is None:
                    ctx.debug(str(item["status"]))
        except docker_errors.APIError as exc:
            raise TaskFailure(f"push of '{tag}' failed: {exc.explanation or exc}") from None
