-- fct_orders: the window's orders appear once in the whole fact table.
-- severity: error
with

window_orders as (
    select order_id from analytics.fct_orders
    where window_start = %(window_start)s
)

select
    fct_orders.order_id,
    count(*) as copies
from analytics.fct_orders
inner join window_orders on fct_orders.order_id = window_orders.order_id
group by fct_orders.order_id
having count(*) > 1
