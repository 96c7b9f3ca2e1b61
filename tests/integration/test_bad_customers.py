"""Odd customers in the source DB load as they are and are flagged in quarantine; nothing crashes."""

import datetime as dt

import luigi

from tests.helpers import query, run_windows

FIRST_FREE_ID = 2_000_000_001  # the data generator's ids stop at 2_000_000_000


def test_null_names_unknown_states_and_backwards_times_are_flagged_and_loaded(pipeline):
    window = pipeline.window(0)
    pipeline.generate(window, customers=4, orders=10)
    base = FIRST_FREE_ID + int((window.start - dt.datetime(2024, 1, 1)).total_seconds() // 60) % 100_000_000
    at = window.start + dt.timedelta(minutes=2)
    odd = {  # planted as the source's admin (the pipeline itself only reads the source)
        base: (None, None, "SP", at, at),
        base + 1: ("Ana", "  ", "XX", at, at),
        base + 2: ("Bia", "Souza", "rj", at + dt.timedelta(days=1), at),
        base + 3: ("Caio", "Lima", None, at, at),
    }
    for customer_id, (first, last, state, created, updated) in odd.items():
        query(
            pipeline.env["SOURCE_DB_ADMIN_URL"],
            "insert into customers values (%s, %s, %s, %s, %s, %s)",
            (customer_id, first, last, state, created, updated),
        )

    assert run_windows(window) == luigi.LuigiStatusCode.SUCCESS
    url = pipeline.warehouse_url
    loaded = {
        r[0] for r in query(url, "select customer_id from store.customers where window_start = %s", (window.start,))
    }
    assert set(odd) <= loaded, "every odd customer still loads"
    flags = {
        int(location.split("customer_id=")[1].split()[0]): (reason, action)
        for location, reason, action in query(
            url,
            "select location, reason, action from storepipe.quarantine"
            " where source = 'customers' and window_start = %s",
            (window.start,),
        )
    }
    assert set(flags) == set(odd), "only the odd ones are flagged"
    assert all(action == "flagged" for _, action in flags.values())
    assert "first_name is NULL or blank; last_name is NULL or blank" in flags[base][0]
    assert "last_name is NULL or blank" in flags[base + 1][0] and "state_code 'XX'" in flags[base + 1][0]
    assert "datetime_updated" in flags[base + 2][0] and "is before datetime_created" in flags[base + 2][0]
    assert "state_code None" in flags[base + 3][0]
    assert "state_code" not in flags[base + 2][0], "a lowercase known code is fine: staging upper-cases it"

    current = dict(
        (r[0], r[1:])
        for r in query(url, "select customer_id, state_code, state_name from analytics.dim_customers where is_current")
    )
    assert current[base + 1] == ("XX", None) and current[base + 2] == ("RJ", "Rio de Janeiro")
