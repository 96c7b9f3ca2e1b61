"""The transform graph is read from the SQL files themselves; bad graphs are refused in one line."""

import shutil

import pytest

from storepipe import sqlfiles
from storepipe.errors import ModelError
from storepipe.transform import models


@pytest.fixture
def sql_dir(tmp_path, monkeypatch):
    root = tmp_path / "sql"
    shutil.copytree(sqlfiles.root(), root)
    monkeypatch.setenv("STOREPIPE_SQL_DIR", str(root))
    models.discover.cache_clear()
    yield root
    models.discover.cache_clear()


def test_shipped_models_in_dependency_order():
    order = list(models.discover())
    assert set(order) == {
        "stg_customers",
        "stg_orders",
        "stg_customer_risk_score",
        "dim_customers",
        "fct_orders",
    }
    assert order.index("dim_customers") > order.index("stg_customers")
    assert order.index("fct_orders") > order.index("dim_customers")
    assert order.index("fct_orders") > order.index("stg_orders")


def test_dependencies_come_from_the_relations_a_model_reads():
    fct = models.get("fct_orders")
    assert fct.upstream == ("dim_customers", "stg_customers", "stg_orders")
    assert models.get("stg_orders").loads == ("orders",)
    assert models.get("dim_customers").strategy == "by_key"
    assert models.get("dim_customers").key == "customer_id"
    assert fct.schema == "analytics" and models.get("stg_orders").schema == "staging"


def test_an_ephemeral_model_is_inlined_where_it_is_read_and_its_loads_go_with_it():
    fct = models.get("fct_orders")
    stg = models.get("stg_orders")
    assert stg.ephemeral and stg.loads == ("orders",)
    # fct_orders reads stg_orders's SELECT, so it needs the orders load, not a stg_orders task
    assert "orders" in fct.loads
    assert models.needs(fct) == ["dim_customers", "stg_customers"]
    assert "staging.stg_orders" not in fct.sql.replace(fct.text, "")
    assert stg.sql.strip() in fct.sql
    assert [m.name for m in models.built()] == [m for m in models.discover() if m != "stg_orders"]


def test_inlining_keeps_an_alias_and_leaves_comments_and_strings_alone():
    stg = models.get("stg_orders")
    text = (
        "-- reads staging.stg_orders\n"
        "select 'staging.stg_orders' as label, s.order_id from staging.stg_orders as s\n"
        "union all select 'x', stg_orders.order_id from staging.stg_orders"
    )
    inlined = models.inline(text, [stg])
    assert inlined.startswith("-- reads staging.stg_orders\nselect 'staging.stg_orders' as label")
    assert f"from (\n{stg.sql.strip()}\n) as s\n" in inlined
    assert inlined.endswith(f"from (\n{stg.sql.strip()}\n) as stg_orders")


def test_only_a_staging_model_can_be_ephemeral(sql_dir):
    path = sql_dir / "transforms" / "marts" / "fct_orders.sql"
    path.write_text(path.read_text().replace("-- materialized: by_key order_id", "-- materialized: ephemeral"))
    models.discover.cache_clear()
    with pytest.raises(ModelError, match="only a staging model can be ephemeral"):
        models.discover()


def test_adding_a_model_is_adding_a_file(sql_dir):
    (sql_dir / "transforms" / "marts" / "fct_daily_sales.sql").write_text(
        "-- fct_daily_sales: orders per day; grain day\n-- materialized: window\n"
        "select window_start, count(*) as orders from analytics.fct_orders group by window_start\n"
    )
    models.discover.cache_clear()
    assert models.get("fct_daily_sales").upstream == ("fct_orders",)


def test_reference_to_unknown_model_is_refused_naming_the_file(sql_dir):
    bad = sql_dir / "transforms" / "marts" / "fct_bad.sql"
    bad.write_text("-- materialized: window\nselect * from staging.stg_nothing\n")
    with pytest.raises(ModelError) as caught:
        models.discover()
    assert "staging.stg_nothing" in str(caught.value) and "fct_bad.sql" in str(caught.value)


def test_cycle_is_refused(sql_dir):
    marts = sql_dir / "transforms" / "marts"
    (marts / "a_model.sql").write_text("-- materialized: window\nselect * from analytics.b_model\n")
    (marts / "b_model.sql").write_text("-- materialized: window\nselect * from analytics.a_model\n")
    with pytest.raises(ModelError, match="cycle"):
        models.discover()


def test_references_in_comments_do_not_count(sql_dir):
    (sql_dir / "transforms" / "marts" / "c_model.sql").write_text(
        "-- reads nothing from staging.stg_ghost\n-- materialized: window\nselect 1 as one\n"
    )
    models.discover.cache_clear()
    assert models.get("c_model").upstream == ()


def test_model_without_a_materialization_header_is_refused(sql_dir):
    (sql_dir / "transforms" / "staging" / "stg_plain.sql").write_text("select 1 as one\n")
    with pytest.raises(ModelError, match="materialized"):
        models.discover()


def test_only_a_by_key_model_may_read_its_own_table(sql_dir):
    marts = sql_dir / "transforms" / "marts"
    (marts / "d_model.sql").write_text("-- materialized: by_key one\nselect one from analytics.d_model\n")
    models.discover.cache_clear()
    assert models.get("d_model").upstream == ()  # staged before its delete: no cycle
    (marts / "e_model.sql").write_text("-- materialized: window\nselect window_start from analytics.e_model\n")
    models.discover.cache_clear()
    with pytest.raises(ModelError, match="reads its own output"):
        models.discover()
