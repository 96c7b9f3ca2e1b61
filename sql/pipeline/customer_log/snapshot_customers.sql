-- snapshot_customers: every customer as of the slot's snapshot; grain customer_id. All columns,
-- whatever they are now: the reader describes them from the catalog, as the log's Relation does.
select *  -- noqa: AM04
from customers
order by customer_id
