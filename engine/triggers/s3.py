"""io.kestra.plugin.aws.s3.Trigger: poll a bucket, download what is new, move or delete it.

One poll does what Kestra's does: list (one ListObjectsV2 page of `maxKeys`), keep the
keys that pass `regexp` (a full match) and `filter`, cap them at `maxFiles`, keep those
that `on` says are new or changed (state in the history database), download each one
into internal storage under the execution about to start
(`kestra:///<ns>/<flow>/executions/<id>/trigger/<triggerId>/<file>`), apply `action`
(MOVE lands at `moveTo.key` + the key's base name), then start ONE execution with
`trigger.objects`. The client comes from engine/store/s3_client.py (shared with the S3
tasks); boto3 is imported only when a poll runs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from engine.core.records import iso
from engine.store.s3_client import S3Connection, key_matches, move_target, s3_client
from engine.triggers.base import POLLING, Trigger, TriggerContext, TriggerFiring
from engine.triggers.properties import (
    Prop,
    Report,
    TriggerError,
    as_bool,
    as_duration,
    as_enum,
    as_int,
    as_text,
    is_template,
)
from engine.triggers.state import ON_VALUES, default_key

FILTERS = ("FILES", "DIRECTORY", "BOTH")
ACTIONS = ("MOVE", "DELETE", "NONE")


# The connection and client builder are shared with the S3 tasks (engine/store/s3_client.py).
Connection = S3Connection


class S3Trigger(Trigger):
    TYPES = ("io.kestra.plugin.aws.s3.Trigger",)
    KIND = POLLING
    PROPERTIES = {
        "interval": Prop("duration", dynamic=False),
        "accessKeyId": Prop(), "secretKeyId": Prop(), "sessionToken": Prop(), "region": Prop(),
        "endpointOverride": Prop(), "requestPayer": Prop(), "bucket": Prop(required=True),
        "prefix": Prop(), "delimiter": Prop(), "marker": Prop(), "encodingType": Prop(),
        "maxKeys": Prop("int", minimum=1), "expectedBucketOwner": Prop(), "regexp": Prop(),
        "filter": Prop("enum", choices=FILTERS), "action": Prop("enum", required=True, choices=ACTIONS),
        "moveTo": Prop("map"), "on": Prop("enum", choices=ON_VALUES), "maxFiles": Prop("int", minimum=1),
        "stateKey": Prop(), "stateTtl": Prop("duration"),
        "forcePathStyle": Prop("bool"), "compatibilityMode": Prop("bool"),
        "stsRoleArn": Prop(), "stsRoleExternalId": Prop(), "stsRoleSessionName": Prop(),
        "stsEndpointOverride": Prop(), "stsRoleSessionDuration": Prop("duration"),
    }

    def __init__(self, trigger_id: str, type_name: str, props: Mapping[str, Any]) -> None:
        super().__init__(trigger_id, type_name, props)
        self._client: Any = None
        self._client_for: Connection | None = None

    @classmethod
    def check(cls, props: Mapping[str, Any], report: Report) -> None:
        if props.get("action") == "MOVE":
            move_to = props.get("moveTo")
            if not isinstance(move_to, dict) or move_to.get("key") is None:
                report("moveTo" if "moveTo" in props else "", "action MOVE needs 'moveTo' with a 'key'", False)
        regexp = props.get("regexp")
        if isinstance(regexp, str) and not is_template(regexp):
            try:
                re.compile(regexp)
            except re.error as exc:
                report("regexp", f"'regexp' is not a valid regular expression: {exc}", False)

    # --- one poll --------------------------------------------------------------------------------
    def evaluate(self, ctx: TriggerContext) -> TriggerFiring | None:
        try:
            from botocore.exceptions import BotoCoreError, ClientError
        except ImportError:
            raise TriggerError("the S3 trigger needs boto3 (a dependency of Roost): pip install boto3") from None

        bucket = as_text(ctx.prop("bucket"), "bucket", required=True) or ""
        try:
            return self._poll(ctx, bucket)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            operation = getattr(exc, "operation_name", "request")
            raise TriggerError(f"S3 {operation} on bucket '{bucket}' failed: "
                               f"{error.get('Code', '?')}: {error.get('Message', exc)}") from None
        except BotoCoreError as exc:
            raise TriggerError(f"S3 request on bucket '{bucket}' failed: {exc}") from None

    def _poll(self, ctx: TriggerContext, bucket: str) -> TriggerFiring | None:
        if ctx.prop("stsRoleArn"):
            raise TriggerError("stsRoleArn (assume role) is not supported by Roost; "
                               "give accessKeyId/secretKeyId or rely on the AWS environment")
        client = self._s3(ctx)
        listed, complete = self._list(ctx, client, bucket)
        max_files = as_int(ctx.prop("maxFiles"), "maxFiles", 25, 1)
        if len(listed) > max_files:
            ctx.log("WARN", f"listing returned {len(listed)} files but maxFiles is {max_files}: "
                            f"only the first {max_files} are taken (raise maxFiles for more)")
            listed, complete = listed[:max_files], False
        on = as_enum(ctx.prop("on"), "on", ON_VALUES, "CREATE_OR_UPDATE")
        ttl = as_duration(ctx.prop("stateTtl"), "stateTtl", None)
        state_key = as_text(ctx.prop("stateKey"), "stateKey") or default_key(
            ctx.key.namespace, ctx.key.flow_id, self.id)
        state = ctx.state(state_key, ttl)
        fired: list[tuple[dict[str, Any], str]] = []
        for item in listed:
            modified = item.get("LastModified")
            version = item.get("ETag") or str(int(modified.timestamp() * 1000) if modified else "")
            fire, is_new = state.observe(f"s3://{bucket}/{item['Key']}", version, modified, on)
            if fire:
                fired.append((item, "CREATE" if is_new else "UPDATE"))
        if complete:
            state.forget_missing(f"s3://{bucket}/{item['Key']}" for item in listed)
        if not fired:
            state.save()
            return None
        objects = [self._download(ctx, client, bucket, item, change) for item, change in fired]
        self._apply_action(ctx, client, bucket, [item["Key"] for item, _ in fired])
        state.save()
        keys = ", ".join(item["Key"] for item, _ in fired)
        return TriggerFiring({"objects": objects}, ctx.execution_id,
                             summary=f"{len(objects)} object(s) in s3://{bucket}: {keys}")

    def _connection(self, ctx: TriggerContext) -> Connection:
        return Connection(
            endpoint=as_text(ctx.prop("endpointOverride"), "endpointOverride"),
            region=as_text(ctx.prop("region"), "region"),
            access_key=as_text(ctx.prop("accessKeyId"), "accessKeyId"),
            secret_key=as_text(ctx.prop("secretKeyId"), "secretKeyId"),
            session_token=as_text(ctx.prop("sessionToken"), "sessionToken"),
            path_style=as_bool(ctx.prop("forcePathStyle"), "forcePathStyle", False),
        )

    def _s3(self, ctx: TriggerContext) -> Any:
        connection = self._connection(ctx)
        if self._client is None or self._client_for != connection:
            self._client = s3_client(connection)
            self._client_for = connection
        return self._client

    def _list(self, ctx: TriggerContext, client: Any, bucket: str) -> tuple[list[dict[str, Any]], bool]:
        params: dict[str, Any] = {"Bucket": bucket, "MaxKeys": as_int(ctx.prop("maxKeys"), "maxKeys", 1000, 1)}
        for name, param in (("prefix", "Prefix"), ("delimiter", "Delimiter"), ("marker", "StartAfter"),
                            ("encodingType", "EncodingType"), ("expectedBucketOwner", "ExpectedBucketOwner"),
                            ("requestPayer", "RequestPayer")):
            value = as_text(ctx.prop(name), name)
            if value is not None:
                params[param] = value
        regexp = as_text(ctx.prop("regexp"), "regexp")
        try:
            pattern = re.compile(regexp) if regexp is not None else None
        except re.error as exc:
            raise TriggerError(f"property 'regexp' is not a valid regular expression: {exc}") from None
        kind = as_enum(ctx.prop("filter"), "filter", FILTERS, "BOTH")
        response = client.list_objects_v2(**params)
        contents = response.get("Contents", [])
        kept = [item for item in contents if _matches(item["Key"], pattern, kind)]
        ctx.log("DEBUG", f"found {len(kept)} of {len(contents)} key(s) in s3://{bucket}"
                         f"/{params.get('Prefix', '')}")
        return kept, not response.get("IsTruncated", False)

    def _download(self, ctx: TriggerContext, client: Any, bucket: str, item: dict[str, Any],
                  change: str) -> dict[str, Any]:
        key = item["Key"]
        uri = ctx.storage_uri(key.rstrip("/").rsplit("/", 1)[-1] or "object")
        target = ctx.path_of(uri)
        target.parent.mkdir(parents=True, exist_ok=True)
        extra = {"RequestPayer": v} if (v := as_text(ctx.prop("requestPayer"), "requestPayer")) else {}
        response = client.get_object(Bucket=bucket, Key=key, **extra)
        with target.open("wb") as out:
            for chunk in response["Body"].iter_chunks(1 << 20):
                out.write(chunk)
        ctx.log("DEBUG", f"downloaded s3://{bucket}/{key} to {uri}")
        return object_variables(uri, item, change)

    def _apply_action(self, ctx: TriggerContext, client: Any, bucket: str, keys: list[str]) -> None:
        action = as_enum(ctx.prop("action"), "action", ACTIONS, "NONE")
        if action == "DELETE":
            for key in keys:
                client.delete_object(Bucket=bucket, Key=key)
                ctx.log("DEBUG", f"deleted s3://{bucket}/{key}")
        elif action == "MOVE":
            move_to = ctx.prop("moveTo")
            if not isinstance(move_to, dict) or move_to.get("key") is None:
                raise TriggerError("action MOVE needs 'moveTo' with a 'key'")
            target_bucket = as_text(move_to.get("bucket"), "moveTo.bucket") or bucket
            for key in keys:
                target_key = move_target(str(move_to["key"]), key)
                client.copy_object(Bucket=target_bucket, Key=target_key,
                                   CopySource={"Bucket": bucket, "Key": key})
                client.delete_object(Bucket=bucket, Key=key)
                ctx.log("DEBUG", f"moved s3://{bucket}/{key} to s3://{target_bucket}/{target_key}")


def object_variables(uri: str, item: dict[str, Any], change: str) -> dict[str, Any]:
    """One entry of `trigger.objects` for a listed S3 `item` (boto3's shape) stored at `uri`.

    Shared with `roost run --fire` (engine/scheduling/simulate.py), so a simulated object has
    exactly the keys and formats of a real one.
    """
    modified: datetime | None = item.get("LastModified")
    found: dict[str, Any] = {"uri": uri, "key": item["Key"], "etag": item.get("ETag"), "size": item.get("Size"),
                             "lastModified": iso(modified)}
    if item.get("Owner"):
        found["owner"] = {"id": item["Owner"].get("ID"), "displayName": item["Owner"].get("DisplayName")}
    found["changeType"] = change
    return {k: v for k, v in found.items() if v is not None}


def _matches(key: str, pattern: re.Pattern[str] | None, kind: str) -> bool:
    return key_matches(key, pattern, kind)
