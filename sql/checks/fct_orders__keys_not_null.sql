-- fct_orders: order_id, customer_key and customer_id are never null.
-- severity: error
select *
from analytics.fct_orders
where
    window_start = %(window_start)s
    and (order_id is null or customer_key is null or customer_id is null)
