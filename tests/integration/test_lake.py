"""The lake keeps an immutable copy per window, in a folder or a bucket: both URL kinds behave alike."""

import pytest

from storepipe import s3
from storepipe.errors import LakeObjectExists, TooManyBadRows
from storepipe.lake import landing
from storepipe.lake.objects import Lake
from storepipe.rows import Rejected


@pytest.fixture(params=["file", "s3"])
def lake(request, pipeline, tmp_path):
    if request.param == "file":
        return Lake((tmp_path / "lake").as_uri())
    bucket = pipeline.env["ORDERS_BUCKET"] + "-lake"
    pipeline.s3().create_bucket(Bucket=bucket)
    return Lake(f"s3://{bucket}/raw")


def test_land_writes_rows_and_rejects_and_reads_them_back(lake, pipeline):
    window = pipeline.window(0)
    rows = [(1, "a,b", "x\ny"), Rejected("here:2", "broken", "1,2"), (2, "", None)]
    landed = landing.land(window, "things", iter(rows), ["id", "name", "note"], lake, max_bad_share=0.5)
    assert (landed.rows, landed.rejected) == (2, 1)
    with lake.open(landed.key) as f:
        assert f.read().decode() == 'id,name,note\r\n1,"a,b","x\ny"\r\n2,,\r\n'
    assert landed.checksum == lake.checksum(landed.key)


def test_a_landed_window_is_never_rewritten(lake, pipeline):
    window = pipeline.window(0)
    first = landing.land(window, "things", iter([(1,), (2,)]), ["id"], lake, max_bad_share=0)
    again = landing.land(window, "things", iter([(3,)]), ["id"], lake, max_bad_share=0)
    assert (again.rows, again.checksum) == (2, first.checksum)


def test_failed_landing_publishes_nothing(lake, pipeline):
    window = pipeline.window(0)

    def rows():
        yield (1,)
        raise RuntimeError("source died mid-stream")

    with pytest.raises(RuntimeError):
        landing.land(window, "things", rows(), ["id"], lake, max_bad_share=0)
    data_key, rejects_key = landing.keys("things", window)
    assert not lake.exists(data_key) and not lake.exists(rejects_key)


def _write(lake, key: str, data: bytes):
    with lake.write(key) as (out, written):
        out.write(data)
    return written


def _read(lake, key: str) -> bytes:
    with lake.open(key) as f:
        return f.read()


def test_a_second_writer_of_a_key_fails_and_the_first_object_stays(lake):
    key = "things/window_start=2024-03-01T0000/things.csv"
    first = _write(lake, key, b"id\r\n1\r\n")
    with pytest.raises(LakeObjectExists, match=r"^lake object \S+/things\.csv exists already with other content"):
        _write(lake, key, b"id\r\n2\r\n")
    assert _read(lake, key) == b"id\r\n1\r\n" and lake.checksum(key) == first.checksum
    # the same bytes again (a run that crashed after publishing, repaired): nothing is replaced, no error
    again = _write(lake, key, b"id\r\n1\r\n")
    assert again.checksum == first.checksum and _read(lake, key) == b"id\r\n1\r\n"
    assert lake.list("things/") == [key], "no stray temporary object is left"


def test_of_two_writers_racing_for_a_key_the_one_that_ends_first_wins(lake):
    key = "things/window_start=2024-03-01T0000/race.csv"
    with pytest.raises(LakeObjectExists), lake.write(key) as (slow, _):
        slow.write(b"slow\r\n")
        _write(lake, key, b"fast\r\n")  # starts after the slow one, publishes before it
    assert _read(lake, key) == b"fast\r\n"


def test_an_s3_lake_write_is_conditional_on_the_key_being_free(pipeline):
    """moto's server enforces If-None-Match too (the tests above); this shows what AWS and MinIO are asked."""
    bucket = pipeline.env["ORDERS_BUCKET"] + "-lake"
    pipeline.s3().create_bucket(Bucket=bucket)
    lake = Lake(f"s3://{bucket}/raw")
    sent: dict[str, list] = {}

    def record(request, event_name, **_):
        header = request.headers.get("If-None-Match")
        sent.setdefault(event_name.split(".")[-1], []).append(header.decode() if isinstance(header, bytes) else header)

    client = s3.client(pipeline.env["S3_ENDPOINT_URL"])
    client.meta.events.register("before-send.s3.*", record)
    try:
        _write(lake, "things/one.csv", b"id\r\n1\r\n")
    finally:
        client.meta.events.unregister("before-send.s3.*", record)
    assert sent["CompleteMultipartUpload"] == ["*"]
    assert "PutObject" not in sent, "every lake object is published by the one conditional request"


def test_a_failed_verdict_publishes_nothing_and_hands_over_its_rejects(lake, pipeline):
    window = pipeline.window(0)
    rows = [(1,), Rejected("here:2", "broken", "x"), Rejected("here:3", "broken", "y")]
    handed = []
    with pytest.raises(TooManyBadRows):
        landing.land(window, "things", iter(rows), ["id"], lake, 0.5, on_failed=lambda f: handed.append(f.read()))
    assert lake.list("things/") == [], "the fixed source's next run can write the window's keys"
    [rejects] = handed
    assert rejects.count(b"broken") == 2 and b"here:3" in rejects
    # the source fixed: the window lands at its usual keys
    landed = landing.land(window, "things", iter([(1,), (2,)]), ["id"], lake, 0.5)
    assert landed.rows == 2 and lake.list("things/") == sorted(landing.keys("things", window))
