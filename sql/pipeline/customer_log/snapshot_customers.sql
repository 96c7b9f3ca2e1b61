-- snapshot_customers: every customer as of the slot's snapshot; grain customer_id. All columns,
-- whatever they are now: the reader describes them from the catalog, as the log's Relation does.
-- In window order (a row's window is its datetime_updated's), so the capture lands one window at a time.
select *  -- noqa: AM04
from customers
order by datetime_updated, customer_id
