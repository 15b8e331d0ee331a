"""Kestra's AWS S3 tasks on boto3: Upload, Download, Delete, Copy, CreateBucket (listing ones in aws_s3_listing.py).

Every task has Kestra's AbstractConnection options (region, accessKeyId, secretKeyId,
sessionToken, endpointOverride, forcePathStyle, compatibilityMode); pluginDefaults on
`io.kestra.plugin.aws` (in the flow or roost.toml) point them all at a local S3. The client is
built by engine/store/s3_client.py, shared with the S3 trigger. An S3 error fails the task
with the operation, the bucket and S3's own code and message, never a traceback.
"""

from __future__ import annotations

import contextlib
import json
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from engine.core.errors import TaskFailure
from engine.core.records import iso
from engine.core.yaml_source import Position
from engine.store.s3_client import S3Connection, key_matches, s3_client
from engine.tasks.base import Task
from engine.tasks.context import TaskContext
from engine.tasks.properties import Kind, prop
from engine.tasks.registry import register

FILTERS = ("FILES", "DIRECTORY", "BOTH")
CHECKSUM_KEYS = (("ChecksumSHA256", "SHA256"), ("ChecksumSHA1", "SHA1"), ("ChecksumCRC32", "CRC32"),
                 ("ChecksumCRC32C", "CRC32C"))


@contextlib.contextmanager
def s3_errors(what: str) -> Iterator[None]:
    """boto3's errors said as one line naming the request (`what`) and S3's answer."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        operation = getattr(exc, "operation_name", "request")
        raise TaskFailure(f"S3 {operation} {what} failed: {error.get('Code', '?')}: "
                          f"{error.get('Message', exc)}") from None
    except NoCredentialsError:
        raise TaskFailure(f"S3 request {what} failed: no AWS credentials; give 'accessKeyId' and "
                          "'secretKeyId' (or set them in pluginDefaults / the AWS environment)") from None
    except BotoCoreError as exc:
        raise TaskFailure(f"S3 request {what} failed: {exc}") from None


@dataclass(kw_only=True, eq=False)
class AwsS3Task(Task):
    """Kestra's AbstractConnection + AbstractS3: where S3 is and who we are to it."""

    ASYNC_CLIENT: ClassVar[bool] = False
    """Kestra's async-client tasks refuse `forcePathStyle` without `compatibilityMode`."""

    region: Any = prop(kind=Kind.STRING)
    endpoint_override: Any = prop(kind=Kind.STRING)
    compatibility_mode: Any = prop(kind=Kind.BOOL)
    force_path_style: Any = prop(kind=Kind.BOOL)
    access_key_id: Any = prop(kind=Kind.STRING)
    secret_key_id: Any = prop(kind=Kind.STRING)
    session_token: Any = prop(kind=Kind.STRING)
    sts_role_arn: Any = prop(kind=Kind.STRING)
    sts_role_external_id: Any = prop(kind=Kind.STRING)
    sts_role_session_name: Any = prop(kind=Kind.STRING)
    sts_endpoint_override: Any = prop(kind=Kind.STRING)
    sts_role_session_duration: Any = prop(kind=Kind.DURATION)

    def client(self, ctx: TaskContext[Task]) -> Any:
        if ctx.render_optional_str(self.sts_role_arn, "stsRoleArn"):
            raise TaskFailure("property 'stsRoleArn': assuming a role is not supported by Roost; give "
                              "accessKeyId/secretKeyId or rely on the AWS environment")
        path_style = ctx.render_bool(self.force_path_style, "forcePathStyle") if self.force_path_style \
            is not None else False
        compatibility = ctx.render_bool(self.compatibility_mode, "compatibilityMode") \
            if self.compatibility_mode is not None else False
        if self.ASYNC_CLIENT and path_style and not compatibility:
            raise TaskFailure("'forcePathStyle' must be used in conjunction with 'compatibilityMode'")
        connection = S3Connection(
            endpoint=ctx.render_optional_str(self.endpoint_override, "endpointOverride"),
            region=ctx.render_optional_str(self.region, "region"),
            access_key=ctx.render_optional_str(self.access_key_id, "accessKeyId"),
            secret_key=ctx.render_optional_str(self.secret_key_id, "secretKeyId"),
            session_token=ctx.render_optional_str(self.session_token, "sessionToken"),
            path_style=path_style,
        )
        return s3_client(connection)


