"""The lake keeps an immutable copy per window, in a folder or a bucket: both URL kinds behave alike."""

import pytest

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
