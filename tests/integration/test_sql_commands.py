"""`storepipe sql list` and `storepipe sql show`: the graph and the exact SQL a task runs."""

from tests.helpers import query, run_windows, storepipe_cli


def test_sql_list_prints_models_in_dependency_order_with_their_task():
    result = storepipe_cli("sql", "list")
    assert result.returncode == 0, result.stderr
    names = [line.split()[0] for line in result.stdout.splitlines()]
    assert (
        names.index("analytics.fct_orders")
        > names.index("analytics.dim_customers")
        > names.index("staging.stg_customers")
    )
    assert "PublishMarts" in next(line for line in result.stdout.splitlines() if "fct_orders" in line)


def test_sql_show_prints_the_statements_a_task_runs_and_they_run(pipeline):
    window = pipeline.window(0)
    pipeline.generate(window, customers=4, orders=12)
    assert run_windows(window).name == "SUCCESS"
    result = storepipe_cli("sql", "show", "stg_orders", "--window", window.label)
    assert result.returncode == 0, result.stderr
    statements = [s.strip() for s in result.stdout.split(";\n") if s.strip()]
    # a window model: delete its slice, insert its SELECT straight
    assert len(statements) == 2
    assert f"'{window.start:%Y-%m-%dT%H:%M:%S}'::timestamp" in statements[0]
    assert 'insert into "staging"."stg_orders" ("order_id", "customer_id"' in statements[1]

    # replaying them by hand gives what the task gave
    before = query(
        pipeline.warehouse_url, "select count(*) from staging.stg_orders where window_start = %s", (window.start,)
    )
    query(pipeline.warehouse_url, ";\n".join(statements))
    after = query(
        pipeline.warehouse_url, "select count(*) from staging.stg_orders where window_start = %s", (window.start,)
    )
    assert before == after == [(12,)]


def test_sql_show_refuses_an_unknown_model_in_one_line():
    result = storepipe_cli("sql", "show", "fct_nothing", "--window", "2024-01-01T10:00")
    assert result.returncode != 0
    assert "no model named 'fct_nothing'" in result.stderr and "Traceback" not in result.stderr
