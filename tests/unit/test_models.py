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