@dataclass(kw_only=True, eq=False)
class AwsS3ObjectTask(AwsS3Task):
    """Kestra's AbstractS3Object: a bucket, and who pays for the request."""

    bucket: Any = prop(kind=Kind.STRING, required=True)
    request_payer: Any = prop(kind=Kind.STRING)

    def bucket_name(self, ctx: TaskContext[Task]) -> str:
        return ctx.render_str(self.bucket, "bucket")

    def optional(self, ctx: TaskContext[Task], pairs: tuple[tuple[str, Any, str], ...]) -> dict[str, Any]:
        """boto3 parameters for the given (parameter, raw value, property) triples that are set."""
        return {param: ctx.render_str(raw, name) for param, raw, name in pairs if raw is not None}


@dataclass(kw_only=True, eq=False)
class ListOptions(AwsS3ObjectTask):
    """Kestra's ListInterface: which keys a listing returns."""

    prefix: Any = prop(kind=Kind.STRING)
    delimiter: Any = prop(kind=Kind.STRING)
    marker: Any = prop(kind=Kind.STRING)
    encoding_type: Any = prop(kind=Kind.STRING)
    max_keys: Any = prop(1000, kind=Kind.INT)
    expected_bucket_owner: Any = prop(kind=Kind.STRING)
    regexp: Any = prop(kind=Kind.STRING)
    filter: Any = prop("BOTH", kind=Kind.STRING)

    def validate(self) -> list[tuple[str | Position, str]]:
        problems: list[tuple[str | Position, str]] = []
        if isinstance(self.filter, str) and "{{" not in self.filter and self.filter not in FILTERS:
            problems.append(("filter", f"'filter' must be one of {', '.join(FILTERS)}, not '{self.filter}'"))
        if isinstance(self.regexp, str) and "{{" not in self.regexp:
            try:
                re.compile(self.regexp)
            except re.error as exc:
                problems.append(("regexp", f"'regexp' is not a valid regular expression: {exc}"))
        return problems

    def list_objects(self, ctx: TaskContext[Task], client: Any, kind: str | None = None) -> list[dict[str, Any]]:
        """Kestra's S3Service.list: pages until `maxKeys` keys, then `regexp` and `filter` applied."""
        bucket = self.bucket_name(ctx)
        max_keys = ctx.render_int(self.max_keys, "maxKeys") or 1000
        params: dict[str, Any] = {"Bucket": bucket, "MaxKeys": min(max_keys, 1000)}
        params.update(self.optional(ctx, (
            ("Prefix", self.prefix, "prefix"), ("Delimiter", self.delimiter, "delimiter"),
            ("StartAfter", self.marker, "marker"), ("EncodingType", self.encoding_type, "encodingType"),
            ("ExpectedBucketOwner", self.expected_bucket_owner, "expectedBucketOwner"),
            ("RequestPayer", self.request_payer, "requestPayer"))))
        regexp = ctx.render_optional_str(self.regexp, "regexp")
        try:
            pattern = re.compile(regexp) if regexp is not None else None
        except re.error as exc:
            raise TaskFailure(f"property 'regexp' is not a valid regular expression: {exc}") from None
        kind = kind or ctx.render_str(self.filter or "BOTH", "filter").upper()
        if kind not in FILTERS:
            raise TaskFailure(f"property 'filter' must be one of {', '.join(FILTERS)}, not '{kind}'")
        contents: list[dict[str, Any]] = []
        with s3_errors(f"on bucket '{bucket}'"):
            while True:
                response = client.list_objects_v2(**params)
                contents.extend(response.get("Contents", []))
                token = response.get("NextContinuationToken")
                if len(contents) >= max_keys or not response.get("IsTruncated") or not token:
                    break
                params["ContinuationToken"] = token
        return [s3_object(item) for item in contents[:max_keys] if key_matches(item["Key"], pattern, kind)]


