"""Media on S3-compatible storage when MEDIA_S3_BUCKET is set (several machines share it), the
local disk otherwise: through the real django-storages and boto3 against a local S3 (moto)."""

import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage as storage
print(settings.STORAGES["default"]["BACKEND"])
if settings.MEDIA_S3_BUCKET:
    first = storage.save("contracts/1/v1.pdf", ContentFile(b"%PDF-first"))
    second = storage.save("contracts/1/v1.pdf", ContentFile(b"%PDF-second"))
    print(first, second, storage.open(first).read().decode(), sep="\\n")
"""


def _shell(env: dict[str, str]) -> list[str]:
    clean = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    result = subprocess.run(  # noqa: S603 - fixed argv, our own manage.py
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", SCRIPT],
        cwd=ROOT,
        env={**clean, "DEBUG": "true", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split("\n")


@pytest.fixture
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def test_the_local_disk_by_default():
    assert _shell({})[0] == "django.core.files.storage.FileSystemStorage"


def test_a_bucket_keeps_every_file_and_never_overwrites_one(s3_endpoint):
    credentials = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
    s3 = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    s3.create_bucket(Bucket="dealdesk-media")
    backend, first, second, content, *_ = _shell(
        {
            **credentials,
            "MEDIA_S3_BUCKET": "dealdesk-media",
            "MEDIA_S3_PREFIX": "media",
            "MEDIA_S3_ENDPOINT_URL": s3_endpoint,
            "MEDIA_S3_REGION": "us-east-1",
        }
    )
    assert backend == "storages.backends.s3.S3Storage"
    assert first == "contracts/1/v1.pdf"
    assert second != first  # a second file of the same name is not written over the first
    assert content == "%PDF-first"
    keys = {item["Key"] for item in s3.list_objects_v2(Bucket="dealdesk-media")["Contents"]}
    assert keys == {f"media/{first}", f"media/{second}"}
