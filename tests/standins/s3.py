"""An S3 stand-in: moto's server mode on a free loopback port.

Speaks the S3 REST API (SigV4, multipart uploads, ranged GETs, CopyObject),
so a storage backend tested against it talks to AWS, MinIO or Supabase's S3
endpoint the same way. Any access key and secret are accepted.

    with S3StandIn() as s3:
        s3.create_bucket("skyras-files")
        ... SKYRAS_S3_ENDPOINT_URL=s3.url ...
"""

from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from skyras.embedded import free_port

ACCESS_KEY = "standin-access-key"
SECRET_KEY = "standin-secret-key"
REGION = "us-east-1"


class S3StandIn:
    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)

    def start(self) -> "S3StandIn":
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> "S3StandIn":
        return self.start()

    def __exit__(self, *_: Any) -> None:
        self.stop()

    def env(self, bucket: str) -> dict[str, str]:
        """The SKYRAS_S3_* settings that point a service at this server."""
        return {
            "SKYRAS_S3_ENDPOINT_URL": self.url,
            "SKYRAS_S3_BUCKET": bucket,
            "SKYRAS_S3_ACCESS_KEY_ID": ACCESS_KEY,
            "SKYRAS_S3_SECRET_ACCESS_KEY": SECRET_KEY,
            "SKYRAS_S3_REGION": REGION,
        }

    def client(self) -> Any:
        """A plain boto3 client, to look at the bucket from outside the service."""
        return boto3.client(
            "s3",
            endpoint_url=self.url,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
        )

    def create_bucket(self, name: str) -> None:
        self.client().create_bucket(Bucket=name)

    def keys(self, bucket: str) -> list[str]:
        listing = self.client().list_objects_v2(Bucket=bucket)
        return sorted(obj["Key"] for obj in listing.get("Contents", []))

    def pending_multipart_uploads(self, bucket: str) -> int:
        return len(self.client().list_multipart_uploads(Bucket=bucket).get("Uploads", []))