def s3_object(item: dict[str, Any]) -> dict[str, Any]:
    """A listed object in Kestra's S3Object shape (key, etag, size, lastModified, owner)."""
    modified: datetime | None = item.get("LastModified")
    found: dict[str, Any] = {"key": item["Key"], "etag": item.get("ETag"), "size": item.get("Size"),
                             "lastModified": iso(modified)}
    if item.get("Owner"):
        found["owner"] = {k: v for k, v in (("id", item["Owner"].get("ID")),
                                            ("displayName", item["Owner"].get("DisplayName"))) if v}
    return {k: v for k, v in found.items() if v is not None}


def checksum_of(response: dict[str, Any]) -> tuple[str | None, str | None]:
    """Kestra's S3Service.extractChecksum: the first checksum S3 reported, with its algorithm."""
    for field_name, algorithm in CHECKSUM_KEYS:
        if response.get(field_name):
            return algorithm, str(response[field_name])
    return None, None


class ObjectFetcher:
    """Downloads objects into internal storage, one file name per key within a task run."""

    def __init__(self, ctx: TaskContext[Task], client: Any, bucket: str, validate: bool) -> None:
        self.ctx, self.client, self.bucket, self.validate = ctx, client, bucket, validate
        self._names: set[str] = set()

    def fetch(self, key: str, extra: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """(kestra:// URI, GetObject response) for one key, streamed to disk in 1 MiB chunks."""
        params = dict(extra)
        if self.validate:
            params["ChecksumMode"] = "ENABLED"
        name = self._name_for(key)
        with tempfile.TemporaryDirectory(prefix="s3-", dir=self.ctx.home.root) as folder:
            target = Path(folder) / name
            with s3_errors(f"of 's3://{self.bucket}/{key}'"):
                response = self.client.get_object(Bucket=self.bucket, Key=key, **params)
                with target.open("wb") as out:
                    for chunk in response["Body"].iter_chunks(1 << 20):
                        if self.ctx.cancelled:
                            raise TaskFailure(f"download of 's3://{self.bucket}/{key}' cancelled")
                        out.write(chunk)
            uri = self.ctx.store_output_file(name, target, move=True)
        self.ctx.metric("file.size", "counter", float(response.get("ContentLength") or 0))
        if self.validate and checksum_of(response)[0] is None:
            self.ctx.warn(f"Checksum validation requested for key '{key}' but the object has no stored "
                          "checksum; transfer was not verified.")
        self.ctx.debug(f"downloaded s3://{self.bucket}/{key} to {uri}")
        return uri, response

    def _name_for(self, key: str) -> str:
        base = key.rstrip("/").rsplit("/", 1)[-1] or "object"
        name, counter = base, 1
        while name in self._names:
            counter += 1
            name = f"{counter}-{base}"
        self._names.add(name)
        return name


def file_info(uri: str | None, response: dict[str, Any]) -> dict[str, Any]:
    """Kestra's FileInfo (and single Download output) from a GetObject response."""
    algorithm, value = checksum_of(response)
    info = {"uri": uri, "contentLength": response.get("ContentLength"), "contentType": response.get("ContentType"),
            "metadata": response.get("Metadata"), "etag": response.get("ETag"),
            "versionId": response.get("VersionId"), "checksumAlgorithm": algorithm, "checksumValue": value}
    return {k: v for k, v in info.items() if v is not None}


@register
@dataclass(kw_only=True, eq=False)
class CreateBucket(AwsS3Task):
    """Creates a bucket; its outputs are the bucket and the location S3 answered."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.aws.s3.CreateBucket",)

    bucket: Any = prop(kind=Kind.STRING, required=True)
    grant_full_control: Any = prop(kind=Kind.STRING)
    grant_read: Any = prop(kind=Kind.STRING)
    grant_read_acp: Any = prop(kind=Kind.STRING, name="grantReadACP")
    grant_write: Any = prop(kind=Kind.STRING)
    grant_write_acp: Any = prop(kind=Kind.STRING, name="grantWriteACP")
    acl: Any = prop(kind=Kind.STRING)
    object_lock_enabled_for_bucket: Any = prop(kind=Kind.BOOL)

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        bucket = ctx.render_str(self.bucket, "bucket")
        params: dict[str, Any] = {"Bucket": bucket}
        for param, raw, name in (("GrantFullControl", self.grant_full_control, "grantFullControl"),
                                 ("GrantRead", self.grant_read, "grantRead"),
                                 ("GrantReadACP", self.grant_read_acp, "grantReadACP"),
                                 ("GrantWrite", self.grant_write, "grantWrite"),
                                 ("GrantWriteACP", self.grant_write_acp, "grantWriteACP"),
                                 ("ACL", self.acl, "acl")):
            if raw is not None:
                params[param] = ctx.render_str(raw, name)
        if self.object_lock_enabled_for_bucket is not None:
            params["ObjectLockEnabledForBucket"] = ctx.render_bool(self.object_lock_enabled_for_bucket,
                                                                   "objectLockEnabledForBucket")
        region = ctx.render_optional_str(self.region, "region")
        if region and region != "us-east-1":  # outside us-east-1, S3 wants the region said again
            params["CreateBucketConfiguration"] = {"LocationConstraint": region}
        with s3_errors(f"of bucket '{bucket}'"):
            response = self.client(ctx).create_bucket(**params)
        return {"bucket": bucket, "region": response.get("Location")}


@register
@dataclass(kw_only=True, eq=False)
class Delete(AwsS3ObjectTask):
    """Deletes one object; outputs say whether S3 left a delete marker (versioned buckets)."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.aws.s3.Delete",)

    key: Any = prop(kind=Kind.STRING, required=True)
    bypass_governance_retention: Any = prop(kind=Kind.BOOL)
    mfa: Any = prop(kind=Kind.STRING)

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        bucket, key = self.bucket_name(ctx), ctx.render_str(self.key, "key")
        params: dict[str, Any] = self.optional(ctx, (("MFA", self.mfa, "mfa"),
                                                     ("RequestPayer", self.request_payer, "requestPayer")))
        if self.bypass_governance_retention is not None:
            params["BypassGovernanceRetention"] = ctx.render_bool(self.bypass_governance_retention,
                                                                  "bypassGovernanceRetention")
        with s3_errors(f"of 's3://{bucket}/{key}'"):
            response = self.client(ctx).delete_object(Bucket=bucket, Key=key, **params)
        outputs = {"versionId": response.get("VersionId"), "deleteMarker": response.get("DeleteMarker"),
                   "requestCharged": response.get("RequestCharged")}
        return {k: v for k, v in outputs.items() if v is not None}


