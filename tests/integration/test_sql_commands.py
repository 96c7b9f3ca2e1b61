"""`storepipe sql list` and `storepipe sql show`: the graph and the exact SQL a task runs."""

from tests.helpers import luigi_cli, query, run_windows, storepipe_cli


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
    assert "ephemeral (inlined)" in next(line for line in result.stdout.splitlines() if "stg_orders" in line)


def _shown(model: str, window) -> list[str]:
    result = storepipe_cli("sql", "show", model, "--window", window.label)
    assert result.returncode == 0, result.stderr
    return [s.strip() for s in result.stdout.split(";\n") if s.strip()]


def _rows(url: str, table: str, window) -> list[tuple]:
    return query(url, f"select count(*) from {table} where window_start = %s", (window.start,))


def test_sql_show_prints_the_statements_a_task_runs_and_they_run(pipeline):
    window = pipeline.window(0)
    pipeline.generate(window, customers=4, orders=12)
    assert run_windows(window).name == "SUCCESS"
    url = pipeline.warehouse_url

    # a window model on a plain table: delete its slice, insert its SELECT straight
    statements = _shown("stg_customers", window)
    assert len(statements) == 2
    assert f"'{window.start:%Y-%m-%dT%H:%M:%S}'::timestamp" in statements[0]
    assert 'insert into "staging"."stg_customers" ("customer_id", "first_name"' in statements[1]

    # an ephemeral model runs nowhere on its own: it is shown inlined in the model that reads it
    refused = storepipe_cli("sql", "show", "stg_orders", "--window", window.label)
    assert refused.returncode != 0 and "Traceback" not in refused.stderr
    assert "stg_orders is ephemeral" in refused.stderr and "storepipe sql show fct_orders" in refused.stderr

    # a by_key model: stage its rows, delete their keys, insert them, free the staging table
    by_key = _shown("fct_orders", window)
    assert "\ncreate temporary table model_rows on commit drop as\n" in by_key[0]
    assert "from store.orders" in by_key[0] and "row_number() over" in by_key[0]  # stg_orders, inlined
    assert by_key[1].startswith("-- by_key") and by_key[-1].endswith("drop table model_rows")

    # replaying them by hand gives what the task gave
    before = _rows(url, "staging.stg_customers", window), _rows(url, "analytics.fct_orders", window)
    query(url, ";\n".join(statements + by_key))
    after = _rows(url, "staging.stg_customers", window), _rows(url, "analytics.fct_orders", window)
    assert before == after and before[1] == [(12,)]


def test_sql_show_refuses_an_unknown_model_in_one_line():
    result = storepipe_cli("sql", "show", "fct_nothing", "--window", "2024-01-01T10:00")
    assert result.returncode != 0
    assert "no model named 'fct_nothing'" in result.stderr and "Traceback" not in result.stderr


def test_a_model_without_a_task_of_its_own_is_refused_by_luigi_in_one_line(pipeline):
    """stg_orders is ephemeral and fct_orders a mart: neither has a TransformModel to run."""
    window = pipeline.window(0)
    for model, said in (("stg_orders", "stg_orders is ephemeral"), ("fct_orders", "fct_orders is a mart")):
        result = luigi_cli("TransformModel", "--model", model, "--window", window.label, "--local-scheduler")
        output = result.stdout + result.stderr
        assert result.returncode != 0, output
        assert said in output and "run PublishMarts or RunWindow" in output
        assert "Traceback" not in output
