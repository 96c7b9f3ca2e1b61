"""Model fingerprints: whitespace and comments are no change, SQL is; a change reaches what reads it."""

import pytest

from storepipe.transform import versions
from tests.helpers import ModelFiles


@pytest.fixture
def files(tmp_path, monkeypatch):
    yield ModelFiles(tmp_path, monkeypatch)
    monkeypatch.undo()
    versions.forget()


def _fingerprints() -> dict[str, str]:
    return {node: v.fingerprint for node, v in versions.current().items()}


def test_comments_and_whitespace_are_no_change_but_a_string_is(files):
    before = _fingerprints()
    files.edit(
        "transforms/staging/stg_orders", "trim(item_name) as item_name", "trim(item_name)\n   as  item_name /* why */"
    )
    files.edit("transforms/staging/stg_orders", "with\n", "/* a block\ncomment */ with\n")
    assert _fingerprints() == before
    # a `--` inside a literal is text, not a comment
    assert versions.tokens("select '-- not a comment' as x -- a comment") == [
        "select",
        "'-- not a comment'",
        "as",
        "x",
    ]


def test_a_staging_change_reaches_its_downstream_only(files):
    before = _fingerprints()
    files.edit("transforms/staging/stg_orders", "trim(item_name) as item_name", "upper(trim(item_name)) as item_name")
    after = _fingerprints()
    changed = {node for node in before if before[node] != after[node]}
    assert changed == {"transform:stg_orders", "transform:fct_orders", "publish"}


def test_a_check_or_materialization_changes_publish_and_forward_only_is_a_comment(files):
    before = _fingerprints()
    files.edit("checks/stg_customers__customer_id_unique", "-- severity: error", "-- severity: warn")
    after = _fingerprints()
    assert {n for n in before if before[n] != after[n]} == {"check:stg_customers__customer_id_unique", "publish"}
    files.edit(
        "transforms/staging/stg_customers",
        "-- materialized: window",
        "-- changes: forward-only\n-- materialized: window",
    )
    current = versions.current()["transform:stg_customers"]
    assert current.fingerprint == after["transform:stg_customers"] and current.forward_only
    files.edit("transforms/marts/fct_orders", "-- materialized: by_key order_id", "-- materialized: by_key item_id")
    assert versions.current()["transform:fct_orders"].fingerprint != after["transform:fct_orders"]


def test_an_ephemeral_model_has_a_version_but_no_marker_and_its_checks_follow_it(files):
    """stg_orders runs inlined: a change to it reaches fct_orders and a check that reads it, and no
    window expects a `transform:stg_orders` marker."""
    files.write(
        "checks/stg_orders__item_name_trimmed",
        "-- stg_orders: names are trimmed.\n-- severity: warn\n"
        "select order_id from staging.stg_orders where item_name != trim(item_name)\n",
    )
    before = _fingerprints()
    assert "transform:stg_orders" in before
    assert "transform:stg_orders" not in versions.versioned_markers()
    assert "transform:fct_orders" in versions.versioned_markers()
    files.edit("transforms/staging/stg_orders", "trim(item_name) as item_name", "upper(trim(item_name)) as item_name")
    after = _fingerprints()
    assert {n for n in before if before[n] != after[n]} == {
        "transform:stg_orders",
        "transform:fct_orders",
        "check:stg_orders__item_name_trimmed",
        "publish",
    }


def test_the_normalized_text_keeps_lines_for_a_readable_diff():
    text = "-- header\nselect  a,\n    b   -- note\nfrom t\n\n/* gone */\n"
    assert versions.normalized(text) == "select a ,\nb\nfrom t"