@register
@dataclass(kw_only=True, eq=False)
class Copy(AwsS3Task):
    """Copies an object (`from` {bucket, key, versionId} to `to` {bucket, key}); `delete` makes it a move."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.aws.s3.Copy",)
    ASYNC_CLIENT: ClassVar[bool] = True

    from_: Any = prop(kind=Kind.MAP, required=True, name="from")
    to: Any = prop(kind=Kind.MAP)
    delete: Any = prop(False, kind=Kind.BOOL)

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        source = ctx.render_map(self.from_, "from")
        target = ctx.render_map(self.to, "to") if self.to is not None else {}
        if not source.get("bucket") or not source.get("key"):
            raise TaskFailure("property 'from' needs a 'bucket' and a 'key'")
        bucket, key = str(source["bucket"]), str(source["key"])
        to_bucket, to_key = str(target.get("bucket") or bucket), str(target.get("key") or key)
        copy_source: dict[str, Any] = {"Bucket": bucket, "Key": key}
        if source.get("versionId"):
            copy_source["VersionId"] = str(source["versionId"])
        params: dict[str, Any] = {}
        encryption = str(target.get("serverSideEncryption") or "NONE").upper()
        if encryption != "NONE":
            params["ServerSideEncryption"] = {"AES256": "AES256", "AWS_KMS": "aws:kms"}.get(encryption, encryption)
            if encryption == "AWS_KMS" and target.get("kmsKeyId"):
                params["SSEKMSKeyId"] = str(target["kmsKeyId"])
        client = self.client(ctx)
        with s3_errors(f"of 's3://{bucket}/{key}' to 's3://{to_bucket}/{to_key}'"):
            response = client.copy_object(Bucket=to_bucket, Key=to_key, CopySource=copy_source, **params)
            if ctx.render_bool(self.delete, "delete"):
                client.delete_object(Bucket=bucket, Key=key)
        outputs = {"bucket": to_bucket, "key": to_key, "etag": response.get("CopyObjectResult", {}).get("ETag"),
                   "versionId": response.get("VersionId")}
        return {k: v for k, v in outputs.items() if v is not None}


@register
@dataclass(kw_only=True, eq=False)
class Download(AwsS3ObjectTask):
    """Downloads `key` into internal storage, or every file that `prefix`/`delimiter`/`regexp` select."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.aws.s3.Download",)
    ASYNC_CLIENT: ClassVar[bool] = True

    key: Any = prop(kind=Kind.STRING)
    version_id: Any = prop(kind=Kind.STRING)
    prefix: Any = prop(kind=Kind.STRING)
    delimiter: Any = prop(kind=Kind.STRING)
    marker: Any = prop(kind=Kind.STRING)
    max_keys: Any = prop(1000, kind=Kind.INT)
    regexp: Any = prop(kind=Kind.STRING)
    max_files: Any = prop(25, kind=Kind.INT)
    expected_bucket_owner: Any = prop(kind=Kind.STRING)
    validate_checksum: Any = prop(False, kind=Kind.BOOL)

    def validate(self) -> list[tuple[str | Position, str]]:
        if self.key is None and self.prefix is None and self.delimiter is None and self.regexp is None:
            return [("", "Invalid configuration: either specify 'key' for single file download or at least "
                         "one filtering parameter (prefix, delimiter, regexp) for multiple files download")]
        return []

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        bucket = self.bucket_name(ctx)
        client = self.client(ctx)
        fetcher = ObjectFetcher(ctx, client, bucket, ctx.render_bool(self.validate_checksum, "validateChecksum"))
        extra = self.optional(ctx, (("RequestPayer", self.request_payer, "requestPayer"),
                                    ("ExpectedBucketOwner", self.expected_bucket_owner, "expectedBucketOwner")))
        if self.prefix is None and self.delimiter is None and self.regexp is None:
            key = ctx.render_str(self.key, "key")
            if self.version_id is not None:
                extra["VersionId"] = ctx.render_str(self.version_id, "versionId")
            uri, response = fetcher.fetch(key, extra)
            return file_info(uri, response)
        lister = ListOptions(id=self.id, type=self.type, bucket=self.bucket, request_payer=self.request_payer,
                             prefix=self.prefix, delimiter=self.delimiter, marker=self.marker,
                             max_keys=self.max_keys, expected_bucket_owner=self.expected_bucket_owner,
                             regexp=self.regexp)
        objects = cap_files(ctx, lister.list_objects(ctx, client, "FILES"), self.max_files)
        if not objects:
            ctx.warn("No objects found matching the filter criteria")
        files = {}
        for item in objects:
            uri, response = fetcher.fetch(item["key"], extra)
            files[item["key"]] = file_info(uri, response)
        return {"files": files}


