"""Kestra's S3 tasks that work on a listing: List, Downloads (then NONE, MOVE or DELETE), DeleteList.

They share Kestra's ListInterface (prefix, delimiter, marker, maxKeys, regexp on the full key,
filter FILES/DIRECTORY/BOTH), declared with the listing itself in aws_s3.py.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, ClassVar

from engine.core.errors import TaskFailure
from engine.core.yaml_source import Position
from engine.store.s3_client import move_target
from engine.tasks.base import Task
from engine.tasks.context import TaskContext
from engine.tasks.plugins.aws_s3 import (
    ListOptions,
    ObjectFetcher,
    cap_files,
    checksum_of,
    s3_errors,
)
from engine.tasks.properties import Kind, prop
from engine.tasks.registry import register

ACTIONS = ("MOVE", "DELETE", "NONE")


@register
@dataclass(kw_only=True, eq=False)
class List(ListOptions):
    """Lists a bucket's objects (at most `maxFiles`, 25 by default) as `objects`."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.aws.s3.List",)

    max_files: Any = prop(25, kind=Kind.INT)

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        objects = self.list_objects(ctx, self.client(ctx))
        ctx.metric("s3.objects.count", "counter", float(len(objects)))
        ctx.debug(f"Found '{len(objects)}' keys on {self.bucket_name(ctx)} with "
                  f"regexp='{ctx.render_optional_str(self.regexp, 'regexp')}', "
                  f"prefix={ctx.render_optional_str(self.prefix, 'prefix')}")
        return {"objects": cap_files(ctx, objects, self.max_files)}


@register
@dataclass(kw_only=True, eq=False)
class Downloads(ListOptions):
    """Downloads the listed files into internal storage, then leaves, moves or deletes them in S3."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.aws.s3.Downloads",)
    ASYNC_CLIENT: ClassVar[bool] = True

    max_files: Any = prop(25, kind=Kind.INT)
    action: Any = prop(kind=Kind.STRING, required=True)
    move_to: Any = prop(kind=Kind.MAP)
    validate_checksum: Any = prop(False, kind=Kind.BOOL)

    def validate(self) -> list[tuple[str | Position, str]]:
        problems = super().validate()
        if isinstance(self.action, str) and "{{" not in self.action:
            if self.action not in ACTIONS:
                problems.append(("action", f"'action' must be one of {', '.join(ACTIONS)}, not '{self.action}'"))
            elif self.action == "MOVE" and not (isinstance(self.move_to, dict) and self.move_to.get("key")):
                problems.append(("moveTo" if self.move_to is not None else "action",
                                 "action MOVE needs 'moveTo' with a 'key'"))
        return problems

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        action = ctx.render_str(self.action, "action").upper()
        if action not in ACTIONS:
            raise TaskFailure(f"property 'action' must be one of {', '.join(ACTIONS)}, not '{action}'")
        move_to = ctx.render_map(self.move_to, "moveTo") if self.move_to is not None else {}
        if action == "MOVE" and not move_to.get("key"):
            raise TaskFailure("action MOVE needs 'moveTo' with a 'key'")
        client, bucket = self.client(ctx), self.bucket_name(ctx)
        listed = cap_files(ctx, self.list_objects(ctx, client), self.max_files)
        fetcher = ObjectFetcher(ctx, client, bucket, ctx.render_bool(self.validate_checksum, "validateChecksum"))
        objects = []
        for item in listed:
            if item["key"].endswith("/"):  # a directory marker: listed, acted on, not downloaded
                continue
            uri, response = fetcher.fetch(item["key"], {})
            algorithm, value = checksum_of(response)
            found = {"uri": uri, **item, "checksumAlgorithm": algorithm, "checksumValue": value}
            objects.append({k: v for k, v in found.items() if v is not None})
        ctx.metric("files.count", "counter", float(len(objects)))
        ctx.metric("files.size.total", "counter", float(sum(o.get("size", 0) for o in objects)))
        self._act(ctx, client, bucket, [item["key"] for item in listed], action, move_to)
        return {"objects": objects, "outputFiles": {o["key"]: o["uri"] for o in objects}}

    def _act(self, ctx: TaskContext[Task], client: Any, bucket: str, keys: list[str], action: str,
             move_to: dict[str, Any]) -> None:
        """Kestra's S3Service.performAction: DELETE each key, or MOVE it under `moveTo.key`."""
        for key in keys:
            if action == "DELETE":
                with s3_errors(f"of 's3://{bucket}/{key}'"):
                    client.delete_object(Bucket=bucket, Key=key)
                ctx.debug(f"deleted s3://{bucket}/{key}")
            elif action == "MOVE":
                target_bucket = str(move_to.get("bucket") or bucket)
                target_key = move_target(str(move_to["key"]), key)
                with s3_errors(f"of 's3://{bucket}/{key}' to 's3://{target_bucket}/{target_key}'"):
                    client.copy_object(Bucket=target_bucket, Key=target_key, CopySource={"Bucket": bucket, "Key": key})
                    client.delete_object(Bucket=bucket, Key=key)
                ctx.debug(f"moved s3://{bucket}/{key} to s3://{target_bucket}/{target_key}")


@register
@dataclass(kw_only=True, eq=False)
class DeleteList(ListOptions):
    """Deletes every listed object (`concurrent` at a time); outputs the count and the bytes freed."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.aws.s3.DeleteList",)

    concurrent: Any = prop(kind=Kind.INT, dynamic=False)
    error_on_empty: Any = prop(False, kind=Kind.BOOL)

    def validate(self) -> list[tuple[str | Position, str]]:
        problems = super().validate()
        if isinstance(self.concurrent, int) and self.concurrent < 2:
            problems.append(("concurrent", "'concurrent' must be at least 2 (leave it out for one at a time)"))
        return problems

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        client, bucket = self.client(ctx), self.bucket_name(ctx)
        objects = self.list_objects(ctx, client)

        def delete(item: dict[str, Any]) -> int:
            ctx.debug(f"Deleting '{item['key']}'")
            with s3_errors(f"of 's3://{bucket}/{item['key']}'"):
                client.delete_object(Bucket=bucket, Key=item["key"])
            return int(item.get("size") or 0)

        if isinstance(self.concurrent, int) and self.concurrent > 1:
            with ThreadPoolExecutor(max_workers=self.concurrent) as pool:
                sizes = list(pool.map(delete, objects))
        else:
            sizes = [delete(item) for item in objects]
        count, size = len(sizes), sum(sizes)
        ctx.metric("s3.objects.deleted.count", "counter", float(count))
        ctx.metric("s3.objects.deleted.size", "counter", float(size))
        if count == 0 and ctx.render_bool(self.error_on_empty, "errorOnEmpty"):
            raise TaskFailure(f"Unable to find any files to delete on {bucket} with "
                              f"regexp='{ctx.render_optional_str(self.regexp, 'regexp')}', "
                              f"prefix='{ctx.render_optional_str(self.prefix, 'prefix')}'")
        ctx.info(f"Deleted {count} keys for {size} bytes")
        return {"count": count, "size": size}
