"""Every data check catches the exact defect it looks for, planted in a real warehouse, and passes
on a clean window."""

import psycopg2
import pytest

from storepipe.transform import checks
from tests.helpers import query, run_windows

ONE_STG_CUSTOMER = "(select ctid from staging.stg_customers where window_start = %(window_start)s limit 1)"
ONE_STG_SCORE = "(select ctid from staging.stg_customer_risk_score where window_start = %(window_start)s limit 1)"
ONE_FACT = "(select ctid from analytics.fct_orders where window_start = %(window_start)s limit 1)"
ONE_CURRENT_TOUCHED = (
    "(select d.ctid from analytics.dim_customers as d join staging.stg_customers as s using (customer_id)"
    " where s.window_start = %(window_start)s and d.is_current limit 1)"
)

# check name -> statements that plant exactly its defect in the window
PLANTS = {
    "stg_customers__customer_id_unique": [
        "insert into staging.stg_customers select * from staging.stg_customers"
        " where window_start = %(window_start)s limit 1"
    ],
    "stg_customers__customer_id_not_null": [
        "alter table staging.stg_customers alter column customer_id drop not null",
        f"update staging.stg_customers set customer_id = null where ctid = {ONE_STG_CUSTOMER}",
    ],
    "stg_customers__state_code_known": [
        f"update staging.stg_customers set state_code = 'XX' where ctid = {ONE_STG_CUSTOMER}"
    ],
    "stg_customer_risk_score__customer_id_unique": [
        "insert into staging.stg_customer_risk_score select * from staging.stg_customer_risk_score"
        " where window_start = %(window_start)s limit 1"
    ],
    "stg_customer_risk_score__customer_id_not_null": [
        "alter table staging.stg_customer_risk_score alter column customer_id drop not null",
        f"update staging.stg_customer_risk_score set customer_id = null where ctid = {ONE_STG_SCORE}",
    ],
    "stg_customer_risk_score__risk_score_in_range": [
        f"update staging.stg_customer_risk_score set risk_score = 150 where ctid = {ONE_STG_SCORE}"
    ],
    "fct_orders__keys_not_null": [
        "alter table analytics.fct_orders alter column customer_key drop not null",
        f"update analytics.fct_orders set customer_key = null where ctid = {ONE_FACT}",
    ],
    "fct_orders__customer_key_in_dim_customers": [
        f"update analytics.fct_orders set customer_key = gen_random_uuid() where ctid = {ONE_FACT}"
    ],
    "fct_orders__reconciles_with_loaded_orders": [f"delete from analytics.fct_orders where ctid = {ONE_FACT}"],
    "fct_orders__orders_superseded_by_other_windows": [
        # the order's fact as if a later window had re-sent it (fct_orders is not partitioned)
        f"update analytics.fct_orders set window_start = window_start + interval '5 minutes' where ctid = {ONE_FACT}"
    ],
    "dim_customers__customer_key_unique": [
        "alter table analytics.dim_customers drop constraint dim_customers_pkey",
        f"insert into analytics.dim_customers select * from analytics.dim_customers where ctid = {ONE_CURRENT_TOUCHED}",
    ],
    "dim_customers__one_current_version": [
        f"update analytics.dim_customers set is_current = false where ctid = {ONE_CURRENT_TOUCHED}"
    ],
    "dim_customers__versions_do_not_overlap": [
        "insert into analytics.dim_customers select gen_random_uuid(), customer_id, first_name, last_name,"
        " state_code, state_name, risk_score, valid_from + interval '1 second', valid_to, false"
        f" from analytics.dim_customers where ctid = {ONE_CURRENT_TOUCHED}"
    ],
}


@pytest.fixture
def audited_window(pipeline):
    window = pipeline.window(0)
    pipeline.generate(window, customers=10, orders=40)
    assert run_windows(window).name == "SUCCESS"
    return window


def test_every_check_has_a_planted_defect():
    assert set(PLANTS) == set(checks.discover())


def test_a_clean_window_passes_every_check_and_records_it(pipeline, audited_window):
    recorded = query(
        pipeline.warehouse_url,
        "select check_name, status from storepipe.check_results where window_start = %s",
        (audited_window.start,),
    )
    assert dict(recorded) == {name: "pass" for name in checks.discover()}


@pytest.mark.parametrize("check_name", sorted(PLANTS))
def test_check_catches_its_planted_defect(pipeline, audited_window, check_name):
    conn = psycopg2.connect(pipeline.warehouse_url)
    try:
        with conn.cursor() as cur:
            for statement in PLANTS[check_name]:
                cur.execute(statement, audited_window.sql_params())
                assert cur.rowcount != 0, f"the plant did nothing: {statement}"
            results = {r.check.name: r for r in checks.run(cur, audited_window)}
    finally:
        conn.rollback()
        conn.close()
    caught = results[check_name]
    expected = "fail" if caught.check.severity == "error" else "warn"
    assert caught.status == expected and caught.failing_rows >= 1 and caught.samples


def test_fct_orders_grain_is_enforced_by_the_warehouse(pipeline, audited_window):
    """One row per order_id: a second copy of an order is refused outright (no check needs to find it)."""
    with pytest.raises(psycopg2.errors.UniqueViolation, match="fct_orders_order_id_key"):
        query(
            pipeline.warehouse_url,
            "insert into analytics.fct_orders select * from analytics.fct_orders where window_start = %s limit 1",
            (audited_window.start,),
        )


def test_reconciles_counts_distinct_orders_when_one_was_loaded_twice(pipeline, audited_window):
    """More loaded rows than facts (an order re-sent within the window) is no defect: the distinct
    orders decide, and a fact lost beside the repeat is still found and named."""
    conn = psycopg2.connect(pipeline.warehouse_url)
    name = "fct_orders__reconciles_with_loaded_orders"
    try:
        with conn.cursor() as cur:
            cur.execute(
                "insert into store.orders select * from store.orders where window_start = %(window_start)s limit 1",
                audited_window.sql_params(),
            )
            assert {r.check.name: r for r in checks.run(cur, audited_window)}[name].status == "pass"
            cur.execute(
                f"delete from analytics.fct_orders where ctid = {ONE_FACT} returning order_id::text",
                audited_window.sql_params(),
            )
            [(lost,)] = cur.fetchall()
            caught = {r.check.name: r for r in checks.run(cur, audited_window)}[name]
    finally:
        conn.rollback()
        conn.close()
    assert caught.status == "fail" and caught.failing_rows == 1 and lost in caught.samples[0]