def cap_files(ctx: TaskContext[Task], objects: list[dict[str, Any]], raw_max: Any) -> list[dict[str, Any]]:
    """Kestra's `maxFiles` (default 25): a longer listing is cut, with a warning saying so."""
    max_files = ctx.render_int(raw_max, "maxFiles")
    max_files = 25 if max_files is None else max_files
    if len(objects) > max_files:
        ctx.warn(f"Listing returned {len(objects)} files but maxFiles limit is {max_files}. Only the first "
                 f"{max_files} files will be returned. Increase the maxFiles property if you need more files.")
        return objects[:max_files]
    return objects


def parse_from(ctx: TaskContext[Task], raw: Any) -> dict[str, str]:
    """Upload's `from` as {relative key: kestra:// URI}: a URI, a list of them, a map, or one as JSON text."""
    value = ctx.render(raw, "from")
    if isinstance(value, str):
        text = value.strip()
        if text.startswith(("[", "{")):
            try:
                value = json.loads(text)
            except ValueError:
                raise TaskFailure("property 'from': not a URI, nor a JSON list or map of URIs") from None
        else:
            value = [text]
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    if isinstance(value, list):
        return {str(uri).rstrip("/").rsplit("/", 1)[-1]: str(uri) for uri in value}
    raise TaskFailure("property 'from' must be a kestra:// URI, a list of URIs or a map of key to URI")


