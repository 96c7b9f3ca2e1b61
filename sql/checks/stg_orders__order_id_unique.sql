-- stg_orders: one row per order in the window.
-- severity: error
select
    order_id,
    count(*) as copies
from staging.stg_orders
where window_start = %(window_start)s
group by order_id
having count(*) > 1
