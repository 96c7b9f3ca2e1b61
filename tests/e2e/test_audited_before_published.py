"""Invariant 11 (write, audit, publish): a window failing an error-level check never reaches analytics."""

import luigi

from storepipe.tasks import TransformModel
from tests.helpers import luigi_cli, query, run_windows, table_hashes

ANALYTICS = ("analytics.fct_orders", "analytics.dim_customers")


def test_failing_check_keeps_analytics_as_it_was_and_says_why(pipeline):
    published, audited = pipeline.window(0), pipeline.window(1)
    for window in (published, audited):
        pipeline.generate(window, customers=8, orders=30)
    assert run_windows(published).name == "SUCCESS"

    # build the second window's staging, then plant a duplicated customer in it
    staging = [TransformModel(window=audited, model=m) for m in ("stg_customers", "stg_customer_risk_score")]
    assert luigi.build(staging, local_scheduler=True, log_level="WARNING")
    query(
        pipeline.warehouse_url,
        "insert into staging.stg_customers select * from staging.stg_customers where window_start = %s limit 1",
        (audited.start,),
    )
    before = {t: h for t, h in table_hashes(pipeline.warehouse_url).items() if t in ANALYTICS}

    result = luigi_cli("RunWindow", "--window", audited.label, "--local-scheduler")
    output = result.stdout + result.stderr
    assert result.returncode == 30, output
    assert "check stg_customers__customer_id_unique found 1 offending row(s)" in output
    assert "Traceback" not in output

    after = {t: h for t, h in table_hashes(pipeline.warehouse_url).items() if t in ANALYTICS}
    assert after == before, "nothing of the failed window is visible in analytics"
    assert query(
        pipeline.warehouse_url,
        "select status from storepipe.check_results where window_start = %s and check_name = %s",
        (audited.start, "stg_customers__customer_id_unique"),
    ) == [("fail",)]
    published_markers = query(
        pipeline.warehouse_url,
        "select task_name from storepipe.markers where window_start = %s and task_name = 'publish'",
        (audited.start,),
    )
    assert published_markers == []

    # once the data is fixed, the same command publishes the window
    query(
        pipeline.warehouse_url,
        "delete from staging.stg_customers where ctid in (select max(ctid) from staging.stg_customers"
        " where window_start = %s group by customer_id having count(*) > 1)",
        (audited.start,),
    )
    result = luigi_cli("RunWindow", "--window", audited.label, "--local-scheduler")
    assert result.returncode == 0, result.stdout + result.stderr
    assert query(
        pipeline.warehouse_url, "select count(*) from analytics.fct_orders where window_start = %s", (audited.start,)
    ) == [(30,)]