_UPLOAD_OPTIONS = (
    ("CacheControl", "cache_control", "cacheControl"), ("ContentType", "content_type", "contentType"),
    ("ContentEncoding", "content_encoding", "contentEncoding"),
    ("ContentDisposition", "content_disposition", "contentDisposition"),
    ("ContentLanguage", "content_language", "contentLanguage"), ("ACL", "acl", "acl"),
    ("StorageClass", "storage_class", "storageClass"), ("ExpectedBucketOwner", "expected_bucket_owner",
                                                        "expectedBucketOwner"),
    ("ObjectLockMode", "object_lock_mode", "objectLockMode"),
    ("ObjectLockLegalHoldStatus", "object_lock_legal_hold_status", "objectLockLegalHoldStatus"),
    ("RequestPayer", "request_payer", "requestPayer"),
)
_ENCRYPTIONS = {"AES256": "AES256", "AWS_KMS": "aws:kms", "AWS_KMS_DSSE": "aws:kms:dsse"}


@register
@dataclass(kw_only=True, eq=False)
class Upload(AwsS3ObjectTask):
    """Uploads one file to `key`, or several under `key` as a prefix; Kestra's metrics file.count/size."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.aws.s3.Upload",)
    ASYNC_CLIENT: ClassVar[bool] = True

    from_: Any = prop(kind=Kind.ANY, required=True, name="from")
    key: Any = prop(kind=Kind.STRING, required=True)
    metadata: Any = prop(kind=Kind.MAP)
    cache_control: Any = prop(kind=Kind.STRING)
    content_type: Any = prop(kind=Kind.STRING)
    content_encoding: Any = prop(kind=Kind.STRING)
    content_disposition: Any = prop(kind=Kind.STRING)
    content_language: Any = prop(kind=Kind.STRING)
    content_length: Any = prop(kind=Kind.INT)
    expires: Any = prop(kind=Kind.STRING)
    acl: Any = prop(kind=Kind.STRING)
    storage_class: Any = prop(kind=Kind.STRING)
    server_side_encryption: Any = prop(kind=Kind.STRING)
    bucket_key_enabled: Any = prop(kind=Kind.BOOL)
    checksum_algorithm: Any = prop(kind=Kind.STRING)
    checksum: Any = prop(kind=Kind.STRING)
    expected_bucket_owner: Any = prop(kind=Kind.STRING)
    object_lock_mode: Any = prop(kind=Kind.STRING)
    object_lock_legal_hold_status: Any = prop(kind=Kind.STRING)
    object_lock_retain_until_date: Any = prop(kind=Kind.STRING)
    tagging: Any = prop(kind=Kind.MAP)
    concurrent_uploads: Any = prop(50, kind=Kind.INT)

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        bucket, key = self.bucket_name(ctx), ctx.render_str(self.key, "key")
        files = parse_from(ctx, self.from_)
        if not files:
            raise TaskFailure("No files to upload: the 'from' property contains an empty collection or array")
        client, params = self.client(ctx), self._put_options(ctx)
        if len(files) == 1:
            response, _size = self._put(ctx, client, bucket, key, next(iter(files.values())), params)
            outputs = {"bucket": bucket, "key": key, "etag": response.get("ETag"),
                       "versionId": response.get("VersionId")}
            return {k: v for k, v in outputs.items() if v is not None}
        infos = {}
        for name, uri in files.items():
            final_key = f"{key.rstrip('/')}/{name.lstrip('/')}" if key else name
            response, size = self._put(ctx, client, bucket, final_key, uri, params)
            infos[name] = {k: v for k, v in (("etag", response.get("ETag")), ("versionId", response.get("VersionId")),
                                             ("contentLength", size)) if v is not None}
        return {"bucket": bucket, "key": key, "files": infos}

    def _put(self, ctx: TaskContext[Task], client: Any, bucket: str, key: str, uri: str,
             params: dict[str, Any]) -> tuple[dict[str, Any], int]:
        if not uri.startswith("kestra://"):
            raise TaskFailure(f"property 'from': '{uri}' is not a kestra:// URI of a file in internal storage")
        path = ctx.storage_path(uri)
        ctx.debug(f"Uploading to '{key}'")
        with s3_errors(f"to 's3://{bucket}/{key}'"), path.open("rb") as body:
            response: dict[str, Any] = client.put_object(Bucket=bucket, Key=key, Body=body, **params)
        size = path.stat().st_size
        ctx.metric("file.count", "counter", 1.0)
        ctx.metric("file.size", "counter", float(size))
        return response, size

    def _put_options(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        params: dict[str, Any] = {}
        for param, attribute, name in _UPLOAD_OPTIONS:
            raw = getattr(self, attribute)
            if raw is not None:
                params[param] = ctx.render_str(raw, name)
        if self.metadata is not None:
            params["Metadata"] = {str(k): str(v) for k, v in ctx.render_map(self.metadata, "metadata").items()}
        if self.tagging is not None:
            from urllib.parse import urlencode

            params["Tagging"] = urlencode({str(k): str(v) for k, v in ctx.render_map(self.tagging, "tagging").items()})
        if self.content_length is not None:
            params["ContentLength"] = ctx.render_int(self.content_length, "contentLength")
        for param, raw, name in (("Expires", self.expires, "expires"),
                                 ("ObjectLockRetainUntilDate", self.object_lock_retain_until_date,
                                  "objectLockRetainUntilDate")):
            if raw is not None:
                text = ctx.render_str(raw, name)
                try:
                    params[param] = datetime.fromisoformat(text.replace("Z", "+00:00"))
                except ValueError:
                    raise TaskFailure(f"property '{name}': '{text}' is not an ISO-8601 instant") from None
        if self.server_side_encryption is not None:
            value = ctx.render_str(self.server_side_encryption, "serverSideEncryption")
            params["ServerSideEncryption"] = _ENCRYPTIONS.get(value.upper(), value)
        if self.bucket_key_enabled is not None:
            params["BucketKeyEnabled"] = ctx.render_bool(self.bucket_key_enabled, "bucketKeyEnabled")
        if self.checksum_algorithm is not None:
            algorithm = ctx.render_str(self.checksum_algorithm, "checksumAlgorithm").upper().replace("_", "")
            params["ChecksumAlgorithm"] = algorithm
            checksum = ctx.render_optional_str(self.checksum, "checksum")
            if checksum:
                params[f"Checksum{algorithm}"] = checksum
        return params
