"""A boto3 S3 client built from Kestra's AWS connection properties, shared by the S3 tasks and trigger.

Kestra's AbstractConnection gives every AWS plugin the same options (region, accessKeyId,
secretKeyId, sessionToken, endpointOverride, forcePathStyle); tasks and triggers are sibling
layers, so the one builder lives here. boto3 is imported only when a client is built, so
loading a flow never pays for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class S3Connection:
    """Rendered connection properties; the secret ones never reach a log line."""

    endpoint: str | None
    region: str | None
    access_key: str | None
    secret_key: str | None
    session_token: str | None
    path_style: bool


def s3_client(connection: S3Connection) -> Any:
    """A boto3 S3 client as the AWS SDK in Kestra builds it: explicit keys, else the default chain."""
    import boto3
    from botocore.config import Config

    options: dict[str, Any] = {}
    if connection.endpoint:
        options["endpoint_url"] = connection.endpoint
    if connection.region:
        options["region_name"] = connection.region
    if connection.access_key and connection.secret_key:
        options["aws_access_key_id"] = connection.access_key
        options["aws_secret_access_key"] = connection.secret_key
        if connection.session_token:
            options["aws_session_token"] = connection.session_token
    config = Config(s3={"addressing_style": "path"} if connection.path_style else {},
                    connect_timeout=10, read_timeout=60, retries={"max_attempts": 3, "mode": "standard"})
    # A session per client: boto3's default session is not safe to share between threads.
    return boto3.session.Session().client("s3", config=config, **options)


def move_target(move_key: str, key: str) -> str:
    """Kestra's MOVE target: `stripEnd(moveTo.key + "/", "/") + "/" + getName(key)`."""
    return (move_key + "/").rstrip("/") + "/" + key.rsplit("/", 1)[-1]


def key_matches(key: str, pattern: Any, kind: str) -> bool:
    """Kestra's S3Service.filter: `regexp` on the full key, then FILES, DIRECTORY or BOTH."""
    if pattern is not None and pattern.fullmatch(key) is None:
        return False
    if kind == "FILES":
        return not key.endswith("/")
    if kind == "DIRECTORY":
        return key.endswith("/")
    return True
