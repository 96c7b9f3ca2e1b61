-- customer_pool: a deterministic sample of customers created before the window, to update
-- and to place orders for; grain customer_id. Shuffled by a hash of the window label so a
-- re-run picks the same ones without reading the whole table.
select
    customer_id,
    datetime_created,
    datetime_updated
from customers
where datetime_created < %(window_start)s
order by md5(customer_id::text || ':' || %(label)s), customer_id
limit %(limit)s
