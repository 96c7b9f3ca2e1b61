-- customer_pool: a deterministic sample of customers created before the batch, to update
-- and to place orders for; grain customer_id. Shuffled by a hash of the batch tag, so a
-- re-run picks the same ones without reading the whole table.
select
    customer_id,
    datetime_created,
    datetime_updated
from customers
where datetime_created < %(created_before)s
order by md5(customer_id::text || ':' || %(tag)s), customer_id
limit %(pool_size)s
