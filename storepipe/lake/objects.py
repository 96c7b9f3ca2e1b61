"""Lake objects: an immutable raw copy of each window's extract, in a folder (file://) or a bucket (s3://)."""

from __future__ import annotations

import hashlib
import io
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from botocore.exceptions import ClientError

from storepipe import config, s3, streams
from storepipe.errors import ConfigError, LakeMismatch, LakeObjectExists
from storepipe.window import Window

log = logging.getLogger(__name__)

PART_BYTES = 8 * 1024 * 1024  # S3 multipart: parts are buffered one at a time, so memory stays flat
# what S3 answers a conditional write whose key is taken (412), or is being written by another (409)
TAKEN = ("PreconditionFailed", "ConditionalRequestConflict", "412", "409")


def window_key(source: str, window: Window, name: str) -> str:
    return f"{source}/window_start={window.start:%Y-%m-%dT%H%M}/{name}"


class _HashingWriter(io.RawIOBase):
    """Counts and hashes the bytes on their way to the real sink (and to `tee`, after it)."""

    def __init__(self, sink, tee: Callable[[bytes], object] | None = None):
        self.sink, self.tee, self.digest, self.size = sink, tee, hashlib.sha256(), 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        data = data if isinstance(data, bytes) else bytes(data)
        self.digest.update(data)
        self.size += len(data)
        self.sink(data)
        if self.tee is not None:
            self.tee(data)
        return len(data)


class _Handing(io.RawIOBase):
    """Hands each write, copied (the buffer it comes in is reused), to `streams.write_behind`."""

    def __init__(self, hand_over):
        self.hand_over = hand_over

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.hand_over(bytes(data))
        return len(data)


@contextmanager
def _written_behind(hashing: _HashingWriter) -> Iterator[IO[bytes]]:
    """A buffered file whose 256 KB writes are hashed and written (to a file, or uploaded as S3 parts) by
    a thread behind the caller: an extract validates the next rows meanwhile, instead of waiting."""
    with streams.write_behind(hashing.write) as behind, io.BufferedWriter(_Handing(behind), 256 * 1024) as out:
        yield out


class _HashingReader(io.RawIOBase):
    """Hashes the bytes as a reader (COPY) takes them."""

    def __init__(self, source: IO[bytes]):
        self.source, self.digest = source, hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.source.read(size)
        self.digest.update(data)
        return data

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def drain(self) -> None:
        """Read what the caller left, so the digest covers the whole object."""
        for _ in iter(lambda: self.read(1024 * 1024), b""):
            pass


class Written:
    """What a finished write produced: the key, its sha256 and size."""

    def __init__(self, key: str):
        self.key, self.checksum, self.size = key, "", 0


