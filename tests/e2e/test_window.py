"""One window end to end: the `luigi` command against luigid, marts checked against the sources."""

import json

import requests

from storepipe import config
from tests.helpers import luigi_cli, query


def _order_ids_in_bucket(pipeline, window) -> set[str]:
    """What the generator put in the bucket for the window, read back independently with csv."""
    import csv
    import io

    from storepipe.sources.orders_bucket import minute_prefixes

    s3, ids = pipeline.s3(), set()
    for prefix in minute_prefixes(window, "orders/"):
        for obj in s3.list_objects_v2(Bucket=pipeline.env["ORDERS_BUCKET"], Prefix=prefix).get("Contents", []):
            body = s3.get_object(Bucket=pipeline.env["ORDERS_BUCKET"], Key=obj["Key"])["Body"].read()
            ids |= {row["order_id"] for row in csv.DictReader(io.StringIO(body.decode()))}
    return ids


def test_two_windows_through_the_luigi_command_and_luigid(pipeline):
    windows = [pipeline.window(0), pipeline.window(1)]
    generated, captured = [], []
    for window in windows:
        generated.append(pipeline.generate(window, customers=15, orders=120))
        # what the window's extract will see: every customer changed in it, as it is now
        captured.append(
            query(
                pipeline.env["SOURCE_DB_ADMIN_URL"],
                "select customer_id, last_name, state_code from customers"
                " where datetime_updated >= %(window_start)s and datetime_updated < %(window_end)s",
                window.sql_params(),
            )
        )
        result = luigi_cli("RunWindow", "--window", window.label, "--scheduler-url", pipeline.env["LUIGID_URL"])
        assert result.returncode == 0, result.stdout + result.stderr

    url = pipeline.warehouse_url
    versions = set(query(url, "select customer_id, last_name, state_code from analytics.dim_customers"))
    for window, counts, changed in zip(windows, generated, captured, strict=True):
        expected_orders = _order_ids_in_bucket(pipeline, window)
        assert len(expected_orders) == counts["orders"] == 120
        facts = query(url, "select order_id::text from analytics.fct_orders where window_start = %s", (window.start,))
        assert sorted(r[0] for r in facts) == sorted(expected_orders), "every order exactly once"
        assert len(changed) == counts["customers_new"] + counts["customers_updated"]
        assert set(changed) <= versions, "every customer changed in the window is a version in dim_customers"

    # each order points at the version of its customer current at delivery, or at the unknown
    # member when that customer was never captured in this warehouse
    wrong = query(
        url,
        """
        select count(*) from analytics.fct_orders as f
        left join analytics.dim_customers as d
            on d.customer_id = f.customer_id and f.delivered_at >= d.valid_from and f.delivered_at < d.valid_to
        where f.customer_key is distinct from coalesce(d.customer_key, '00000000-0000-0000-0000-000000000000')
        """,
    )[0][0]
    assert wrong == 0
    known = query(
        url,
        "select count(*) from analytics.fct_orders where customer_id in (select customer_id from "
        "staging.stg_customers)",
    )[0][0]
    assert known > 0

    # luigid saw the run: the visualiser's API knows the RunWindow tasks as done
    response = requests.get(
        pipeline.env["LUIGID_URL"] + "api/task_search", params={"data": json.dumps({"task_str": "RunWindow"})}
    )
    done = response.json()["response"].get("DONE", {})
    assert {f"{w.label}" for w in windows} <= {t["params"]["window"] for t in done.values()}


def test_report_counts_match_the_window(pipeline, capsys):
    from storepipe.cli import main
    from tests.helpers import run_windows

    window = pipeline.window(0)
    counts = pipeline.generate(window, customers=10, orders=50)
    assert run_windows(window).name == "SUCCESS"
    config.reset()
    assert main(["report", "--window", window.label]) == 0
    out = capsys.readouterr().out
    orders_line = next(line for line in out.splitlines() if line.strip().startswith("orders"))
    assert orders_line.split()[1:] == [str(counts["orders"]), str(counts["orders"]), "0", "0"]
    assert "fct_orders (window)" in out and " 50" in out
    assert "static/visualiser/index.html#tab=graph&taskId=RunWindow_" in out


def test_off_boundary_and_unclosed_windows_are_refused_in_one_line(pipeline):
    for window, phrase in [
        ("2024-01-01T10:07", "not on a 5-minute boundary"),
        ("2999-01-01T10:00", "not closed yet"),
    ]:
        result = luigi_cli("RunWindow", "--window", window, "--local-scheduler")
        output = result.stdout + result.stderr
        assert result.returncode != 0
        assert phrase in output
        assert "Traceback" not in output


def test_a_window_with_its_lake_in_s3(pipeline, monkeypatch):
    bucket = pipeline.env["ORDERS_BUCKET"] + "-lake"
    pipeline.s3().create_bucket(Bucket=bucket)
    monkeypatch.setenv("LAKE_URL", f"s3://{bucket}/raw")
    window = pipeline.window(0)
    counts = pipeline.generate(window, customers=6, orders=25)
    from tests.helpers import run_windows

    assert run_windows(window).name == "SUCCESS"
    keys = {o["Key"] for o in pipeline.s3().list_objects_v2(Bucket=bucket)["Contents"]}
    folder = f"raw/orders/window_start={window.start:%Y-%m-%dT%H%M}/"
    segments = [
        k for k in keys if k.startswith(folder + "segment-") and k.endswith(".csv") and not k.endswith(".rejected.csv")
    ]
    assert len(segments) == 1, keys  # the window's first (and only) orders segment
    assert query(
        pipeline.warehouse_url, "select count(*) from analytics.fct_orders where window_start = %s", (window.start,)
    ) == [(counts["orders"],)]
