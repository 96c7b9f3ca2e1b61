-- stg_orders: every order has an order_id and a customer_id.
-- severity: error
select *
from staging.stg_orders
where
    window_start = %(window_start)s
    and (order_id is null or customer_id is null)