class Lake:
    def __init__(self, url: str | None = None):
        self.url = url or config.lake().url
        parts = urlsplit(self.url)
        self.scheme = parts.scheme
        if self.scheme == "file":
            self.root = Path(parts.path)
        elif self.scheme == "s3":
            self.bucket, self.prefix = parts.netloc, parts.path.strip("/")
        else:
            raise ConfigError(f"LAKE_URL {self.url!r} is neither file:// nor s3://", "LAKE_URL", "fix the URL")

    def __str__(self) -> str:
        return self.url

    def locate(self, key: str) -> str:
        return f"{self.url.rstrip('/')}/{key}"

    def exists(self, key: str) -> bool:
        if self.scheme == "file":
            return (self.root / key).is_file()
        try:
            self._s3().head_object(Bucket=self.bucket, Key=self._s3_key(key))
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    @contextmanager
    def open(self, key: str) -> Iterator[IO[bytes]]:
        if self.scheme == "file":
            with open(self.root / key, "rb") as f:
                yield f
        else:
            body = self._s3().get_object(Bucket=self.bucket, Key=self._s3_key(key))["Body"]
            try:
                yield body
            finally:
                body.close()

    def list(self, prefix: str) -> list[str]:
        """The keys under `prefix` (a folder), sorted; objects being written are not listed."""
        if self.scheme == "file":
            base = self.root / prefix
            if not base.is_dir():
                return []
            found = (p for p in base.rglob("*") if p.is_file() and not p.name.startswith(".incoming-"))
            return sorted(str(p.relative_to(self.root)) for p in found)
        keys = []
        pages = self._s3().get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self._s3_key(prefix))
        for page in pages:
            keys.extend(item["Key"][len(self._s3_key("")) :] for item in page.get("Contents", []))
        return sorted(keys)

    @contextmanager
    def write(self, key: str, tee: Callable[[bytes], object] | None = None) -> Iterator[tuple[IO[bytes], Written]]:
        """Write an object that appears whole or not at all, and only where no object is: the lake is
        written once. On error nothing is published. `tee`, if given, gets the object's bytes too, in
        order, as they are written (the very bytes hashed: a copy of the object made on the way).

        A key that is taken when the write ends fails it (`LakeObjectExists`) rather than being
        replaced, unless it holds these very bytes (a run that crashed after publishing, repaired by
        running again). On S3 the refusal is the server's (`If-None-Match: *`, so two writers racing
        for one key cannot both win); on a folder it is a hard link, which fails on an existing name.
        """
        written = Written(key)
        if self.scheme == "file":
            target = self.root / key
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
            try:
                with os.fdopen(fd, "wb", buffering=0) as raw:
                    hashing = _HashingWriter(raw.write, tee)
                    with _written_behind(hashing) as out:
                        yield out, written
                    raw.flush()
                    os.fsync(raw.fileno())
                try:
                    os.link(tmp, target)  # unlike os.replace, never over an existing object
                except FileExistsError:
                    self._refuse_unless_same(key, hashing.digest.hexdigest())
            finally:
                Path(tmp).unlink(missing_ok=True)
        else:
            with self._multipart(key, lambda: hashing.digest.hexdigest()) as sink:
                hashing = _HashingWriter(sink, tee)
                with _written_behind(hashing) as out:
                    yield out, written
        written.checksum, written.size = hashing.digest.hexdigest(), hashing.size

    def _refuse_unless_same(self, key: str, checksum: str) -> None:
        """`key` was taken when a write of `checksum` ended: fine if it holds those bytes, else refused."""
        if self.exists(key) and self.checksum(key) == checksum:
            log.info("lake object %s exists with the same content; keeping it", self.locate(key))
            return
        raise LakeObjectExists(
            f"lake object {self.locate(key)} exists already with other content, or is being written by another run",
            "the lake is written once",
            "another run landed this key first; re-run the window, which takes the landed copy",
        )

    @contextmanager
    def open_verified(self, key: str, checksum: str) -> Iterator[IO[bytes]]:
        """Open `key` for one read to its end; on close, refuse it unless its sha256 is `checksum`.

        The caller streams it (into COPY) and commits only after this block exits, so a lake object
        changed since its extract (by hand, by another writer) never reaches the warehouse.
        """
        if not self.exists(key):
            raise LakeMismatch(
                f"lake object {self.locate(key)} is gone",
                "the extract marker",
                "restore it from the bucket's versions, or re-extract the window (storepipe backfill --force)",
            )
        with self.open(key) as raw:
            reading = _HashingReader(raw)
            yield reading
            reading.drain()
        if reading.digest.hexdigest() != checksum:
            raise LakeMismatch(
                f"lake object {self.locate(key)} is not the one its extract recorded"
                f" (sha256 {reading.digest.hexdigest()[:12]}…, expected {checksum[:12]}…)",
                "the extract marker",
                "restore the object from the bucket's versions, or re-extract the window (storepipe backfill --force)",
            )

    def checksum(self, key: str) -> str:
        digest = hashlib.sha256()
        with self.open(key) as f:
            for chunk in iter(lambda: f.read(1024 * 1024), b""):
                digest.update(chunk)
        return digest.hexdigest()

    @contextmanager
    def _multipart(self, key: str, checksum: Callable[[], str]):
        s3, s3_key = self._s3(), self._s3_key(key)
        upload = s3.create_multipart_upload(Bucket=self.bucket, Key=s3_key)["UploadId"]
        parts: list[dict] = []
        buffer = bytearray()

        def flush() -> None:
            number = len(parts) + 1
            etag = s3.upload_part(
                Bucket=self.bucket, Key=s3_key, UploadId=upload, PartNumber=number, Body=bytes(buffer)
            )["ETag"]
            parts.append({"ETag": etag, "PartNumber": number})
            buffer.clear()

        def sink(data: bytes) -> None:
            buffer.extend(data)
            if len(buffer) >= PART_BYTES:
                flush()

        try:
            yield sink
            if buffer or not parts:
                flush()
        except BaseException:
            s3.abort_multipart_upload(Bucket=self.bucket, Key=s3_key, UploadId=upload)
            raise
        try:
            # the object appears here, whole, and only if the key is free (S3 conditional writes)
            s3.complete_multipart_upload(
                Bucket=self.bucket, Key=s3_key, UploadId=upload, MultipartUpload={"Parts": parts}, IfNoneMatch="*"
            )
        except ClientError as err:
            s3.abort_multipart_upload(Bucket=self.bucket, Key=s3_key, UploadId=upload)
            if err.response.get("Error", {}).get("Code") not in TAKEN:
                raise
            self._refuse_unless_same(key, checksum())
        except BaseException:
            s3.abort_multipart_upload(Bucket=self.bucket, Key=s3_key, UploadId=upload)
            raise

    def _s3_key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def _s3(self):
        return s3.client(config.orders_bucket().endpoint_url)
