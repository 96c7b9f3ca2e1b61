"""S3 clients for every bucket storepipe touches: one per process and endpoint.

Keys come from the settings (environment or .storepipe/env); unset keys and endpoint mean AWS
itself and boto3's own credential chain (an instance role).
"""

from __future__ import annotations

import os

import boto3
from botocore.config import Config as BotoConfig

from storepipe import config

_clients: dict[tuple[int, str | None], object] = {}


def client(endpoint_url: str | None = None):
    """A cached client; keyed by pid too, since boto3 clients are not fork-safe."""
    endpoint_url = endpoint_url or None
    key = (os.getpid(), endpoint_url)
    if key not in _clients:
        _clients[key] = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            aws_access_key_id=config.setting("AWS_ACCESS_KEY_ID", "") or None,
            aws_secret_access_key=config.setting("AWS_SECRET_ACCESS_KEY", "") or None,
            region_name=config.setting("AWS_DEFAULT_REGION", "") or "us-east-1",
            # path-style addressing works with moto and MinIO as well as AWS
            config=BotoConfig(s3={"addressing_style": "path"}, retries={"mode": "standard", "max_attempts": 5}),
        )
    return _clients[key]
