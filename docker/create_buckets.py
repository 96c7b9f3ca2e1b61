"""One-shot job of the Docker stack: create the orders bucket and the lake's bucket in MinIO if missing."""

from __future__ import annotations

import os
import sys
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError


def wanted() -> list[str]:
    """ORDERS_BUCKET, and the bucket of LAKE_URL when the lake is on S3."""
    names = [os.environ["ORDERS_BUCKET"]]
    lake = urlsplit(os.environ["LAKE_URL"])
    if lake.scheme == "s3" and lake.netloc not in names:
        names.append(lake.netloc)
    return names


def main() -> int:
    s3 = boto3.client(
        "s3",
        endpoint_url=os.environ["S3_ENDPOINT_URL"],
        aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
        region_name=os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        config=Config(s3={"addressing_style": "path"}, retries={"mode": "standard", "max_attempts": 10}),
    )
    existing = {bucket["Name"] for bucket in s3.list_buckets().get("Buckets", [])}
    for name in wanted():
        if name in existing:
            print(f"bucket {name} exists")
            continue
        try:
            s3.create_bucket(Bucket=name)
        except ClientError as err:
            print(f"create_buckets: cannot create bucket {name} ({err}); check MinIO's logs", file=sys.stderr)
            return 1
        print(f"created bucket {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
